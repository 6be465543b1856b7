"""The real main window against the real engine (pytest-qt, offscreen)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from PySide6.QtCore import QItemSelectionModel
from PySide6.QtWidgets import QLabel, QPushButton, QTableView

from gui.app import create_window
from tests.support.busybox import build_busybox
from tests.support.labels import TEST_LABEL

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def open_window(qtbot):
    windows = []

    def make(url=None):
        w = create_window(url)
        qtbot.addWidget(w)
        w.show()
        windows.append(w)
        return w

    yield make
    for w in windows:
        w.close()
        # No stream thread may outlive its window.
        worker = w.session._worker
        if worker is not None:
            deadline = time.monotonic() + 2
            while worker.is_alive() and time.monotonic() < deadline:
                time.sleep(0.02)
            assert not worker.is_alive(), "the event thread kept running after the window closed"


def names(window) -> list[str]:
    return [c.name for c in window.containers_model.records()]


def row_of(window, name):
    return next((c for c in window.containers_model.records() if c.name == name), None)


def docker_cli(*args) -> str:
    out = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def status(w) -> str:
    return w.findChild(QLabel, "engineStatus").text()


def test_window_shows_engine_and_both_lists(open_window, qtbot, make_container, busybox_image):
    c = make_container()
    w = open_window()
    qtbot.waitUntil(lambda: "Connected to" in status(w), timeout=5000)
    assert w.session.target.url in status(w)
    assert w.findChild(QTableView, "containersView").model().rowCount() >= 1
    qtbot.waitUntil(lambda: row_of(w, c["name"]) is not None, timeout=2000)
    assert row_of(w, c["name"]).state == "running"
    assert busybox_image in [i.reference for i in w.images_model.records()]
    assert w.findChild(QTableView, "imagesView") is not None
    assert not w.findChild(QPushButton, "engineRetry").isVisible()
    titles = [w.pages.tabText(i) for i in range(w.pages.count())]
    assert titles[:4] == ["Containers", "Images", "Build", "Predict"]
    assert {"Volumes", "Networks", "Disk space"} <= set(titles)


def test_first_read_before_the_window_misses_no_change(qtbot, make_container, docker_api):
    """The app reads the engine before it builds its window (gui.engine.first_read: the event stream
    subscribed, then the lists). Lists read already are in the models before the window is shown; a change
    made after that read still shows (the subscription's events), with no second full read."""
    from gui.app import _build_window
    from gui.engine import resolve_engine
    from gui.engine.first_read import FirstRead

    c = make_container(start=False)
    target = resolve_engine()
    first = FirstRead(target)
    for answer in (first.info, first.images, first.containers):
        answer.result(timeout=10)
    assert next(x for x in first.containers.result() if x.id == c["Id"]).state == "created"
    docker_api.start(c["Id"])  # after the read: only an event can tell the window
    full_reads = []
    real_list = first.engine.list_containers
    first.engine.list_containers = lambda ids=None: (full_reads.append(ids is None), real_list(ids))[1]
    w = _build_window(target, first)
    qtbot.addWidget(w)
    try:
        assert w.session.has_loaded and row_of(w, c["name"]) is not None, "the lists read are shown at once"
        w.show()
        qtbot.waitUntil(lambda: row_of(w, c["name"]).state == "running", timeout=10000)
        qtbot.waitUntil(lambda: w.session._stream_up, timeout=10000)
        assert w.session.state == "connected" and not w.session._poll.isActive()
        assert True not in full_reads, "the first read was read again in full"
    finally:
        w.close()


def test_terminal_changes_show_within_a_second(open_window, qtbot, busybox_image, unique_name, run_id):
    w = open_window()
    qtbot.waitUntil(lambda: w.session.has_loaded, timeout=5000)
    resets = []
    w.containers_model.modelReset.connect(lambda: resets.append(1))
    name = unique_name("cli")
    view = w.findChild(QTableView, "containersView")
    try:
        t0 = time.monotonic()
        docker_cli("create", "--label", f"{TEST_LABEL}={run_id}", "--name", name, busybox_image, "sleep", "600")
        qtbot.waitUntil(lambda: row_of(w, name) is not None, timeout=1000)
        created = time.monotonic() - t0
        assert row_of(w, name).state == "created"
        # Select the new row: the selection must survive every later change.
        src = w.containers_model.records().index(row_of(w, name))
        proxy_index = view.model().mapFromSource(w.containers_model.index(src, 0))
        view.selectionModel().select(proxy_index, QItemSelectionModel.SelectionFlag.ClearAndSelect
                                     | QItemSelectionModel.SelectionFlag.Rows)

        for args, state in ((("start", name), "running"), (("stop", "-t", "0", name), "exited")):
            docker_cli(*args)
            qtbot.waitUntil(lambda s=state: row_of(w, name).state == s, timeout=1000)
            selected = view.selectionModel().selectedRows()
            assert [view.model().data(i) for i in selected] == [name]
        docker_cli("rm", name)
        qtbot.waitUntil(lambda: row_of(w, name) is None, timeout=1000)
        assert created < 1.0
        assert resets == []
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True)


