"""Engine faults in the window, against a private dockerd of the test's own: the banner says a frozen
engine (SIGSTOP) within seconds and goes when it thaws; a log view follows on after the engine was
killed and started again; a build on a frozen engine is cancelled at once, and shut down quietly."""

from __future__ import annotations

import os
import re
import signal
import time
import types

import docker
import pytest
from PySide6.QtWidgets import QLabel

from gui.engine import Engine, resolve_engine
from gui.engine.client import container_info
from gui.qt.shell import session as session_module
from tests.support.busybox import build_busybox

pytestmark = [pytest.mark.engine, pytest.mark.timeout(120)]

COUNTER = ["sh", "-c", "i=0; while true; do echo line $i; i=$((i+1)); sleep 0.1; done"]
SLOW_BUILD = 'FROM aics-test/busybox:latest\nRUN echo "step started" && sleep 30\n'


@pytest.fixture
def daemon(private_dockerd):
    """The private dockerd, started, with the busybox image; (daemon, docker-py client)."""
    private_dockerd.start()
    api = docker.APIClient(base_url=private_dockerd.url, version="auto", timeout=60)
    build_busybox(api)
    yield private_dockerd, api
    if private_dockerd.proc.poll() is None:
        private_dockerd.send_signal(signal.SIGCONT)
    api.close()


@pytest.fixture
def bugs(monkeypatch):
    """What reached the crash reporter (sys.excepthook) during the test."""
    seen: list = []
    monkeypatch.setattr("sys.excepthook", lambda *exc: seen.append(exc))
    return seen


@pytest.fixture
def open_window(qtbot, monkeypatch, tmp_path):
    from gui.app import create_window

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    windows = []

    def make(url: str):
        w = create_window(url)
        qtbot.addWidget(w)
        w.show()
        windows.append(w)
        qtbot.waitUntil(lambda: "Connected to" in w.findChild(QLabel, "engineStatus").text(), timeout=10000)
        return w

    yield make
    for w in windows:
        w.close()


def test_banner_says_a_frozen_engine_does_not_answer_and_goes_when_it_thaws(daemon, qtbot, open_window):
    d, api = daemon
    w = open_window(d.url)
    status = w.findChild(QLabel, "engineStatus")
    banner = w.findChild(QLabel, "engineBannerText")

    d.freeze()
    t0 = time.monotonic()
    qtbot.waitUntil(banner.isVisible, timeout=15000)
    said_in = time.monotonic() - t0
    assert said_in < (session_module.PING_INTERVAL_MS / 1000 + session_module.PING_TIMEOUT_S + 1.5), said_in
    assert f"The engine at {d.url} does not answer (frozen or overloaded)." in banner.text()
    assert "Not connected" in status.text()

    d.send_signal(signal.SIGCONT)
    qtbot.waitUntil(lambda: not banner.isVisible(), timeout=10000)
    assert "Connected to" in status.text()
    api.create_container("aics-test/busybox:latest", ["true"], name="after-the-thaw")
    qtbot.waitUntil(lambda: "after-the-thaw" in [c.name for c in w.containers_model.records()], timeout=3000)


def test_window_opened_on_a_frozen_engine_says_so_and_loads_when_it_thaws(daemon, qtbot, monkeypatch, tmp_path):
    from gui.app import create_window

    d, api = daemon
    api.create_container("aics-test/busybox:latest", ["true"], name="before-the-freeze")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    d.freeze()
    w = None
    try:
        t0 = time.monotonic()
        w = create_window(d.url)  # its first read waits on the frozen engine (each read 15 s before)
        qtbot.addWidget(w)
        w.show()
        status = w.findChild(QLabel, "engineStatus")
        banner = w.findChild(QLabel, "engineBannerText")
        # the connect check's ping (after 2 s, 3 s to answer) + 3 s for the window and a loaded machine; was 45 s
        within = session_module.CONNECT_CHECK_MS / 1000 + session_module.PING_TIMEOUT_S + 3.0
        qtbot.waitUntil(banner.isVisible, timeout=int(within * 1000) + 1000)
        assert time.monotonic() - t0 < within, time.monotonic() - t0
        assert f"The engine at {d.url} does not answer (frozen or overloaded)." in banner.text()
        assert "Not connected" in status.text() and not w.session.has_loaded
    finally:
        d.send_signal(signal.SIGCONT)
    qtbot.waitUntil(lambda: w.session.has_loaded, timeout=10000)
    assert not banner.isVisible() and "Connected to" in status.text()
    assert "aics-test/busybox:latest" in [i.reference for i in w.images_model.records()]
    assert "before-the-freeze" in [c.name for c in w.containers_model.records()]
    api.create_container("aics-test/busybox:latest", ["true"], name="after-the-thaw")  # and events follow
    qtbot.waitUntil(lambda: "after-the-thaw" in [c.name for c in w.containers_model.records()], timeout=3000)
    w.close()


