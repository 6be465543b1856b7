"""Issue 10.8 and 10.9: logs follow a container started again; File > Preferences, Help > Guide; a port
link with no browser says so; an empty filter result says why; a second launch's --engine switches the
window; `make run` installs only the app. Real engine and real main window."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication, QDialog, QMenu

from gui.qt.common import links, preferences
from gui.qt.common.style import apply_theme
from gui.qt.shell.single_instance import SingleInstance
from tests.support.qt import select_rows

ROOT = Path(__file__).resolve().parents[2]


def rec(w, name):
    return next((c for c in w.containers_model.records() if c.name == name), None)


def test_logs_follow_again_when_the_container_starts_again(window, qtbot, make_container, docker_api):
    c = make_container(command=["sh", "-c", "echo run-$(cat /proc/sys/kernel/random/uuid); sleep 1"])
    page = window.containers_page
    qtbot.waitUntil(lambda: rec(window, c["name"]) is not None, timeout=5000)
    page.tools["logs"][1](rec(window, c["name"]))
    view = page.tool_windows.open[("logs", c["Id"])]
    qtbot.waitUntil(lambda: "exited" in view.state.text(), timeout=15000)
    assert [t for t in view.lines.texts if t.startswith("run-")] == view.lines.texts[:1]
    docker_api.start(c["Id"])
    qtbot.waitUntil(lambda: sum(t.startswith("run-") for t in view.lines.texts) == 2, timeout=15000)
    first, mark, second = view.lines.texts
    assert first != second and "started again" in mark and "exited" in mark, view.lines.texts
    assert "exited" not in view.state.text()
    qtbot.waitUntil(lambda: "exited" in view.state.text(), timeout=15000)  # and it stops again
    docker_api.restart(c["Id"])
    qtbot.waitUntil(lambda: sum(t.startswith("run-") for t in view.lines.texts) == 3, timeout=15000)
    assert len(set(t for t in view.lines.texts if t.startswith("run-"))) == 3, "no line twice"


def test_file_menu_quit_and_preferences(window, qtbot, tmp_path, monkeypatch, busybox_image):
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(tmp_path / "config"))
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "config"))
    monkeypatch.delenv("AICS_THEME", raising=False)
    app = QApplication.instance()
    try:
        assert window.quit_action.shortcut() == QKeySequence("Ctrl+Q")
        titles = [a.text() for a in window.findChild(QMenu, "fileMenu").actions() if a.text()]
        assert titles[0].startswith("&Preferences") and titles[-1] == "&Quit", titles
        window.preferences_action.trigger()
        dlg = window.findChild(QDialog, "preferencesDialog")
        assert dlg is not None and dlg.isVisible()
        dlg.theme.setCurrentIndex(dlg.theme.findData("dark"))
        dlg.memory.setValue(768)
        dlg.accept()
        assert preferences.theme() == "dark" and preferences.memory_limit_mb() == 768
        assert app.palette().window().color().lightness() < 100, "the dark theme is applied at once"
        from gui.qt.common.run_dialog import RunDialog

        run = RunDialog(window.session, busybox_image, window)
        assert run.memory.value() == 768 and "--memory 768m" in run.preview.toPlainText()
        run.close()
    finally:
        QSettings().clear()
        os.environ.pop("AICS_THEME", None)
        apply_theme(app)


def test_help_guide(window):
    window.guide_action.trigger()
    dlg = window.findChild(QDialog, "guideDialog")
    assert dlg is not None and dlg.isVisible()
    text = dlg.text.toPlainText()
    for words in ("Containers", "Images", "Build", "Predict", "Where files go", "Getting a model in"):
        assert words in text, words
    dlg.close()


def test_a_port_link_without_a_browser_says_so(window, qtbot, make_container, docker_api, monkeypatch):
    c = make_container(ports=[80], host_config=docker_api.create_host_config(port_bindings={80: ("127.0.0.1", None)}))
    page = window.containers_page
    qtbot.waitUntil(lambda: rec(window, c["name"]) is not None and bool(rec(window, c["name"]).ports),
                    timeout=5000)
    monkeypatch.setattr(links, "launch", lambda url: False)
    select_rows(page, rec(window, c["name"]).key)
    index = page.view.selectionModel().selectedRows(3)[0]
    page._on_clicked(index)
    message = window.statusBar().currentMessage()
    assert "No web browser could be started for http://127.0.0.1:" in message, message


def test_a_filter_that_matches_nothing_says_so(window, qtbot, make_container):
    c = make_container()
    page = window.containers_page
    qtbot.waitUntil(lambda: rec(window, c["name"]) is not None, timeout=5000)
    typed = f"zz-nothing-{uuid.uuid4().hex[:6]}"
    page.filter.setText(typed)
    assert page.proxy.rowCount() == 0
    assert page.no_match.isVisible() and page.no_match.text() == f"No container matches '{typed}'"
    assert f"no container matches '{typed}'" in page.count.text().lower()
    page.filter.setText(c["name"])
    assert page.no_match.isHidden() and page.proxy.rowCount() == 1


ASK = ("import sys; from PySide6.QtCore import QCoreApplication; app = QCoreApplication([]); "
       "from gui.qt.shell.single_instance import ask_running_instance; "
       "print(ask_running_instance(sys.argv[1], engine=sys.argv[2]))")


def test_a_second_launch_with_another_engine_switches_the_window(window, qtbot):
    first = SingleInstance(f"aics-test-{uuid.uuid4().hex[:10]}")
    assert first.claim()
    first.engineRequested.connect(window.use_engine_url)
    other = "unix:///tmp/aics-test-no-such-engine.sock"
    try:
        with qtbot.waitSignal(first.engineRequested, timeout=10_000) as signal:
            asker = subprocess.Popen([sys.executable, "-c", ASK, first.name, other], cwd=ROOT,
                                     stdout=subprocess.PIPE, text=True)
        assert asker.communicate(timeout=10)[0].strip() == "True"
        assert signal.args == [other]
        assert window.session.target.url == other
        assert window.engine_switcher.current.url == other
        assert other in window.statusBar().currentMessage()
    finally:
        first.close()


def test_make_run_installs_only_the_app(tmp_path):
    out = subprocess.run(["make", "-n", "run", f"RUN_VENV={tmp_path / 'venv'}"], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    installs = [line for line in out.splitlines() if "pip install" in line and "--upgrade pip" not in line]
    assert installs and all("[" not in line for line in installs), out
    assert "pip install -q -e ." in installs[0]
    assert "creates `.venv-run`, installs only the app" in (ROOT / "README.md").read_text()


def test_the_activate_message_carries_the_engine():
    from gui.qt.shell.single_instance import activate_message, parse_activate

    assert activate_message() == b"activate\n" and parse_activate(b"activate") == {}
    assert parse_activate(activate_message("tcp://h:2375").strip()) == {"engine": "tcp://h:2375"}
    assert parse_activate(b"hello") is None
