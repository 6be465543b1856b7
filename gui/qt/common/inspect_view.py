"""InspectView: a container's or an image's inspect document as a searchable tree."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QBrush, QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui.engine import ContainerInfo, Engine, ImageInfo
from gui.engine.inspect import inspect_container, inspect_image
from gui.qt.common import style
from gui.qt.common.tasks import message_of, run, unless_bug

VALUE_ROLE = Qt.ItemDataRole.UserRole


def _text(value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return f"{{{len(value)}}}"
    if isinstance(value, list):
        return f"[{len(value)}]"
    return json.dumps(value)


class InspectView(QWidget):
    """``subject``: a ContainerInfo or ImageInfo (read from the engine off the UI thread) or a dict."""

    def __init__(self, engine: Engine | None, subject: ContainerInfo | ImageInfo | dict,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("inspectView")
        self.engine = engine
        self.document: dict | None = None
        self.filter = QLineEdit(self, objectName="inspectFilter", clearButtonEnabled=True,
                                placeholderText="Filter keys and values")
        self.copy_btn = QPushButton("Copy value", self, objectName="inspectCopy")
        self.status = QLabel(self, objectName="inspectStatus")
        self.error = QLabel(self, objectName="inspectError", wordWrap=True)
        style.set_role(self.error, "error")
        self.error.hide()
        self.tree = QTreeWidget(self)
        self.tree.setObjectName("inspectTree")
        self.tree.setHeaderLabels(["Key", "Value"])
        self.tree.setColumnWidth(0, 260)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._on_menu)
        QShortcut(QKeySequence.StandardKey.Copy, self.tree, activated=self.copy_value)
        top = QHBoxLayout()
        top.addWidget(self.filter, 1)
        top.addWidget(self.copy_btn)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.error)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.status)
        self._timer = QTimer(self, singleShot=True, interval=150)
        self._timer.timeout.connect(self.apply_filter)
        self.filter.textChanged.connect(lambda _text: self._timer.start())
        self.copy_btn.clicked.connect(self.copy_value)
        if isinstance(subject, dict):
            self.setWindowTitle("Inspect")
            self.set_document(subject)
        else:
            self._load(subject)

    def _load(self, subject) -> None:
        engine = self.engine
        if isinstance(subject, ContainerInfo):
            self.setWindowTitle(f"Inspect: {subject.name}")
            fn = lambda: inspect_container(engine, subject.id)  # noqa: E731
        else:
            self.setWindowTitle(f"Inspect: {subject.reference}")
            fn = lambda: inspect_image(engine, subject.id)  # noqa: E731
        self.status.setText("Reading…")
        self._call = run(self, fn, self.set_document,
                         unless_bug(self._on_failed, self.status.clear))

    def _on_failed(self, exc) -> None:
        self.status.setText("")
        self.error.setText(f"Could not read the inspect document: {message_of(exc)}")
        self.error.show()

    def set_document(self, doc: dict) -> None:
        self.document = doc
        self.tree.clear()
        self._add(self.tree.invisibleRootItem(), doc)
        self.tree.expandToDepth(0)
        self.status.setText("")
        self.apply_filter()

    def _add(self, parent: QTreeWidgetItem, value) -> None:
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, child in items:
            item = QTreeWidgetItem(parent, [str(key), _text(child)])
            item.setData(0, VALUE_ROLE, child)
            item.setToolTip(1, _text(child)[:2000])
            if isinstance(child, dict | list):
                self._add(item, child)

    def apply_filter(self) -> int:
        """Show only rows whose key or value contains the filter text (and their parents); highlight
        the matching cells. Returns the number of matching rows."""
        self._timer.stop()
        needle = self.filter.text().strip().lower()
        count = 0
        match = QBrush(style.color("match", self))

        def walk(item: QTreeWidgetItem) -> bool:
            nonlocal count
            hit = False
            for col in (0, 1):
                on = bool(needle) and needle in item.text(col).lower() and \
                    not (col == 1 and item.childCount())
                item.setBackground(col, match if on else QBrush())
                hit = hit or on
            count += hit
            child_hit = False
            for i in range(item.childCount()):
                child_hit = walk(item.child(i)) or child_hit
            visible = not needle or hit or child_hit
            item.setHidden(not visible)
            if needle and child_hit:
                item.setExpanded(True)
            return hit or child_hit

        root = self.tree.invisibleRootItem()
        for i in range(root.childCount()):
            walk(root.child(i))
        self.status.setText(f"{count} matching rows" if needle else "")
        return count

    def value_text(self, item: QTreeWidgetItem) -> str:
        value = item.data(0, VALUE_ROLE)
        return value if isinstance(value, str) else json.dumps(value, indent=2)

    def copy_value(self) -> None:
        item = self.tree.currentItem()
        if item is not None:
            QGuiApplication.clipboard().setText(self.value_text(item))

    def _on_menu(self, pos) -> None:
        item = self.tree.itemAt(pos)
        if item is None:
            return
        menu = QMenu(self)
        menu.addAction("Copy value", lambda: QGuiApplication.clipboard().setText(self.value_text(item)))
        menu.addAction("Copy key", lambda: QGuiApplication.clipboard().setText(item.text(0)))
        menu.popup(self.tree.viewport().mapToGlobal(pos))