def test_log_view_follows_on_after_the_engine_was_killed_and_is_back(daemon, qtbot, bugs):
    from gui.qt.containers.logs import LogsView

    d, api = daemon
    c = api.create_container("aics-test/busybox:latest", COUNTER, name="counter",
                             host_config=api.create_host_config(restart_policy={"Name": "always"}))
    api.start(c["Id"])
    engine = Engine(resolve_engine(d.url))
    view = LogsView(engine, container_info(api.containers(filters={"id": c["Id"]})[0]))
    qtbot.addWidget(view)
    qtbot.waitUntil(lambda: view.received >= 5, timeout=15000)

    d.crash()
    qtbot.waitUntil(lambda: d.url in view.state.text(), timeout=10000)
    assert view.error.isHidden(), "the view shows no error: it waits for the engine"
    received = view.received
    d.start()  # the restart policy starts the container again
    mark = re.compile(r"^──── engine unreachable from \d\d:\d\d:\d\d to \d\d:\d\d:\d\d ────$")
    qtbot.waitUntil(lambda: any(mark.match(t) for t in view.lines.texts), timeout=30000)
    qtbot.waitUntil(lambda: view.received >= received + 5, timeout=10000)
    at = next(i for i, t in enumerate(view.lines.texts) if mark.match(t))
    assert view.lines.texts[at + 1].startswith("line "), "lines follow on after the mark"
    stamps = [s for s in view.lines.stamps if s]
    assert stamps == sorted(set(stamps)), "no line shown twice, none out of order"
    assert view.state.text() == "Following…"
    view.stop()
    api.remove_container(c["Id"], force=True)
    engine.close()
    assert bugs == []


def test_log_view_says_a_frozen_engine_and_follows_on_when_it_thaws(daemon, qtbot, bugs):
    from gui.qt.containers.logs import LogsView

    d, api = daemon
    c = api.create_container("aics-test/busybox:latest", COUNTER, name="counter")
    api.start(c["Id"])
    engine = Engine(resolve_engine(d.url))
    view = LogsView(engine, container_info(api.containers(filters={"id": c["Id"]})[0]))
    qtbot.addWidget(view)
    qtbot.waitUntil(lambda: view.received >= 5, timeout=15000)
    d.freeze()
    try:
        qtbot.waitUntil(lambda: "stopped answering" in view.state.text(), timeout=20000)
        assert view.state.text() == (f"Docker Engine at {d.url} stopped answering: no log line for 10 s and the "
                                     "engine did not answer a ping (frozen or overloaded?).")
        assert view.error.isHidden(), "the view shows no error: it waits for the engine"
        received = view.received
        d.send_signal(signal.SIGCONT)
        mark = re.compile(r"^──── engine unreachable from \d\d:\d\d:\d\d to \d\d:\d\d:\d\d ────$")
        qtbot.waitUntil(lambda: any(mark.match(t) for t in view.lines.texts), timeout=30000)
        qtbot.waitUntil(lambda: view.received >= received + 5, timeout=10000)
        stamps = [s for s in view.lines.stamps if s]
        assert stamps == sorted(set(stamps)), "no line shown twice, none out of order"
        assert view.state.text() == "Following…"
    finally:
        d.send_signal(signal.SIGCONT)
    view.stop()
    api.remove_container(c["Id"], force=True)
    engine.close()
    assert bugs == []


