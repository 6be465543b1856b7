"""Single instance: a second launch asks the running copy to raise its window, then exits 0."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from PySide6.QtNetwork import QLocalServer
from PySide6.QtWidgets import QMainWindow

from gui.qt.shell.single_instance import SingleInstance, raise_window, server_name
from tests.ui.xvfb import Xvfb, find_windows, stacking_order

ROOT = Path(__file__).resolve().parents[2]
ASK = ("import sys; from PySide6.QtCore import QCoreApplication; app = QCoreApplication([]); "
       "from gui.qt.shell.single_instance import ask_running_instance; "
       "print(ask_running_instance(sys.argv[1]))")


def _name() -> str:
    return f"aics-test-{uuid.uuid4().hex[:10]}"


def _ask(name: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", ASK, name], cwd=ROOT, stdout=subprocess.PIPE, text=True)


def test_server_name_differs_per_display():
    assert server_name({"DISPLAY": ":1"}) != server_name({"DISPLAY": ":2"})
    assert server_name({"DISPLAY": ":1"}) == server_name({"DISPLAY": ":1"})


def test_a_later_launch_is_answered_and_activates(qtbot):
    first = SingleInstance(_name())
    assert first.claim()
    try:
        with qtbot.waitSignal(first.activationRequested, timeout=10_000):
            asker = _ask(first.name)
        out, _ = asker.communicate(timeout=10)
        assert out.strip() == "True"
    finally:
        first.close()


def test_nobody_answers_when_nothing_runs(qtbot):
    asker = _ask(_name())
    out, _ = asker.communicate(timeout=10)
    assert out.strip() == "False"


def test_a_socket_left_by_a_crashed_copy_is_taken_over(qtbot, tmp_path):
    name = _name()
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe = QLocalServer()
    assert probe.listen(name)
    full = probe.fullServerName()
    probe.close()
    stale.bind(full)  # a socket file nobody listens on, as a killed copy leaves it
    stale.close()
    assert os.path.exists(full)
    inst = SingleInstance(name)
    try:
        assert inst.claim()
        assert inst.server.isListening()
    finally:
        inst.close()


def test_raise_window_restores_a_minimized_window(qtbot):
    w = QMainWindow()
    qtbot.addWidget(w)
    w.showMinimized()
    qtbot.waitUntil(w.isMinimized)
    raise_window(w)
    assert not w.isMinimized()
    assert w.isVisible()


def test_second_launch_raises_the_first_window_on_x11(tmp_path):
    """Real processes on a real X server: B exits 0 at once and A's window ends up above a covering window."""
    with Xvfb() as x:
        env = x.env(XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_STATE_HOME=str(tmp_path / "state"))
        app = [sys.executable, "-m", "gui"]
        first = subprocess.Popen(app, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        cover = None
        try:
            windows = find_windows(env, "ai-container-studio")
            assert len(windows) == 1, "the first copy showed no window"
            app_window = int(windows[0])
            cover = subprocess.Popen(["xmessage", "-geometry", "1280x800+0+0", "cover"], env=env)
            assert find_windows(env, "Xmessage"), "the covering window did not show"
            order = stacking_order(env)
            assert order.index(app_window) < order.index(int(find_windows(env, "Xmessage")[0]))

            started = time.monotonic()
            second = subprocess.run(app, cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)
            assert second.returncode == 0, second.stderr
            assert "already running" in second.stdout
            assert time.monotonic() - started < 10
            assert first.poll() is None, "the first copy went away"

            deadline = time.monotonic() + 10
            cover_window = int(find_windows(env, "Xmessage")[0])
            while True:
                order = stacking_order(env)
                if order.index(app_window) > order.index(cover_window):
                    break
                assert time.monotonic() < deadline, "the first window was not raised above the cover"
                time.sleep(0.1)
            assert find_windows(env, "ai-container-studio") == windows, "a second window appeared"
        finally:
            if cover is not None:
                cover.kill()
                cover.wait()
            first.terminate()
            try:
                first.wait(timeout=10)
            except subprocess.TimeoutExpired:
                first.kill()
                first.wait()
                pytest.fail("the app did not quit on SIGTERM")
