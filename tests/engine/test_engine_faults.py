"""Engine faults against a private dockerd of the test's own: frozen (SIGSTOP) and killed (SIGKILL, then
started again on the same data root) in the middle of a build (also while its context is sent), a log
follow, a stats follow or an exec."""

from __future__ import annotations

import glob
import os
import queue
import signal
import threading
import time

import docker
import pytest

from gui.engine import Engine, EngineError, resolve_engine
from gui.engine.build import ImageBuild, leftover_containers, remove_leftovers
from gui.engine.exec import ExecExit, ExecOutput, ExecRun
from gui.engine.logs import LogBatch, LogEnded, LogFollower
from gui.engine.stats import StatsEnded, StatsFollower, StatsSample
from tests.support.busybox import SLEEPER, build_busybox
from tests.support.waits import wait_until

pytestmark = [pytest.mark.engine, pytest.mark.timeout(120)]

SLOW_STEP = 'RUN echo "step started" && sleep 30\n'
COUNTER = ["sh", "-c", "i=0; while true; do echo line $i; i=$((i+1)); sleep 0.1; done"]


@pytest.fixture
def daemon(private_dockerd):
    """The private dockerd, started, with the busybox image; (daemon, docker-py client, app engine)."""
    private_dockerd.start()
    api = docker.APIClient(base_url=private_dockerd.url, version="auto", timeout=60)
    build_busybox(api)
    engine = Engine(resolve_engine(private_dockerd.url))
    yield private_dockerd, api, engine
    if private_dockerd.proc.poll() is None:
        private_dockerd.send_signal(signal.SIGCONT)
    engine.close()
    api.close()


