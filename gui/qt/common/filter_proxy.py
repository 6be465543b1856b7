"""Sorting plus filtering by text and by state for the lists."""

from __future__ import annotations

from PySide6.QtCore import QSortFilterProxyModel, Qt

from gui.qt.common.table_models import RecordRole, SortRole


class RecordFilterProxy(QSortFilterProxyModel):
    """Keeps rows whose text columns contain every word typed, and whose state is the chosen one."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setSortRole(SortRole)
        self.setDynamicSortFilter(True)
        self.setSortCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self._words: list[str] = []
        self._state = ""

    def _change_filter(self, apply) -> None:
        if hasattr(self, "beginFilterChange"):  # Qt 6.10+
            self.beginFilterChange()
            apply()
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            apply()
            self.invalidateRowsFilter()

    def set_text(self, text: str) -> None:
        self._change_filter(lambda: setattr(self, "_words", text.lower().split()))

    def set_state(self, state: str) -> None:
        self._change_filter(lambda: setattr(self, "_state", state))

    def presorted(self, records: list, column: int, order: Qt.SortOrder) -> list | None:
        """``records`` in the order this proxy's sort by ``column`` would show them, or None when it
        cannot say without Qt (ListPage.fill then lets Qt sort them). Qt's own comparison of SortRole
        data is not repeated here."""
        return None

    def shown_records(self) -> int:
        """How many records the filter lets through (a subclass may add rows that are not records)."""
        return self.rowCount()

    def filterAcceptsRow(self, row: int, parent) -> bool:
        model = self.sourceModel()
        rec = model.data(model.index(row, 0, parent), RecordRole)
        if rec is None:
            return True
        if self._state and getattr(rec, "state", self._state) != self._state:
            return False
        if not self._words:
            return True
        hay = " ".join(
            [str(model.data(model.index(row, c, parent)) or "") for c in range(model.columnCount())]
            + [rec.id]
        ).lower()
        return all(w in hay for w in self._words)
