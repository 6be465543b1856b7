"""Browse one volume's files (`volumeBrowser`): folders with sizes, download, upload, drop files in."""

from __future__ import annotations

import os
import posixpath
import threading
from concurrent.futures import Future, wait

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui.engine.volumes import (
    BrowserHelper,
    VolumeEntry,
    download_from_volume,
    list_volume,
    upload_to_volume,
)
from gui.qt.common import style
from gui.qt.common.table_models import exact_time, human_size
from gui.qt.common.tasks import Op, Task, message_of, shared_pool, unless_bug

PathRole = Qt.ItemDataRole.UserRole + 1

# Helpers of browsers still starting or being removed: the app waits for them on its way out (gui.app
# close_down), whose os._exit would otherwise cut a removal (a helper left running holds its volume).
_pending: set[Future] = set()
_pending_lock = threading.Lock()


def _track(work: Future | None) -> None:
    if work is None:
        return
    with _pending_lock:
        _pending.add(work)
    work.add_done_callback(_forget)


def _forget(work: Future) -> None:
    with _pending_lock:
        _pending.discard(work)


def wait_for_helpers(timeout: float) -> None:
    """Wait until the helpers of closed browsers are removed (and those still starting have removed
    themselves), ``timeout`` seconds at most: blocks, so only for the app's exit."""
    with _pending_lock:
        pending = list(_pending)
    if pending:
        wait(pending, timeout=timeout)