def runner_on(d, tag: str, qtbot):
    """A BuildRunner of a slow Dockerfile on the private dockerd, started; returns once its step runs."""
    from gui.builder import get_template
    from gui.qt.build.runner import BuildRunner

    t = get_template("sklearn-regression")
    session = types.SimpleNamespace(engine=Engine(resolve_engine(d.url)))
    runner = BuildRunner(session, t, t.defaults(), SLOW_BUILD, tag)
    seen: list = []
    runner.lines.connect(seen.extend)
    runner.start()
    qtbot.waitUntil(lambda: any(line.text == "step started" for line in seen), timeout=20000)
    runner.step_container = next(line.container_id for line in seen if line.container_id)
    return runner


def test_build_on_a_frozen_engine_cancels_at_once_and_shuts_down_quietly(daemon, qtbot, bugs):
    d, api = daemon
    runner = runner_on(d, "faults/ui:1", qtbot)
    d.freeze()
    t0 = time.monotonic()
    with qtbot.waitSignal(runner.finished, timeout=8000) as outcome:
        runner.cancel()
    assert time.monotonic() - t0 < 6.0
    assert outcome.args[0].status == "cancelled"

    d.send_signal(signal.SIGCONT)
    other = runner_on(d, "faults/ui:2", qtbot)
    d.freeze()
    t0 = time.monotonic()
    other.shutdown()
    qtbot.waitUntil(lambda: not os.path.exists(other.folder), timeout=8000)  # its cancel returned
    assert time.monotonic() - t0 < 6.0
    d.send_signal(signal.SIGCONT)

    from gui.builder import get_template
    from gui.qt.build.runner import BuildRunner

    d.freeze()  # frozen before the build starts
    t = get_template("sklearn-regression")
    late = BuildRunner(types.SimpleNamespace(engine=Engine(resolve_engine(d.url))), t, t.defaults(), SLOW_BUILD,
                       "faults/ui:4")
    with qtbot.waitSignal(late.finished, timeout=8000) as outcome:
        late.start()
    assert outcome.args[0].status == "failed"
    assert "does not answer (frozen or overloaded?)" in outcome.args[0].error
    d.send_signal(signal.SIGCONT)
    assert bugs == []


def test_build_killed_with_the_engine_fails_in_words_and_the_window_removes_its_container(daemon, qtbot,
                                                                                         open_window, bugs):
    d, api = daemon
    w = open_window(d.url)
    runner = runner_on(d, "faults/ui:3", qtbot)
    with qtbot.waitSignal(runner.finished, timeout=10000) as outcome:
        d.crash()
    assert outcome.args[0].status == "failed"
    assert outcome.args[0].error == f"Docker Engine at {d.url} went away in the middle of an answer: did it stop or crash?"
    d.start()
    qtbot.waitUntil(lambda: "Connected to" in w.findChild(QLabel, "engineStatus").text(), timeout=15000)
    qtbot.waitUntil(lambda: not api.containers(all=True, filters={"id": runner.step_container}), timeout=10000)
    assert bugs == []


# -- the stats view, the exec dialog and a build frozen while its context is sent ----------------------

def sleeper_on(d, api):
    """(engine of the private dockerd, ContainerInfo of a running sleeper on it)."""
    from tests.support.busybox import SLEEPER

    c = api.create_container("aics-test/busybox:latest", list(SLEEPER))
    api.start(c["Id"])
    return Engine(resolve_engine(d.url)), container_info(api.containers(filters={"id": c["Id"]})[0])


def test_stats_view_says_a_frozen_engine_follows_on_when_it_thaws_and_closes_at_once(daemon, qtbot, bugs):
    from gui.qt.containers.stats import StatsView

    d, api = daemon
    engine, c = sleeper_on(d, api)
    view = StatsView(engine, c)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitUntil(lambda: len(view.samples) >= 2, timeout=15000)
    try:
        d.freeze()
        qtbot.waitUntil(lambda: "stopped answering" in view.state.text(), timeout=15000)
        assert view.state.text() == (f"Docker Engine at {d.url} stopped answering: no sample for 5 s and the "
                                     "engine did not answer a ping (frozen or overloaded?).")
        assert view.error.isHidden()
        seen = len(view.samples)
        d.send_signal(signal.SIGCONT)
        qtbot.waitUntil(lambda: len(view.samples) >= seen + 2, timeout=20000)  # it opened the stream again
        assert view.state.text() == f"Live: {c.name}"

        d.freeze()
        worker = view.worker
        t0 = time.monotonic()
        view.close()
        # at once against the frozen engine (for ever); a second leaves room for a loaded machine
        assert time.monotonic() - t0 < 1.0, "closing the view waits on the frozen engine"
        qtbot.waitUntil(lambda: not worker.is_alive(), timeout=5000)
    finally:
        d.send_signal(signal.SIGCONT)
    api.remove_container(c.id, force=True)
    engine.close()
    assert bugs == []


