"""The detail tools open from the Containers and Images pages of the real window."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QTreeWidget

from gui.qt.containers.logs import LogsView
from tests.support.qt import select_rows


def test_logs_stats_and_inspect_from_the_pages(window, qtbot, make_container, busybox_image):
    w = window
    c = make_container(command=("sh", "-c", "trap 'exit 0' TERM; echo hello-from-the-container; "
                                "sleep 3600 & wait"))
    qtbot.waitUntil(lambda: w.containers_model.record(c["Id"]) is not None, timeout=2000)
    page = w.containers_page
    select_rows(page, c["Id"])
    qtbot.waitUntil(lambda: page.stats_panel.isVisible() and len(page.stats_panel.view.samples) >= 1,
                    timeout=10000)
    assert page.actions_by_name["tool:logs"].isEnabled()
    page.actions_by_name["tool:logs"].trigger()
    logs = page.tool_windows.open[("logs", c["Id"])]
    assert isinstance(logs, LogsView) and logs.isWindow()
    qtbot.waitUntil(lambda: "1" in logs.findChild(QLabel, "logLineCount").text(), timeout=5000)
    page.actions_by_name["tool:logs"].trigger()  # again: the same window comes to the front
    assert len([k for k in page.tool_windows.open if k[0] == "logs"]) == 1
    logs.close()
    qtbot.waitUntil(lambda: ("logs", c["Id"]) not in page.tool_windows.open, timeout=2000)

    images = w.images_page
    img = next(i for i in images.model.records() if i.reference == busybox_image)
    select_rows(images, img.key)
    images.actions_by_name["inspect"].trigger()
    view = images.tool_windows.open[("inspect", img.key)]
    qtbot.waitUntil(lambda: view.findChild(QTreeWidget, "inspectTree") is not None
                    and view.findChild(QTreeWidget, "inspectTree").topLevelItemCount() > 3, timeout=5000)

    page.view.clearSelection()
    qtbot.waitUntil(lambda: not page.stats_panel.isVisible(), timeout=2000)
    stats = page.stats_panel.view
    qtbot.waitUntil(lambda: stats.worker is None or not stats.worker.is_alive(), timeout=3000)


def test_files_dropped_on_a_container_row_are_copied_in(window, qtbot, make_container, docker_api, tmp_path):
    import io
    import tarfile
    import warnings

    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent
    from PySide6.QtWidgets import QMessageBox, QPushButton

    w = window
    c = make_container(working_dir="/tmp")
    qtbot.waitUntil(lambda: w.containers_model.record(c["Id"]) is not None, timeout=2000)
    page = w.containers_page
    page.filter.setText(c["name"])  # the row is the only one: easy to aim at
    src = tmp_path / "weights.bin"
    src.write_bytes(b"\x00\x01model")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(src))])
    pos = QPointF(page.view.visualRect(page.proxy.index(0, 0)).center())
    viewport = page.view.viewport()
    buttons, mods = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        enter = QDragEnterEvent(pos.toPoint(), Qt.DropAction.CopyAction, mime, buttons, mods)
    assert page.row_drop.eventFilter(viewport, enter) and enter.isAccepted()
    drop = QDropEvent(pos, Qt.DropAction.CopyAction, mime, buttons, mods)
    assert page.row_drop.eventFilter(viewport, drop) and drop.isAccepted()
    qtbot.waitUntil(lambda: page.findChild(QMessageBox, "confirmDialog") is not None, timeout=2000)
    box = page.findChild(QMessageBox, "confirmDialog")
    assert c["name"] in box.text() and "replaced" in box.informativeText()
    box.findChild(QPushButton, "confirmYes").click()

    def copied() -> bool:
        try:
            stream, _ = docker_api.get_archive(c["Id"], "/tmp/weights.bin")
        except Exception:
            return False
        with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
            return tar.extractfile("weights.bin").read() == b"\x00\x01model"

    qtbot.waitUntil(copied, timeout=5000)
    page.filter.clear()


def test_stats_follow_the_newly_selected_container(window, qtbot, make_container):
    w = window
    a, b = make_container(), make_container()
    qtbot.waitUntil(lambda: w.containers_model.record(a["Id"]) is not None
                    and w.containers_model.record(b["Id"]) is not None, timeout=2000)
    page = w.containers_page
    select_rows(page, a["Id"])
    qtbot.waitUntil(lambda: page.stats_panel.view is not None and len(page.stats_panel.view.samples) >= 1,
                    timeout=10000)
    select_rows(page, b["Id"])
    view = page.stats_panel.view
    assert view.container.id == b["Id"]
    qtbot.waitUntil(lambda: len(view.samples) >= 1, timeout=10000)
    assert view.worker is not None and view.worker.is_alive()