class Drain:
    """Iterate a stream on a thread: its items on a queue, then the exception it ended with (or None)."""

    def __init__(self, stream):
        self.items: queue.Queue = queue.Queue()
        self.error: BaseException | None = None
        self.ended = threading.Event()
        threading.Thread(target=self._run, args=(stream,), daemon=True).start()

    def _run(self, stream) -> None:
        try:
            for item in stream:
                self.items.put(item)
        except BaseException as exc:  # noqa: BLE001 - the test looks at it
            self.error = exc
        finally:
            self.ended.set()

    def wait_for(self, pred, timeout: float = 20.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                item = self.items.get(timeout=0.05)
            except queue.Empty:
                if self.ended.is_set() and self.items.empty():
                    break
                continue
            if pred(item):
                return item
        raise AssertionError(f"no such item (the stream ended with {self.error!r})")


def slow_build(tmp_path, engine: Engine, tag: str, **kwargs) -> tuple[ImageBuild, Drain, str]:
    """A build whose second step runs for 30 s; returns once that step's container runs, with its id."""
    (tmp_path / "Dockerfile").write_text(f"FROM aics-test/busybox:latest\n{SLOW_STEP}")
    build = ImageBuild(engine, tmp_path, tag, **kwargs)
    drain = Drain(build)
    running = drain.wait_for(lambda line: bool(line.container_id))
    drain.wait_for(lambda line: line.text == "step started")
    return build, drain, running.container_id


def test_ping_tells_a_frozen_engine_within_its_timeout(daemon):
    d, _api, engine = daemon
    assert engine.ping(timeout=1.0)
    d.freeze()
    t0 = time.monotonic()
    with pytest.raises(EngineError) as info:
        engine.ping(timeout=1.0)
    assert time.monotonic() - t0 < 2.0
    assert info.value.kind == "timeout"
    d.send_signal(signal.SIGCONT)
    assert engine.ping(timeout=1.0)


def test_build_on_a_frozen_engine_ends_in_words(daemon, tmp_path):
    d, api, engine = daemon
    build, drain, cid = slow_build(tmp_path, engine, "faults/frozen:1", idle_timeout=1.0)
    d.freeze()
    t0 = time.monotonic()
    assert drain.ended.wait(10), "the build stream stays silent on a frozen engine"
    assert time.monotonic() - t0 < 1.0 + 3.0 + 2.0  # idle timeout + ping timeout + slack
    assert isinstance(drain.error, EngineError) and drain.error.kind == "timeout", drain.error
    assert str(drain.error) == (
        f"Docker Engine at {d.url} stopped answering: the build printed nothing for 1 s and the engine "
        "did not answer a ping (frozen or overloaded?).")
    t0 = time.monotonic()
    assert build.cancel() is False, "a frozen engine cannot confirm the stop"
    assert time.monotonic() - t0 < 5.0
    assert cid in leftover_containers(d.url)
    d.send_signal(signal.SIGCONT)
    remove_leftovers(engine)
    wait_until(lambda: not api.containers(all=True, filters={"id": cid}), 15, "the build container's removal")
    assert not leftover_containers(d.url)


def test_build_sent_to_a_frozen_engine_does_not_wait_for_ever(daemon, tmp_path):
    d, _api, engine = daemon
    (tmp_path / "Dockerfile").write_text(f"FROM aics-test/busybox:latest\n{SLOW_STEP}")
    d.freeze()
    drain = Drain(ImageBuild(engine, tmp_path, "faults/frozen:2"))
    assert drain.ended.wait(6), "the build waits on the frozen engine"
    assert isinstance(drain.error, EngineError) and drain.error.kind == "timeout", drain.error
    assert str(drain.error) == (f"Docker Engine at {d.url} does not answer (frozen or overloaded?): "
                                "the build did not start.")


def test_quiet_step_of_a_live_engine_goes_on(daemon, tmp_path):
    _d, _api, engine = daemon
    (tmp_path / "Dockerfile").write_text("FROM aics-test/busybox:latest\nRUN sleep 3\n")
    build = ImageBuild(engine, tmp_path, "faults/quiet:1", idle_timeout=0.5)
    lines = list(build)
    assert lines[-1].done and build.image_id


def test_cancel_on_a_frozen_engine_returns_at_once_and_never_raises(daemon, tmp_path):
    d, api, engine = daemon
    build, drain, cid = slow_build(tmp_path, engine, "faults/cancel:1")
    d.freeze()
    t0 = time.monotonic()
    assert build.cancel() is False
    assert time.monotonic() - t0 < 5.0, "cancel waits on the frozen engine"
    assert drain.ended.wait(5) and drain.error is None
    assert drain.items.queue[-1].cancelled
    d.send_signal(signal.SIGCONT)
    remove_leftovers(engine)  # the engine drops the build itself, or this removes its container
    wait_until(lambda: not api.containers(all=True, filters={"id": cid}), 15, "the build container's removal")
    build2 = ImageBuild(engine, tmp_path, "faults/cancel:2")
    drain2 = Drain(build2)
    drain2.wait_for(lambda line: bool(line.container_id))
    assert build2.cancel() is True, "a live engine confirms the stop"


def test_cancel_when_the_engine_freezes_just_after_answering_the_ping_returns_within_seconds(daemon, tmp_path,
                                                                                              monkeypatch):
    """cancel() pings first, then asks about the build's containers: an engine that freezes in between held
    each of those calls for the whole request timeout (15 s)."""
    d, api, engine = daemon
    build, drain, cid = slow_build(tmp_path, engine, "faults/cancel-late:1")
    ping = engine.ping

    def ping_then_freeze(*args, **kwargs):
        answer = ping(*args, **kwargs)
        d.freeze()
        return answer

    monkeypatch.setattr(engine, "ping", ping_then_freeze)
    t0 = time.monotonic()
    assert build.cancel() is False
    assert time.monotonic() - t0 < 6.0, "cancel waits on the engine that froze after the ping"
    assert drain.ended.wait(5) and drain.error is None
    d.send_signal(signal.SIGCONT)
    assert cid in leftover_containers(d.url)  # not confirmed gone: remembered for the clean-up
    remove_leftovers(engine)
    wait_until(lambda: not api.containers(all=True, filters={"id": cid}), 15, "the build container's removal")


def test_engine_killed_mid_build_went_away_and_its_container_is_removed_when_back(daemon, tmp_path):
    d, api, engine = daemon
    _build, drain, cid = slow_build(tmp_path, engine, "faults/killed:1")
    d.crash()
    assert drain.ended.wait(10)
    assert isinstance(drain.error, EngineError), drain.error
    assert drain.error.kind == "unreachable"
    assert str(drain.error) == (f"Docker Engine at {d.url} went away in the middle of an answer: "
                                "did it stop or crash?")
    assert cid in leftover_containers(d.url)
    assert remove_leftovers(engine) == [] and cid in leftover_containers(d.url), "kept while the engine is away"
    d.start()
    full = next(c["Id"] for c in api.containers(all=True) if c["Id"].startswith(cid))
    assert remove_leftovers(engine) == [cid]
    assert not api.containers(all=True, filters={"id": full})
    assert not leftover_containers(d.url)


def test_followed_log_ends_with_log_ended_when_the_engine_is_killed(daemon):
    d, api, engine = daemon
    c = api.create_container("aics-test/busybox:latest", COUNTER,
                             host_config=api.create_host_config(restart_policy={"Name": "always"}))
    api.start(c["Id"])
    drain = Drain(LogFollower(engine, c["Id"], tail=0))
    first = drain.wait_for(lambda item: isinstance(item, LogBatch) and len(item))
    d.crash()
    ended = drain.wait_for(lambda item: isinstance(item, LogEnded), timeout=10)
    assert drain.ended.wait(5) and drain.error is None, drain.error
    assert ended.engine_lost and ended.state == ""
    assert d.url in ended.message
    d.start()  # the restart policy starts the container again
    wait_until(lambda: api.inspect_container(c["Id"])["State"]["Running"], 20, "the container's restart")
    again = Drain(LogFollower(engine, c["Id"], after_stamp=first.stamps[-1]))
    batch = again.wait_for(lambda item: isinstance(item, LogBatch) and len(item))
    assert batch.stamps[0] > first.stamps[-1]
    api.remove_container(c["Id"], force=True)


def test_followed_log_on_a_frozen_engine_ends_in_words_and_a_quiet_one_goes_on(daemon):
    d, api, engine = daemon
    quiet = api.create_container("aics-test/busybox:latest", ["sh", "-c", "sleep 2; echo done; sleep 600"])
    api.start(quiet["Id"])
    drain = Drain(LogFollower(engine, quiet["Id"], tail=0, idle_timeout=0.5))
    done = drain.wait_for(lambda item: isinstance(item, LogBatch) and len(item))
    assert done.texts == ["done"], "a quiet log of a live engine goes on"
    c = api.create_container("aics-test/busybox:latest", COUNTER)
    api.start(c["Id"])
    drain = Drain(LogFollower(engine, c["Id"], tail=0, idle_timeout=1.0))
    drain.wait_for(lambda item: isinstance(item, LogBatch) and len(item))
    d.freeze()
    try:
        t0 = time.monotonic()
        ended = drain.wait_for(lambda item: isinstance(item, LogEnded), timeout=10)
        assert time.monotonic() - t0 < 1.0 + 3.0 + 2.0
        assert drain.ended.wait(2) and drain.error is None, drain.error
        assert ended.engine_lost and ended.message == (
            f"Docker Engine at {d.url} stopped answering: no log line for 1 s and the engine did not answer a ping "
            "(frozen or overloaded?).")
        opened_frozen = Drain(LogFollower(engine, c["Id"], tail=0))
        ended = opened_frozen.wait_for(lambda item: isinstance(item, LogEnded), timeout=3.0 + 5.0)
        assert ended.engine_lost and d.url in ended.message
        closed = LogFollower(engine, c["Id"], tail=0)
        closed_drain = Drain(closed)
        time.sleep(0.5)
        t0 = time.monotonic()
        closed.close()
        assert time.monotonic() - t0 < 1.0  # at once against its 10 s watchdog, with room for a loaded machine
        assert closed_drain.ended.wait(5.0), "a log follow waiting on the frozen engine does not end"
        assert closed_drain.items.empty() and closed_drain.error is None
    finally:
        d.send_signal(signal.SIGCONT)
    for cid in (quiet["Id"], c["Id"]):
        api.remove_container(cid, force=True)


# -- stats and exec streams, and a build frozen while its context is sent -----------------------------

def sleeper(api) -> str:
    c = api.create_container("aics-test/busybox:latest", list(SLEEPER))
    api.start(c["Id"])
    return c["Id"]


def test_stats_on_a_frozen_engine_end_in_words_and_close_at_once(daemon):
    d, api, engine = daemon
    cid = sleeper(api)
    drain = Drain(StatsFollower(engine, cid, idle_timeout=1.0))
    drain.wait_for(lambda item: isinstance(item, StatsSample))
    d.freeze()
    try:
        t0 = time.monotonic()
        ended = drain.wait_for(lambda item: isinstance(item, StatsEnded), timeout=10)
        assert time.monotonic() - t0 < 1.0 + 3.0 + 2.0  # idle timeout + ping timeout + slack
        assert drain.ended.wait(2) and drain.error is None, drain.error
        assert ended.engine_lost and ended.state == ""
        assert ended.message == (f"Docker Engine at {d.url} stopped answering: no sample for 1 s and the engine "
                                 "did not answer a ping (frozen or overloaded?).")
        opened_frozen = Drain(StatsFollower(engine, cid, idle_timeout=1.0))  # its request waits for an answer
        ended = opened_frozen.wait_for(lambda item: isinstance(item, StatsEnded), timeout=10)
        assert ended.engine_lost and "stopped answering" in ended.message
        closed = StatsFollower(engine, cid, idle_timeout=30.0)
        closed_drain = Drain(closed)
        time.sleep(0.5)
        t0 = time.monotonic()
        closed.close()
        # At once, against its 30 s watchdog: a second leaves room for a GC pause on a loaded machine
        assert time.monotonic() - t0 < 1.0
        assert closed_drain.ended.wait(5), "a stats stream waiting on the frozen engine does not end on close()"
        assert closed_drain.items.empty() and closed_drain.error is None
    finally:
        d.send_signal(signal.SIGCONT)
    again = Drain(StatsFollower(engine, cid))
    again.wait_for(lambda item: isinstance(item, StatsSample))
    api.remove_container(cid, force=True)
    again.wait_for(lambda item: isinstance(item, StatsEnded))


def test_exec_on_a_frozen_engine_ends_in_words_and_closes_at_once(daemon):
    d, api, engine = daemon
    cid = sleeper(api)
    quiet = list(ExecRun(engine, cid, ["sh", "-c", "sleep 2; echo done"], idle_timeout=0.5))
    assert quiet == [ExecOutput("done\n"), ExecExit(0, "exit code 0")], "a quiet command of a live engine goes on"
    drain = Drain(ExecRun(engine, cid, ["sh", "-c", "echo started; sleep 60"], idle_timeout=1.0))
    drain.wait_for(lambda item: isinstance(item, ExecOutput) and item.text == "started\n")
    other = ExecRun(engine, cid, ["sh", "-c", "echo started; sleep 60"])
    other_drain = Drain(other)
    other_drain.wait_for(lambda item: isinstance(item, ExecOutput))
    d.freeze()
    try:
        t0 = time.monotonic()
        assert drain.ended.wait(10), "the exec stream stays silent on a frozen engine"
        assert time.monotonic() - t0 < 1.0 + 3.0 + 2.0
        assert isinstance(drain.error, EngineError) and drain.error.kind == "timeout", drain.error
        assert str(drain.error) == (
            f"Docker Engine at {d.url} stopped answering: the command printed nothing for 1 s and the engine "
            "did not answer a ping (frozen or overloaded?). The command may still run in the container.")
        t0 = time.monotonic()
        other.close()
        assert time.monotonic() - t0 < 1.0  # its watchdog would end it only after 10 s + a 3 s ping
        assert other_drain.ended.wait(5) and other_drain.error is None, other_drain.error
        late = Drain(ExecRun(engine, cid, ["true"]))
        assert late.ended.wait(10), "an exec sent to the frozen engine waits"
        assert isinstance(late.error, EngineError) and late.error.kind == "timeout", late.error
        assert str(late.error) == (f"Docker Engine at {d.url} does not answer (frozen or overloaded?): "
                                   "the command did not start.")
    finally:
        d.send_signal(signal.SIGCONT)
    assert list(ExecRun(engine, cid, ["echo", "back"]))[0] == ExecOutput("back\n")
    api.remove_container(cid, force=True)


BIG = 48 << 20  # a build context big enough that a freeze lands while it is being sent


def build_frozen_mid_upload(d, tmp_path, engine: Engine, tag: str, **kwargs) -> tuple[ImageBuild, Drain]:
    """A build whose engine is frozen (SIGSTOP) while it receives the context, checked on the daemon's side:
    its build folder holds only part of the big file. The caller sends SIGCONT."""
    (tmp_path / "Dockerfile").write_text(f"FROM aics-test/busybox:latest\n{SLOW_STEP}")
    with open(tmp_path / "big.bin", "wb") as fh:
        fh.write(os.urandom(BIG))
    build = ImageBuild(engine, tmp_path, tag, **kwargs)
    drain = Drain(build)
    pattern = os.path.join(d.root, "data", "tmp", "docker-builder*")
    deadline = time.monotonic() + 20
    while not glob.glob(pattern):
        assert time.monotonic() < deadline and not drain.ended.is_set(), "the engine never took the context"
        time.sleep(0.002)
    d.freeze()
    folder = glob.glob(pattern)[0]
    big = os.path.join(folder, "big.bin")
    assert (os.path.getsize(big) if os.path.exists(big) else 0) < BIG, "the context was sent before the freeze"
    assert drain.items.empty()
    return build, drain


def test_build_frozen_while_its_context_is_sent_fails_in_words(daemon, tmp_path):
    d, _api, engine = daemon
    try:
        _build, drain = build_frozen_mid_upload(d, tmp_path, engine, "faults/upload:1", upload_timeout=2.0)
        t0 = time.monotonic()
        assert drain.ended.wait(10), "the build waits on an engine frozen while it takes the context"
        assert time.monotonic() - t0 < 2.0 + 2.0
        assert isinstance(drain.error, EngineError) and drain.error.kind == "timeout", drain.error
        assert str(drain.error) == (f"Docker Engine at {d.url} stopped answering while the build context was "
                                    "being sent: it took nothing for 2 s (frozen or overloaded?).")
    finally:
        d.send_signal(signal.SIGCONT)


def test_build_cancelled_while_its_context_is_sent_to_a_frozen_engine_ends_at_once(daemon, tmp_path):
    d, _api, engine = daemon
    try:
        build, drain = build_frozen_mid_upload(d, tmp_path, engine, "faults/upload:2")
        time.sleep(0.5)
        t0 = time.monotonic()
        done = threading.Thread(target=lambda: build.cancel(), daemon=True)
        done.start()
        # Against the 10 s upload timeout and the 15 s request timeout; cancel's own ping takes 3 s.
        assert drain.ended.wait(5), "the stream waits on the frozen engine after a cancel"
        assert drain.error is None and drain.items.queue[-1].cancelled
        done.join(8)
        assert not done.is_alive() and time.monotonic() - t0 < 8.0, "cancel waits on the frozen engine"
    finally:
        d.send_signal(signal.SIGCONT)
    assert engine.ping(timeout=3.0)
