"""Compose projects in the container list: a header row per project (its services and a state summary),
collapsible, placed above its containers.

The list stays a flat table (selection and scroll survive refreshes as before): the header rows come
from ProjectHeaderModel, concatenated after the container model, and ProjectProxy sorts each project's
containers under its header and hides them while it is collapsed. The container model is untouched,
so ``page.model.records()`` still holds containers only."""

from __future__ import annotations

from collections import Counter
from functools import cmp_to_key

from PySide6.QtCore import (
    QAbstractTableModel,
    QConcatenateTablesProxyModel,
    QModelIndex,
    QPersistentModelIndex,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QFont, QIcon, QPixmap
from PySide6.QtWidgets import QStyledItemDelegate, QStyleOptionViewItem

from gui.engine import ContainerInfo
from gui.qt.common import style
from gui.qt.common.filter_proxy import RecordFilterProxy
from gui.qt.common.table_models import ContainerTableModel, RecordRole, SortRole, exact_time, human_age

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
ProjectRole = Qt.ItemDataRole.UserRole + 10  # the project's name, on its header row
ARROW = 16  # the chevron's width: a click there collapses or expands


def label_of(c: ContainerInfo, key: str) -> str:
    for k, v in c.labels:  # a scan of the tuple: cheaper than label_map's dict on every filter call
        if k == key:
            return v
    return ""


def project_of(c: ContainerInfo | None) -> str:
    return label_of(c, PROJECT_LABEL) if c is not None else ""


def state_summary(members: list[ContainerInfo]) -> str:
    """"2 running, 1 exited": how many containers are in each state, most first."""
    counts = Counter(c.state for c in members)
    return ", ".join(f"{n} {state}" for state, n in counts.most_common())


class ProjectHeaderModel(QAbstractTableModel):
    """One row per compose project among the containers of ``records``, updated in place after the
    container model changed (connected after the concatenation, so it never nests in its changes)."""

    collapsedChanged = Signal(str)

    def __init__(self, records: ContainerTableModel, parent=None):
        super().__init__(parent)
        self.records = records
        self._names: list[str] = []  # row -> project
        self._members: dict[str, dict[str, ContainerInfo]] = {}
        self._leaving: list[str] = []  # ids of rows about to be removed
        self.collapsed: set[str] = set()
        records.rowsInserted.connect(lambda _p, first, last: self._read_rows(first, last))
        records.dataChanged.connect(lambda tl, br, _roles=(): self._read_rows(tl.row(), br.row()))
        records.rowsAboutToBeRemoved.connect(self._note_leaving)
        records.rowsRemoved.connect(self._drop_leaving)
        records.modelReset.connect(self._reset)
        self._reset()

    # -- following the containers ------------------------------------------------------
    def _read_rows(self, first: int, last: int) -> None:
        touched = set()
        for row in range(first, last + 1):
            rec = self.records.data(self.records.index(row, 0), RecordRole)
            project = project_of(rec)
            if project:
                self._members.setdefault(project, {})[rec.id] = rec
                touched.add(project)
        self._apply(touched)

    def _note_leaving(self, _parent, first: int, last: int) -> None:
        for row in range(first, last + 1):
            rec = self.records.data(self.records.index(row, 0), RecordRole)
            if project_of(rec):
                self._leaving.append(rec.id)

    def _drop_leaving(self, *_args) -> None:
        leaving, self._leaving = set(self._leaving), []
        touched = set()
        for project, members in self._members.items():
            if leaving & members.keys():
                for cid in leaving & members.keys():
                    del members[cid]
                touched.add(project)
        self._apply(touched)

    def _reset(self) -> None:
        self.beginResetModel()
        self._members = {}
        for rec in self.records.records():
            project = project_of(rec)
            if project:
                self._members.setdefault(project, {})[rec.id] = rec
        self._names = sorted(self._members)
        self.endResetModel()

    def _apply(self, touched: set[str]) -> None:
        for project in sorted(touched):
            if project in self._names:
                row = self._names.index(project)
                if self._members.get(project):
                    self.dataChanged.emit(self.index(row, 0), self.index(row, self.columnCount() - 1))
                else:
                    self.beginRemoveRows(QModelIndex(), row, row)
                    del self._names[row]
                    self._members.pop(project, None)
                    self.endRemoveRows()
            elif self._members.get(project):
                row = len(self._names)
                self.beginInsertRows(QModelIndex(), row, row)
                self._names.append(project)
                self.endInsertRows()

    # -- projects ----------------------------------------------------------------------
    def projects(self) -> list[str]:
        return list(self._names)

    def members(self, project: str) -> list[ContainerInfo]:
        """Its containers, by service then name."""
        found = (self._members.get(project) or {}).values()
        return sorted(found, key=lambda c: (label_of(c, SERVICE_LABEL), c.name))

    def set_collapsed(self, project: str, collapsed: bool) -> None:
        if (project in self.collapsed) == collapsed:
            return
        (self.collapsed.add if collapsed else self.collapsed.discard)(project)
        if project in self._names:
            row = self._names.index(project)
            self.dataChanged.emit(self.index(row, 0), self.index(row, 0))
        self.collapsedChanged.emit(project)

    # -- Qt API ------------------------------------------------------------------------
    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._names)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(ContainerTableModel.COLUMNS)

    def flags(self, index):
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index: QModelIndex | QPersistentModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        project = self._names[index.row()]
        col = index.column()
        if role == ProjectRole:
            return project
        if role == Qt.ItemDataRole.FontRole:
            font = QFont()
            font.setBold(True)
            return font
        members = self.members(project)
        if role == Qt.ItemDataRole.DecorationRole and col == 0:
            name = "mdi6.chevron-right" if project in self.collapsed else "mdi6.chevron-down"
            return style.icon(name)
        if role in (Qt.ItemDataRole.DisplayRole, SortRole):
            services = sorted({label_of(c, SERVICE_LABEL) for c in members} - {""})
            newest = max((c.created for c in members), default=0.0)
            return (project, "compose: " + ", ".join(services), state_summary(members), "",
                    human_age(newest) if role == Qt.ItemDataRole.DisplayRole else newest)[col]
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == 4:
                return exact_time(max((c.created for c in members), default=0.0))
            what = "expand" if project in self.collapsed else "collapse"
            return (f"Compose project {project}: {len(members)} container{'s' if len(members) != 1 else ''}. "
                    f"Click the arrow to {what} it; Start, Stop, Restart and Remove act on all of them.")
        return None