def test_stats_view_follows_on_after_the_engine_was_killed_and_is_back(daemon, qtbot, bugs):
    from gui.qt.containers.stats import StatsView
    from tests.support.busybox import SLEEPER

    d, api = daemon
    c = api.create_container("aics-test/busybox:latest", list(SLEEPER),
                             host_config=api.create_host_config(restart_policy={"Name": "always"}))
    api.start(c["Id"])
    engine = Engine(resolve_engine(d.url))
    view = StatsView(engine, container_info(api.containers(filters={"id": c["Id"]})[0]))
    qtbot.addWidget(view)
    view.show()
    qtbot.waitUntil(lambda: len(view.samples) >= 2, timeout=15000)
    d.crash()
    qtbot.waitUntil(lambda: d.url in view.state.text(), timeout=10000)
    assert view.engine_away and view.error.isHidden(), "the view shows no error: it waits for the engine"
    seen = len(view.samples)
    d.start()  # the restart policy starts the container again
    qtbot.waitUntil(lambda: len(view.samples) >= seen + 2, timeout=30000)
    assert view.state.text().startswith("Live: ") and not view.engine_away
    view.close()
    api.remove_container(c["Id"], force=True)
    engine.close()
    assert bugs == []


def test_exec_dialog_says_a_frozen_engine_runs_again_when_it_thaws_and_closes_at_once(daemon, qtbot, bugs):
    from gui.qt.containers.exec_dialog import ExecDialog

    d, api = daemon
    engine, c = sleeper_on(d, api)
    dlg = ExecDialog(engine, c)
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.command.setText("sh -c 'echo started; sleep 60'")
    dlg.run()
    qtbot.waitUntil(lambda: "started" in dlg.output.toPlainText(), timeout=10000)
    try:
        d.freeze()
        qtbot.waitUntil(dlg.error.isVisible, timeout=20000)
        assert dlg.error.text() == (
            f"Docker Engine at {d.url} stopped answering: the command printed nothing for 10 s and the engine "
            "did not answer a ping (frozen or overloaded?). The command may still run in the container.")
        assert dlg.status.text() == "Failed"
        # Run comes back with the worker's `finished`, queued just after its `failed`
        qtbot.waitUntil(dlg.run_btn.isEnabled, timeout=2000)
        d.send_signal(signal.SIGCONT)
        dlg.command.setText("echo back")
        dlg.run()
        assert dlg.status.text() == "Running echo back…", "Run did nothing"
        # a thawed engine may be slow to serve; an exec that hangs would take for ever (a failure says so)
        qtbot.waitUntil(lambda: dlg.exit_code is not None or dlg.error.isVisible(), timeout=30000)
        assert dlg.error.isHidden(), dlg.error.text()
        assert dlg.exit_code == 0 and dlg.output.toPlainText() == "back\n"

        # the exit code comes before the run's `finished`: Run does nothing until then (its button is off)
        qtbot.waitUntil(dlg.run_btn.isEnabled, timeout=10000)
        dlg.command.setText("sh -c 'echo started; sleep 60'")
        dlg.run()
        assert dlg.status.text().startswith("Running sh -c"), "Run did nothing"
        qtbot.waitUntil(lambda: "started" in dlg.output.toPlainText(), timeout=10000)
        d.freeze()
        worker = dlg.worker
        t0 = time.monotonic()
        dlg.close()
        assert time.monotonic() - t0 < 1.0, "closing the dialog waits on the frozen engine"
        qtbot.waitUntil(lambda: not worker.is_alive(), timeout=5000)
    finally:
        d.send_signal(signal.SIGCONT)
    api.remove_container(c.id, force=True)
    engine.close()
    assert bugs == []


