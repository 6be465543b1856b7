"""Build history (`buildHistory`): each build's time, result, image id and log.

The full logs stay in memory for the session; the newest builds, each with the end of its log,
are kept in a small JSON file in the user's state folder so the history survives a restart.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QColor

from gui.paths import state_dir

log = logging.getLogger(__name__)
HISTORY_FILE = "build-history.json"
KEEP_BUILDS = 30
KEEP_LINES = 500  # per build in the file (the in-memory record keeps every line)
_ROOT = QModelIndex()
RESULT_COLORS = {"succeeded": "#1e7b34", "failed": "#b3261e", "cancelled": "#8a5a00"}


@dataclass
class BuildRecord:
    started: float  # seconds since the epoch
    template: str
    tag: str
    result: str = "running"  # running | succeeded | failed | cancelled
    duration: float = 0.0
    image_id: str = ""
    error: str = ""
    failed_step: int = 0
    log: list[str] = field(default_factory=list)
    lines_dropped: int = 0  # lines of the log not kept (in the file: its beginning)

    def to_json(self) -> dict:
        """The record for the file: the end of the log only (asdict would copy every line)."""
        data = {f: getattr(self, f) for f in self.__dataclass_fields__ if f != "log"}
        data["log"] = self.log[-KEEP_LINES:]
        data["lines_dropped"] = self.lines_dropped + max(0, len(self.log) - KEEP_LINES)
        return data

    @classmethod
    def from_json(cls, data: dict) -> BuildRecord:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


class HistoryStore:
    """Reads and writes the history file (written on a background thread, replaced atomically)."""

    def __init__(self, path: Path | None = None):
        self.path = Path(path) if path else state_dir() / HISTORY_FILE
        self._lock = threading.Lock()

    def load(self) -> list[BuildRecord]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            return [BuildRecord.from_json(r) for r in raw.get("builds", [])][:KEEP_BUILDS]
        except FileNotFoundError:
            return []
        except (OSError, ValueError, TypeError) as exc:
            log.warning("build history %s unreadable: %s", self.path, exc)
            return []

    def save(self, records: list[BuildRecord]) -> threading.Thread:
        data = {"format": 1, "builds": [r.to_json() for r in records[:KEEP_BUILDS] if r.result != "running"]}
        thread = threading.Thread(target=self._write, args=(data,), name="build-history", daemon=True)
        thread.start()
        return thread

    def _write(self, data: dict) -> None:
        with self._lock:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                tmp = self.path.with_suffix(".tmp")
                tmp.write_text(json.dumps(data), encoding="utf-8")
                os.replace(tmp, self.path)
            except OSError as exc:
                log.warning("cannot write the build history %s: %s", self.path, exc)


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
            color = RESULT_COLORS.get(r.result)
            return QColor(color) if color else None
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