class ProjectProxy(RecordFilterProxy):
    """Sorts and filters the containers plus the project header rows: projects first (by name), each
    header above its containers (sorted by the chosen column), then the containers of no project; the
    containers of a collapsed project are hidden. Indexes of the container model are accepted by
    mapFromSource as they were when it was this proxy's source."""

    def __init__(self, records: ContainerTableModel, parent=None):
        super().__init__(parent)
        self.records = records
        # Whether any container belongs to a project; until one does, sorting is the plain one (a Python
        # lessThan that reads labels costs 4x the time of a full sort). Set before the concatenation
        # sorts the new rows, cleared when the last header row goes.
        self._grouping = False
        records.rowsInserted.connect(lambda _p, first, last: self._note_projects(first, last))
        records.modelReset.connect(lambda: self._note_projects(0, records.rowCount() - 1))
        self.concat = QConcatenateTablesProxyModel(self)
        self.concat.addSourceModel(records)
        self.headers = ProjectHeaderModel(records, self)  # connects after the concatenation did
        self.concat.addSourceModel(self.headers)
        self.setSourceModel(self.concat)
        self.headers.collapsedChanged.connect(lambda _p: self._change_filter(lambda: None))
        self.headers.rowsRemoved.connect(lambda *_a: setattr(self, "_grouping", bool(self.headers.rowCount())))
        self._note_projects(0, records.rowCount() - 1)

    def _note_projects(self, first: int, last: int) -> None:
        if not self._grouping:
            self._grouping = any(project_of(self.records.data(self.records.index(r, 0), RecordRole))
                                 for r in range(first, last + 1))

    def mapFromSource(self, index):
        if index.isValid() and index.model() is self.records:
            index = self.concat.mapFromSource(index)
        return super().mapFromSource(index)

    # -- rows --------------------------------------------------------------------------
    def project_at(self, index: QModelIndex) -> str:
        """The project of a header row, else ""."""
        return self.data(index, ProjectRole) or "" if index.isValid() else ""

    def shown_records(self) -> int:
        headers = sum(1 for r in range(self.headers.rowCount())
                      if self.mapFromSource(self.concat.mapFromSource(self.headers.index(r, 0))).isValid())
        return self.rowCount() - headers

    def _split(self, row: int) -> tuple[str, bool]:
        """(project, is its header) of a row of the concatenation."""
        n = self.records.rowCount()
        if row >= n:
            return self.headers._names[row - n], True
        return project_of(self.records.data(self.records.index(row, 0), RecordRole)), False

    # -- sorting and filtering ---------------------------------------------------------
    def lessThan(self, left, right) -> bool:
        if not self._grouping:
            return self._record_less(left, right)
        lp, lh = self._split(left.row())
        rp, rh = self._split(right.row())
        # Qt shows a descending sort in the reverse order of lessThan: flip what must not turn over.
        asc = self.sortOrder() == Qt.SortOrder.AscendingOrder
        if bool(lp) != bool(rp):
            return bool(lp) == asc
        if lp != rp:
            return (lp.lower(), lp) < (rp.lower(), rp) if asc else (lp.lower(), lp) > (rp.lower(), rp)
        if lh or rh:
            return lh == asc
        return self._record_less(left, right)

    def presorted(self, records: list, column: int, order: Qt.SortOrder) -> list | None:
        """The containers in the order lessThan sorts them when no container is in a compose project
        (None when one is): by ``_less`` of their sort keys, ties kept in the given order (Qt's sort is
        stable both ways)."""
        if any(project_of(c) for c in records):
            return None
        col = self.records.COLUMNS[column]
        key = col.sort or col.text
        keyed = [(key(c), c) for c in records]
        keyed.sort(key=cmp_to_key(lambda a, b: -1 if _less(a[0], b[0]) else 1 if _less(b[0], a[0]) else 0),
                   reverse=order == Qt.SortOrder.DescendingOrder)
        return [c for _k, c in keyed]

    def _record_less(self, left, right) -> bool:
        """Two containers' rows compared as the base class would (their SortRole data, case-insensitive),
        from the records themselves: 300 containers sorted in a fifth of the time."""
        column = left.column()
        return _less(self.records.sort_key(left.row(), column), self.records.sort_key(right.row(), column))

    def filterAcceptsRow(self, row: int, parent) -> bool:
        project, header = self._split(row)
        if header:
            return any(self._matches(c, project) for c in self.headers.members(project))
        if project and project in self.headers.collapsed:
            return False
        if super().filterAcceptsRow(row, parent):
            return True
        rec = self.records.data(self.records.index(row, 0), RecordRole)
        return bool(project) and self._matches(rec, project)

    def _matches(self, c: ContainerInfo, project: str) -> bool:
        """The state filter and the words typed, on a container's columns, id and project name."""
        if self._state and c.state != self._state:
            return False
        if not self._words:
            return True
        hay = " ".join([col.text(c) for col in ContainerTableModel.COLUMNS] + [c.id, project]).lower()
        return all(w in hay for w in self._words)


def _less(a, b) -> bool:
    """Two sort keys compared as QSortFilterProxyModel's case-insensitive lessThan does for ours."""
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() < b.lower()
    return a < b


class ProjectNameDelegate(QStyledItemDelegate):
    """The Name column: a project's containers indented under its header, by the chevron's width."""

    def __init__(self, parent=None):
        super().__init__(parent)
        blank = QPixmap(ARROW, ARROW)
        blank.fill(Qt.GlobalColor.transparent)
        self._blank = QIcon(blank)

    def initStyleOption(self, option: QStyleOptionViewItem, index) -> None:
        super().initStyleOption(option, index)
        if project_of(index.data(RecordRole)):
            option.features |= QStyleOptionViewItem.ViewItemFeature.HasDecoration
            option.icon = self._blank
            option.decorationSize = QSize(ARROW, ARROW)