class VolumeBrowser(QWidget):
    """A tool window on one volume. Every engine call runs off the UI thread through a short-lived,
    labelled helper container (gui.engine.volumes)."""

    def __init__(self, session, volume: str, parent=None):
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("volumeBrowser")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowTitle(f"Volume: {volume}")
        self.resize(760, 520)
        self.session = session
        self.volume = volume
        self.path = ""
        self.entries: list[VolumeEntry] = []
        self.setAcceptDrops(True)

        self.where = QLabel(self)
        self.where.setObjectName("volumePath")
        self.up = QPushButton("Up", self)
        self.up.setObjectName("volumeUp")
        self.up.clicked.connect(self.go_up)
        self.download = QPushButton("Download…", self)
        self.download.setObjectName("volumeDownload")
        self.download.clicked.connect(self._ask_download)
        self.upload = QPushButton("Upload files…", self)
        self.upload.setObjectName("volumeUpload")
        self.upload.clicked.connect(self._ask_upload)
        self.reload = QPushButton("Reload", self)
        self.reload.clicked.connect(lambda: self.open_folder(self.path))
        top = QHBoxLayout()
        top.addWidget(self.up)
        top.addWidget(self.where, 1)
        top.addWidget(self.reload)
        top.addWidget(self.upload)
        top.addWidget(self.download)

        self.tree = QTreeWidget(self)
        self.tree.setObjectName("volumeFiles")
        self.tree.setHeaderLabels(["Name", "Size", "Modified", "Kind"])
        self.tree.setRootIsDecorated(False)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tree.itemDoubleClicked.connect(self._on_double_click)
        self.status = QLabel(self)
        self.status.setObjectName("volumeStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.status)
        # A helper container runs while the window is open, so each folder is one quick exec away.
        self.helper_id = ""
        self.helper = BrowserHelper(session.engine, volume)
        self._say(f"Opening {volume}…", "muted")
        helper = Task(self, self.helper.start, session.changes)
        helper.done.connect(self._on_helper)
        helper.failed.connect(unless_bug(lambda _exc: self.open_folder("")))  # one-shot helpers then
        helper.start()
        _track(helper.future)  # closed meanwhile, the start removes its helper

    def _on_helper(self, helper_id: str) -> None:
        self.helper_id = helper_id
        self.open_folder("")

    def closeEvent(self, event) -> None:
        # Removed off the UI thread, even after this window is gone; also when the helper is still starting.
        self.helper_id = ""
        _track(shared_pool().submit(self.helper.close))
        super().closeEvent(event)

    # -- listing ----------------------------------------------------------------------------
    def open_folder(self, path: str, note: str = "") -> None:
        """List ``path``; ``note`` (what just happened, e.g. an upload) stays in front of the summary."""
        engine, volume = self.session.engine, self.volume
        self.path = path
        self.where.setText(f"{volume}:/{path}")
        self.up.setEnabled(bool(path))
        self._say(f"Reading {volume}:/{path}…", "muted")
        helper_id = self.helper_id
        Op(self, lambda: list_volume(engine, volume, path, helper_id=helper_id)).success(lambda e: self._show(e, note)).failure(
            lambda exc: self._say(message_of(exc), "error")).run(self.session.reads)

    def _show(self, entries: list[VolumeEntry], note: str = "") -> None:
        self.entries = entries
        self.tree.clear()
        items = []
        for e in entries:
            item = QTreeWidgetItem([e.name + ("/" if e.kind == "folder" else ""),
                                    human_size(e.size) if e.kind == "file" else "",
                                    exact_time(e.modified), e.kind])
            item.setData(0, PathRole, e)
            item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            items.append(item)
        self.tree.addTopLevelItems(items)
        total = sum(e.size for e in entries)
        summary = (f"{len(entries)} item(s), {human_size(total)} in files here" if entries else
                   "This folder is empty. Upload files or drop them here.")
        self._say(f"{note} · {summary}" if note else summary, "ok" if note else "muted")

    def go_up(self) -> None:
        self.open_folder(posixpath.dirname(self.path))

    def _on_double_click(self, item: QTreeWidgetItem, _col: int) -> None:
        entry: VolumeEntry = item.data(0, PathRole)
        if entry.kind == "folder":
            self.open_folder(entry.path)

    def _say(self, text: str, role: str) -> None:
        self.status.setText(text)
        style.set_role(self.status, role)

    # -- files in and out -------------------------------------------------------------------
    def selected(self) -> VolumeEntry | None:
        items = self.tree.selectedItems()
        return items[0].data(0, PathRole) if items else None

    def _ask_download(self) -> None:
        entry = self.selected()
        dlg = QFileDialog(self, "Download into folder")
        dlg.setFileMode(QFileDialog.FileMode.Directory)
        dlg.fileSelected.connect(lambda folder: self.download_to(entry.path if entry else self.path, folder))
        dlg.open()

    def download_to(self, path: str, folder: str) -> None:
        engine, volume = self.session.engine, self.volume
        self._say(f"Downloading {volume}:/{path} to {folder}…", "muted")
        Op(self, lambda: download_from_volume(engine, volume, path, folder)).success(
            lambda r: self._say(f"Downloaded {r.files} file(s), {human_size(r.bytes)} to {r.destination}", "ok")
        ).failure(lambda exc: self._say(f"Download failed: {message_of(exc)}", "error")).run(self.session.reads)

    def _ask_upload(self) -> None:
        dlg = QFileDialog(self, "Files to upload")
        dlg.setFileMode(QFileDialog.FileMode.ExistingFiles)
        dlg.filesSelected.connect(self.upload_paths)
        dlg.open()

    def upload_paths(self, paths: list[str]) -> None:
        if not paths:
            return
        engine, volume, path = self.session.engine, self.volume, self.path
        names = ", ".join(os.path.basename(p.rstrip(os.sep)) for p in paths[:4]) + (" …" if len(paths) > 4 else "")
        self._say(f"Uploading {names} to {volume}:/{path}…", "muted")

        def done(r) -> None:
            self.open_folder(self.path, f"Uploaded {r.files} file(s), {human_size(r.bytes)} to {r.destination}")

        Op(self, lambda: upload_to_volume(engine, volume, paths, path)).success(done).failure(
            lambda exc: self._say(f"Upload failed: {message_of(exc)}", "error")).run(self.session.changes)

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls() and all(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        self.upload_paths([u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()])
        event.acceptProposedAction()
