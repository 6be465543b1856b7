"""Table models for the image and container lists, updated in place (no reset on refresh)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QFont

from gui.engine import ContainerInfo
from gui.qt.common.style import color as style_color

RecordRole = Qt.ItemDataRole.UserRole + 1
SortRole = Qt.ItemDataRole.UserRole + 2
BadgeRole = Qt.ItemDataRole.UserRole + 3  # the colour key of a state badge (style.BADGES)


def human_size(n: int) -> str:
    """Sizes the way `docker images` prints them (powers of 1000)."""
    size = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.3g} {unit}"
        size /= 1000
    return f"{n} B"


def human_age(ts: float, now: float | None = None) -> str:
    if not ts:
        return ""
    secs = max(0, int((now or time.time()) - ts))
    for unit, span in (("year", 365 * 86400), ("month", 30 * 86400), ("week", 7 * 86400),
                       ("day", 86400), ("hour", 3600), ("minute", 60)):
        if secs >= span:
            n = secs // span
            return f"{n} {unit}{'s' if n > 1 else ''} ago"
    return "just now"


def exact_time(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts else ""


@dataclass(frozen=True)
class Column:
    title: str
    text: Callable[[Any], str]
    sort: Callable[[Any], Any] | None = None
    tooltip: Callable[[Any], str] | None = None
    link: Callable[[Any], bool] | None = None  # shown as a link when true


class RecordTableModel(QAbstractTableModel):
    """Rows of frozen records keyed by ``record.key``; changes are applied as row inserts,
    removes and dataChanged, so views keep their selection and scroll position."""

    COLUMNS: tuple[Column, ...] = ()

    def __init__(self, parent=None):
        super().__init__(parent)
        self._rows: list[Any] = []
        self._index: dict[str, int] = {}

    # -- Qt API -----------------------------------------------------------------------
    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section].title
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        rec = self._rows[index.row()]
        col = self.COLUMNS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return col.text(rec)
        if role == SortRole:
            return (col.sort or col.text)(rec)
        if role == Qt.ItemDataRole.ToolTipRole and col.tooltip is not None:
            return col.tooltip(rec)
        if role == RecordRole:
            return rec
        if col.link is not None and role in (Qt.ItemDataRole.ForegroundRole, Qt.ItemDataRole.FontRole):
            if not col.link(rec):
                return None
            if role == Qt.ItemDataRole.ForegroundRole:
                return style_color("link")
            font = QFont()
            font.setUnderline(True)
            return font
        return None

    # -- records ----------------------------------------------------------------------
    def records(self) -> list[Any]:
        return list(self._rows)

    def record(self, key: str) -> Any | None:
        row = self._index.get(key)
        return None if row is None else self._rows[row]

    def sort_key(self, row: int, column: int) -> Any:
        """What ``data(index(row, column), SortRole)`` gives, without a round trip through Qt: a proxy's
        Python ``lessThan`` compares rows with it (each ``data`` call from Qt's sort costs more Python calls,
        for ``rowCount``, ``columnCount`` and the index, than the comparison itself)."""
        col = self.COLUMNS[column]
        return (col.sort or col.text)(self._rows[row])

    def replace_all(self, records: Iterable[Any]) -> None:
        """Make the model hold exactly ``records``, touching only what changed."""
        records = list(records)
        wanted = {r.key for r in records}
        self.remove_keys([k for k in self._index if k not in wanted])
        self.upsert(records)

    def upsert(self, records: Iterable[Any]) -> None:
        new: list[Any] = []
        for rec in records:
            row = self._index.get(rec.key)
            if row is None:
                new.append(rec)
            elif self._rows[row] != rec:
                self._rows[row] = rec
                self.dataChanged.emit(self.index(row, 0), self.index(row, len(self.COLUMNS) - 1))
        if new:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
            for rec in new:
                self._index[rec.key] = len(self._rows)
                self._rows.append(rec)
            self.endInsertRows()

    def remove_keys(self, keys: Iterable[str]) -> None:
        rows = sorted({self._index[k] for k in keys if k in self._index}, reverse=True)
        if not rows:
            return
        # Remove contiguous runs from the bottom up, so earlier row numbers stay valid.
        start = end = rows[0]
        runs = []
        for r in rows[1:]:
            if r == start - 1:
                start = r
            else:
                runs.append((start, end))
                start = end = r
        runs.append((start, end))
        for first, last in runs:
            self.beginRemoveRows(QModelIndex(), first, last)
            del self._rows[first:last + 1]
            self.endRemoveRows()
        self._index = {rec.key: i for i, rec in enumerate(self._rows)}


class ImageTableModel(RecordTableModel):
    COLUMNS = (
        Column("Repository:Tag", lambda r: r.reference, lambda r: r.reference.lower()),
        Column("Image ID", lambda r: r.short_id, tooltip=lambda r: r.id),
        Column("Size", lambda r: human_size(r.size), lambda r: r.size),
        Column("Created", lambda r: human_age(r.created), lambda r: r.created, lambda r: exact_time(r.created)),
    )


def state_text(c: ContainerInfo) -> str:
    """The State column: the health of a running container with a health check ("healthy",
    "starting", "unhealthy"), the exit code of an exited one ("exited (137)"), else its state."""
    if c.state == "running" and c.health:
        return c.health
    if c.state == "exited" and c.exit_code is not None:
        return f"exited ({c.exit_code})"
    return c.state


def state_badge(c: ContainerInfo) -> str:
    """The colour of its badge: its state's; "unhealthy" while its health check fails, and the colour of
    a state in progress ("restarting") until its first check passed."""
    if c.state == "running" and c.health in ("unhealthy", "starting"):
        return "unhealthy" if c.health == "unhealthy" else "restarting"
    return c.state


class ContainerTableModel(RecordTableModel):
    STATE = 2
    COLUMNS = (
        Column("Name", lambda r: r.name, lambda r: r.name.lower(), lambda r: r.id),
        Column("Image", lambda r: r.image, lambda r: r.image.lower()),
        Column("State", state_text, tooltip=lambda r: r.status),
        Column("Ports", lambda r: r.ports_text, tooltip=lambda r: "Click to open in the browser" if
               any(p.host_port for p in r.ports) else "", link=lambda r: any(p.host_port for p in r.ports)),
        Column("Created", lambda r: human_age(r.created), lambda r: r.created, lambda r: exact_time(r.created)),
    )

    def __init__(self, parent=None):
        super().__init__(parent)
        self.transitions: dict[str, str] = {}  # container id -> "stopping…" while the user's action runs

    def data(self, index: QModelIndex | QPersistentModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if index.isValid() and index.column() == self.STATE:
            rec = self._rows[index.row()]
            moving = self.transitions.get(rec.id)
            if role == Qt.ItemDataRole.DisplayRole and moving:
                return moving
            if role == BadgeRole:
                return "restarting" if moving else state_badge(rec)
        return super().data(index, role)

    def set_transition(self, container_id: str, text: str | None) -> None:
        """Show ``text`` ("stopping…") as its state until called again with None."""
        if text:
            self.transitions[container_id] = text
        elif self.transitions.pop(container_id, None) is None:
            return
        row = self._index.get(container_id)
        if row is not None:
            self.dataChanged.emit(self.index(row, self.STATE), self.index(row, self.STATE))