def test_exec_dialog_runs_a_command_while_the_last_run_s_thread_still_ends(daemon, qtbot, monkeypatch, bugs):
    """Run is enabled again when the last run's `finished` arrives; its thread may still be ending then (on
    a loaded machine it was, after a run that failed on a frozen engine): a Run in that moment runs."""
    import threading

    from PySide6.QtCore import Qt

    from gui.engine.exec import ExecRun
    from gui.qt.containers import exec_dialog

    d, api = daemon
    engine, c = sleeper_on(d, api)
    go, hold = threading.Event(), threading.Event()

    class Gated(ExecRun):  # the real run, once the test has hooked its worker
        def __iter__(self):
            go.wait(30)
            yield from super().__iter__()

    monkeypatch.setattr(exec_dialog, "ExecRun", Gated)
    dlg = exec_dialog.ExecDialog(engine, c)
    qtbot.addWidget(dlg)
    dlg.show()
    try:
        dlg.command.setText("echo first")
        dlg.run()
        first = dlg.worker
        # its thread stays in `finished` after it posted the dialog's slot (as a descheduled thread would)
        first.finished.connect(lambda: hold.wait(30), Qt.ConnectionType.DirectConnection)
        go.set()
        qtbot.waitUntil(lambda: dlg.exit_code == 0 and dlg.run_btn.isEnabled(), timeout=30000)
        assert first.is_alive() and dlg.output.toPlainText() == "first\n"
        dlg.command.setText("echo second")
        dlg.run()
        assert dlg.worker is not first and dlg.status.text() == "Running echo second…", "Run did nothing"
        hold.set()
        qtbot.waitUntil(lambda: dlg.exit_code is not None or dlg.error.isVisible(), timeout=30000)
        assert dlg.error.isHidden(), dlg.error.text()
        assert dlg.exit_code == 0 and dlg.output.toPlainText() == "second\n"
    finally:
        go.set()
        hold.set()
    dlg.close()
    api.remove_container(c.id, force=True)
    engine.close()
    assert bugs == []


def test_build_frozen_while_its_context_is_sent_fails_in_words_or_cancels_at_once(daemon, qtbot, bugs):
    from glob import glob

    from gui.builder import get_template
    from gui.qt.build.runner import BuildRunner

    d, api = daemon
    t = get_template("sklearn-regression")
    pattern = os.path.join(d.root, "data", "tmp", "docker-builder*")

    def frozen_mid_upload(tag: str) -> BuildRunner:
        runner = BuildRunner(types.SimpleNamespace(engine=Engine(resolve_engine(d.url))), t, t.defaults(),
                             SLOW_BUILD, tag)
        with open(os.path.join(runner.folder, "big.bin"), "wb") as fh:  # the context: tens of MB
            fh.write(os.urandom(48 << 20))
        runner.start()
        qtbot.waitUntil(lambda: bool(glob(pattern)), timeout=20000)
        d.freeze()
        big = os.path.join(glob(pattern)[0], "big.bin")
        assert (os.path.getsize(big) if os.path.exists(big) else 0) < 48 << 20, "sent before the freeze"
        return runner

    try:
        runner = frozen_mid_upload("faults/ui-upload:1")
        with qtbot.waitSignal(runner.finished, timeout=20000) as outcome:
            pass
        assert outcome.args[0].status == "failed"
        assert outcome.args[0].error == (f"Docker Engine at {d.url} stopped answering while the build context was "
                                         "being sent: it took nothing for 10 s (frozen or overloaded?).")
        d.send_signal(signal.SIGCONT)
        qtbot.waitUntil(lambda: not glob(pattern), timeout=10000)  # the engine dropped the half-sent context

        runner = frozen_mid_upload("faults/ui-upload:2")
        t0 = time.monotonic()
        with qtbot.waitSignal(runner.finished, timeout=8000) as outcome:
            runner.cancel()
        assert outcome.args[0].status == "cancelled" and time.monotonic() - t0 < 6.0
        assert runner._ended.wait(5), "the build's stream still waits on the frozen engine"
    finally:
        d.send_signal(signal.SIGCONT)
    assert bugs == []
