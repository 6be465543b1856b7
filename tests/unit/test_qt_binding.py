"""The Qt binding must not drop references to None (PySide6 6.12.0 did, and the app aborted)."""

import sys

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt


class _Model(QAbstractTableModel):
    def rowCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else 1

    def columnCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else 1

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        return "x" if role == Qt.ItemDataRole.DisplayRole else None


def test_data_returning_none_through_cpp_keeps_none_alive(qapp):
    model = _Model()
    proxy = QSortFilterProxyModel()
    proxy.setSourceModel(model)
    before = sys.getrefcount(None)
    for _ in range(200):
        assert proxy.data(proxy.index(0, 0), Qt.ItemDataRole.FontRole) is None
        assert model.index(0, 0).data(Qt.ItemDataRole.FontRole) is None
    assert sys.getrefcount(None) - before > -50, "the Qt binding drops references to None"
