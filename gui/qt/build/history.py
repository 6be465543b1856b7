"""Build history table (`buildHistory`): newest build first; records and their file live in gui.builder.history."""

from __future__ import annotations

import time

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt

from gui.builder.history import BuildRecord
from gui.qt.common import style

_ROOT = QModelIndex()
RESULT_ROLES = {"succeeded": "ok", "failed": "error", "cancelled": "warning"}  # style roles of the Result text


class BuildHistoryModel(QAbstractTableModel):
    """Newest build first."""

    TIME, RESULT, TAG, IMAGE, DURATION = range(5)
    HEADERS = ("Time", "Result", "Image tag", "Image id", "Duration")
    RecordRole = Qt.ItemDataRole.UserRole + 1

    def __init__(self, records: list[BuildRecord] | None = None, parent=None):
        super().__init__(parent)
        self.records: list[BuildRecord] = list(records or [])

    def rowCount(self, parent=_ROOT) -> int:
        return 0 if parent.isValid() else len(self.records)

    def columnCount(self, parent=_ROOT) -> int:
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        r = self.records[index.row()]
        col = index.column()
        if role == self.RecordRole:
            return r
        if role == Qt.ItemDataRole.DisplayRole:
            if col == self.TIME:
                today = time.strftime("%Y-%m-%d") == time.strftime("%Y-%m-%d", time.localtime(r.started))
                return time.strftime("%H:%M:%S" if today else "%d %b %H:%M", time.localtime(r.started))
            if col == self.RESULT:
                return r.result + (f" (step {r.failed_step})" if r.failed_step else "")
            if col == self.TAG:
                return r.tag
            if col == self.IMAGE:
                return r.image_id.removeprefix("sha256:")[:12]
            if col == self.DURATION:
                return f"{r.duration:.1f} s" if r.result != "running" else "…"
        if role == Qt.ItemDataRole.ForegroundRole and col == self.RESULT:
            role = RESULT_ROLES.get(r.result)
            return style.color(role) if role else None
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == self.TIME:
                return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r.started))
            return r.error or r.image_id or None
        return None

    def add(self, record: BuildRecord) -> None:
        self.beginInsertRows(QModelIndex(), 0, 0)
        self.records.insert(0, record)
        self.endInsertRows()

    def updated(self, record: BuildRecord) -> None:
        row = next((i for i, r in enumerate(self.records) if r is record), -1)
        if row >= 0:
            self.dataChanged.emit(self.index(row, 0), self.index(row, self.columnCount() - 1))