def test_no_engine_shows_banner_within_a_second(open_window, qtbot, tmp_path):
    t0 = time.monotonic()
    w = open_window(f"unix://{tmp_path}/no-engine.sock")
    assert time.monotonic() - t0 < 1.0, "the window must open at once, engine or not"
    banner = w.findChild(QLabel, "engineBannerText")
    qtbot.waitUntil(lambda: banner.isVisible(), timeout=1000)
    assert time.monotonic() - t0 < 1.0
    assert f"Docker Engine is not reachable at unix://{tmp_path}/no-engine.sock: is it running?" in banner.text()
    assert "Not connected" in status(w)
    retry = w.findChild(QPushButton, "engineRetry")
    assert retry.isVisible() and retry.isEnabled()
    states: list[str] = []
    w.session.stateChanged.connect(lambda state, _message: states.append(state))
    qtbot.mouseClick(retry, __import__("PySide6.QtCore", fromlist=["Qt"]).Qt.MouseButton.LeftButton)
    assert not retry.isEnabled(), "Retry stays pressable while its attempt runs"
    # The click makes a new attempt: connecting, then (no engine still) disconnected with the banner back.
    qtbot.waitUntil(lambda: states[-1:] == ["disconnected"], timeout=3000)
    assert states[0] == "connecting", states
    assert retry.isEnabled() and banner.isVisible()


def test_engine_started_later_stopped_and_back(open_window, qtbot, private_dockerd):
    w = open_window(private_dockerd.url)  # the engine is not running yet
    banner = w.findChild(QLabel, "engineBannerText")
    qtbot.waitUntil(banner.isVisible, timeout=1000)

    private_dockerd.start()
    qtbot.waitUntil(lambda: "Connected to" in status(w), timeout=5000)
    assert not banner.isVisible()
    import docker

    api = docker.APIClient(base_url=private_dockerd.url, version="auto", timeout=60)
    tag = build_busybox(api)
    api.create_container(tag, ["sleep", "600"], name="first")
    qtbot.waitUntil(lambda: "first" in names(w), timeout=1000)
    qtbot.waitUntil(lambda: tag in [i.reference for i in w.images_model.records()], timeout=1000)

    private_dockerd.stop()
    qtbot.waitUntil(banner.isVisible, timeout=5000)
    assert f"Docker Engine is not reachable at {private_dockerd.url}" in banner.text()
    assert "first" in names(w), "the last known state stays on screen"

    private_dockerd.start()
    qtbot.waitUntil(lambda: not banner.isVisible(), timeout=10000)
    assert "Connected to" in status(w)
    api.create_container(tag, ["sleep", "600"], name="second")
    qtbot.waitUntil(lambda: {"first", "second"} <= set(names(w)), timeout=1000)
    api.close()


def test_quitting_with_streams_running_ends_at_once(busybox_image):
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "gui", "--quit-when-loaded"], capture_output=True,
                          text=True, timeout=20, cwd=ROOT, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("loaded "), proc.stdout
    assert time.monotonic() - t0 < 5.0
