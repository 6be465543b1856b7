"""The desktop-app parts of start-up: remembered window state and engine, Help > About, --self-test."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from gui.app import choose_engine, create_window
from gui.qt.shell import window_state

ROOT = Path(__file__).resolve().parents[2]


def _window(qtbot):
    w = create_window()
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.session.has_loaded, timeout=20_000)
    return w


@pytest.mark.engine  # the window loads from the real engine
def test_window_size_page_and_engine_survive_a_restart(qtbot, tmp_path):
    settings = QSettings(str(tmp_path / "state.ini"), QSettings.Format.IniFormat)
    first = _window(qtbot)
    height = first.minimumSizeHint().height() + 37  # a height the default geometry never has, on any screen
    first.resize(first.width(), height)
    qtbot.waitUntil(lambda: first.height() == height)
    first.pages.setCurrentIndex(1)
    window_state.save(first, settings)
    first.close()

    again = QSettings(str(tmp_path / "state.ini"), QSettings.Format.IniFormat)
    assert window_state.last_engine(again) == first.session.target.url
    second = create_window()
    qtbot.addWidget(second)
    window_state.restore(second, again)
    second.show()
    qtbot.waitUntil(lambda: second.height() == height, timeout=5_000)
    assert second.pages.currentIndex() == 1
    second.close()


def test_an_engine_that_never_answered_is_not_remembered(qtbot, tmp_path):
    settings = QSettings(str(tmp_path / "state.ini"), QSettings.Format.IniFormat)
    w = create_window(f"unix://{tmp_path}/nothing.sock")
    qtbot.addWidget(w)
    qtbot.waitUntil(lambda: w.session.state == "disconnected", timeout=10_000)
    window_state.save(w, settings)
    assert window_state.last_engine(settings) is None
    w.close()


def test_engine_choice_order(tmp_path, monkeypatch):
    settings = QSettings(str(tmp_path / "state.ini"), QSettings.Format.IniFormat)
    settings.setValue(window_state.LAST_ENGINE, "tcp://remembered:2375")
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    assert choose_engine(None, settings).url == "tcp://remembered:2375"
    assert choose_engine(None, settings).source == "last used"
    assert choose_engine("tcp://given:2375", settings).url == "tcp://given:2375"
    monkeypatch.setenv("DOCKER_HOST", "tcp://from-env:2375")
    assert choose_engine(None, settings).url == "tcp://from-env:2375"


def test_help_about_shows_versions_engine_and_licenses(qtbot, docker_api):
    import gui

    w = _window(qtbot)
    menus = [a.text() for a in w.menuBar().actions()]
    assert menus[0] == "&File" and "&Help" in menus  # the window builds its own menus
    assert w.quit_action.shortcut().toString() == "Ctrl+Q"
    w.about_action.trigger()
    dialog = w.about_dialog
    qtbot.waitUntil(dialog.isVisible)
    assert gui.__version__ in dialog.findChild(type(dialog.engine), "aboutTitle").text()
    assert f"Docker Engine {docker_api.version()['Version']}" in dialog.engine.text()
    names = [dialog.table.item(r, 0).text() for r in range(dialog.table.rowCount())]
    licenses = dict(zip(names, (dialog.table.item(r, 2).text() for r in range(len(names))), strict=True))
    assert "LGPL-3.0" in licenses["PySide6_Essentials"]
    assert licenses["docker"] == "Apache-2.0"
    dialog.table.selectRow(names.index("docker"))
    assert "Apache License" in dialog.text.toPlainText()
    dialog.table.selectRow(names.index("PySide6_Essentials"))
    assert "LGPL" in dialog.text.toPlainText()
    dialog.reject()
    w.close()


def _run(*args: str, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "gui", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


def test_self_test_prints_one_line_and_exits_0(tmp_path, docker_api):
    r = _run("--self-test", "--require-engine", env_extra={"XDG_CONFIG_HOME": str(tmp_path)})
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 1
    assert "window shown (offscreen)" in lines[0]
    assert f"Docker Engine {docker_api.version()['Version']}" in lines[0]
    assert "images=" in lines[0] and "containers=" in lines[0]


def test_require_engine_only_with_self_test():
    r = _run("--require-engine")
    assert r.returncode == 2
    assert "--require-engine only goes with --self-test" in r.stderr
