"""The Qt binding must not drop references to None (PySide6 6.12.0 did, and the app aborted)."""

import sys

import pytest
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt


class _Payload:
    """A value of our own: unlike None (immortal from Python 3.12), its reference count moves."""


PAYLOAD = _Payload()


class _Model(QAbstractTableModel):
    def rowCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else 1

    def columnCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else 1

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole:
            return "x"
        return PAYLOAD if role == Qt.ItemDataRole.UserRole else None


def _read_through_cpp(role, times: int = 200) -> list:
    model = _Model()
    proxy = QSortFilterProxyModel()
    proxy.setSourceModel(model)
    got = []
    for _ in range(times):
        got.append(proxy.data(proxy.index(0, 0), role))
        got.append(model.index(0, 0).data(role))
    return got


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None is immortal from Python 3.12 (PEP 683): its "
                    "count never moves, so a dropped reference can neither show here nor crash the app")
def test_data_returning_none_through_cpp_keeps_none_alive(qapp):
    before = sys.getrefcount(None)
    got = _read_through_cpp(Qt.ItemDataRole.FontRole)
    assert all(v is None for v in got)
    del got
    assert sys.getrefcount(None) - before > -50, "the Qt binding drops references to None"


def test_data_returning_an_object_through_cpp_keeps_it_alive(qapp):
    """The same round trip with a mortal object, so the check can fail on every Python version."""
    before = sys.getrefcount(PAYLOAD)
    got = _read_through_cpp(Qt.ItemDataRole.UserRole)
    assert all(v is PAYLOAD for v in got)
    del got
    assert sys.getrefcount(PAYLOAD) == before, "the Qt binding drops (or leaks) references it returns"
