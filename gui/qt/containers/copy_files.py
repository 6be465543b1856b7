"""Copy files between the host and a container: a panel with file dialogs, and drop support."""

from __future__ import annotations

import os

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from gui.engine import ContainerInfo, Engine
from gui.engine.files import CopyResult, copy_from_container, copy_to_container, working_dir
from gui.qt.common.style import set_role
from gui.qt.common.tasks import message_of, run, unless_bug


def local_paths(mime) -> list[str]:
    """The local files and folders a drop carries (QMimeData urls)."""
    if mime is None or not mime.hasUrls():
        return []
    return [u.toLocalFile() for u in mime.urls() if u.isLocalFile() and u.toLocalFile()]


class FileDropTarget(QObject):
    """Makes ``widget`` accept local files dropped on it and copy them into the container.

    They go to ``container_dir()`` when given (e.g. a path field), else the container's working
    folder. ``copied(CopyResult)`` or ``failed(str)`` follow each drop.
    """

    copied = Signal(object)
    failed = Signal(str)
    started = Signal(list)

    def __init__(self, widget: QWidget, engine: Engine, container: ContainerInfo, container_dir=None):
        super().__init__(widget)
        self.widget = widget
        self.engine = engine
        self.container = container
        self.container_dir = container_dir
        widget.setAcceptDrops(True)
        widget.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:
        from PySide6.QtCore import QEvent

        kind = event.type()
        if kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove):
            if local_paths(event.mimeData()):
                event.acceptProposedAction()
                return True
        elif kind == QEvent.Type.Drop:
            paths = local_paths(event.mimeData())
            if paths:
                event.acceptProposedAction()
                self.copy(paths)
                return True
        return False

    def copy(self, paths: list[str]) -> None:
        engine, cid = self.engine, self.container.id
        chosen = (self.container_dir() or "").strip() if self.container_dir else ""

        def work() -> CopyResult:
            target = chosen or working_dir(engine, cid)
            return copy_to_container(engine, cid, paths, target)

        self.started.emit(paths)
        self._call = run(self, work, self.copied.emit, unless_bug(
            lambda exc: self.failed.emit(message_of(exc)),
            lambda: self.failed.emit("The copy stopped on an unexpected error (see the crash report).")))


class CopyFilesPanel(QWidget):
    """Copy into the container (files or a folder, chosen or dropped here) and out of it."""

    def __init__(self, engine: Engine, container: ContainerInfo, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("copyFiles")
        self.setWindowTitle(f"Copy files: {container.name}")
        self.engine = engine
        self.container = container
        self.last_result: CopyResult | None = None
        self.container_path = QLineEdit(self, objectName="copyContainerPath",
                                         placeholderText="Path in the container (empty: its working folder)")
        self.to_btn = QPushButton("Copy files in…", self, objectName="copyToContainer")
        self.folder_to_btn = QPushButton("Copy a folder in…", self, objectName="copyFolderToContainer")
        self.from_btn = QPushButton("Copy out to a folder…", self, objectName="copyFromContainer")
        self.drop_hint = QLabel("Drop files or folders here to copy them into the container", self,
                                objectName="copyDropHint")
        self.drop_hint.setMinimumHeight(60)
        set_role(self.drop_hint, "drop-hint")
        self.status = QLabel(self, objectName="copyStatus", wordWrap=True)
        self.error = QLabel(self, objectName="copyError", wordWrap=True)
        set_role(self.error, "error")
        self.error.hide()
        row = QHBoxLayout()
        for b in (self.to_btn, self.folder_to_btn, self.from_btn):
            row.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"Container {container.name}", self))
        layout.addWidget(self.container_path)
        layout.addLayout(row)
        layout.addWidget(self.drop_hint, 1)
        layout.addWidget(self.status)
        layout.addWidget(self.error)
        self.drops = FileDropTarget(self, engine, container, container_dir=self.container_path.text)
        self.drops.started.connect(lambda paths: self._busy(f"Copying {len(paths)} item(s) in…"))
        self.drops.copied.connect(self._on_copied)
        self.drops.failed.connect(self._on_failed)
        self.to_btn.clicked.connect(lambda: self._choose(folder=False))
        self.folder_to_btn.clicked.connect(lambda: self._choose(folder=True))
        self.from_btn.clicked.connect(self._choose_out)

    # -- dialogs (non-modal: .open(), never exec()) -------------------------------------
    def _choose(self, folder: bool) -> None:
        dialog = QFileDialog(self, "Copy into the container")
        dialog.setObjectName("copyInDialog")
        if folder:
            dialog.setFileMode(QFileDialog.FileMode.Directory)
            dialog.fileSelected.connect(lambda path: self.copy_in([path]))
        else:
            dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
            dialog.filesSelected.connect(self.copy_in)
        dialog.open()

    def _choose_out(self) -> None:
        if not self.container_path.text().strip():
            self._on_failed("Enter the path in the container to copy out.")
            return
        dialog = QFileDialog(self, "Copy out of the container into…")
        dialog.setObjectName("copyOutDialog")
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.fileSelected.connect(self.copy_out)
        dialog.open()

    # -- copies -------------------------------------------------------------------------
    def copy_in(self, paths: list[str]) -> None:
        if paths:
            self.drops.copy(list(paths))

    def copy_out(self, host_dir: str) -> None:
        path = self.container_path.text().strip()
        if not path or not host_dir:
            return
        self._busy(f"Copying {path} out to {host_dir}…")
        engine, cid = self.engine, self.container.id
        self._call = run(self, lambda: copy_from_container(engine, cid, path, host_dir),
                         self._on_copied, unless_bug(lambda exc: self._on_failed(message_of(exc)), lambda: self._on_failed(
                             "The copy stopped on an unexpected error (see the crash report).")))

    def _busy(self, text: str) -> None:
        self.error.hide()
        self.status.setText(text)
        for b in (self.to_btn, self.folder_to_btn, self.from_btn):
            b.setEnabled(False)

    def _idle(self) -> None:
        for b in (self.to_btn, self.folder_to_btn, self.from_btn):
            b.setEnabled(True)

    def _on_copied(self, result: CopyResult) -> None:
        self._idle()
        self.last_result = result
        where = result.destination
        self.status.setText(f"Copied {result.files} file(s), {result.bytes:,} bytes to {where}"
                            + ("" if os.sep in where and os.path.exists(where) else " in the container"))

    def _on_failed(self, text: str) -> None:
        self._idle()
        self.status.setText("")
        self.error.setText(text)
        self.error.show()
