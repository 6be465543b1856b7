"""The list models change rows in place: selection survives and no reset happens."""

import dataclasses

import pytest
from PySide6.QtCore import QItemSelectionModel, QSortFilterProxyModel

from gui.engine import ContainerInfo
from gui.qt.common.table_models import ContainerTableModel, RecordRole, SortRole, human_age, human_size


def c(i, state="running"):
    return ContainerInfo(id=f"{i:064d}", name=f"c{i}", image="img", state=state, status="", created=float(i))


@pytest.fixture
def model(qapp):
    m = ContainerTableModel()
    m.replace_all([c(i) for i in range(10)])
    return m


def test_replace_all_touches_only_changes(model, qtbot):
    resets, inserted, removed, changed = [], [], [], []
    model.modelReset.connect(lambda: resets.append(1))
    model.rowsInserted.connect(lambda p, a, b: inserted.append((a, b)))
    model.rowsRemoved.connect(lambda p, a, b: removed.append((a, b)))
    model.dataChanged.connect(lambda a, b: changed.append(a.row()))
    new = [c(i) for i in range(10) if i not in (3, 4, 7)] + [c(10), dataclasses.replace(c(5), state="exited")]
    new = [x for x in new if x.id != c(5).id or x.state == "exited"]
    model.replace_all(new)
    assert resets == []
    assert removed == [(7, 7), (3, 4)]
    assert inserted == [(7, 7)]
    assert [r.name for r in model.records()] == ["c0", "c1", "c2", "c5", "c6", "c8", "c9", "c10"]
    assert model.record(c(5).id).state == "exited" and len(changed) == 1


def test_selection_survives_updates_through_a_sorting_proxy(model, qtbot):
    proxy = QSortFilterProxyModel()
    proxy.setSourceModel(model)
    proxy.setSortRole(SortRole)
    proxy.setDynamicSortFilter(True)
    proxy.sort(0)
    sel = QItemSelectionModel(proxy)
    target = proxy.mapFromSource(model.index(6, 0))
    sel.select(target, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
    model.remove_keys([c(1).id, c(2).id])
    model.upsert([c(42), dataclasses.replace(c(6), state="paused")])
    rows = sel.selectedRows()
    assert len(rows) == 1
    assert proxy.mapToSource(rows[0]).data() == "c6"
    assert model.record(c(6).id).state == "paused"


def test_human_figures():
    assert human_size(234_000_000) == "234 MB" and human_size(999) == "999 B"
    assert human_size(1_500_000_000) == "1.5 GB"
    assert human_age(100, now=100) == "just now" and human_age(0) == ""
    assert human_age(0.5, now=3 * 3600 + 1) == "3 hours ago"


def test_sort_key_is_the_sort_role_data_and_sorts_like_qt(qapp):
    from PySide6.QtCore import Qt

    from gui.qt.containers.projects import ProjectProxy

    m = ContainerTableModel()
    rows = [ContainerInfo(id=f"{i:064d}", name=name, image=image, state=state, status="", created=float(t))
            for i, (name, image, state, t) in enumerate([("b", "Zeta", "running", 3), ("A", "alpha", "exited", 1),
                                                         ("c", "Beta", "created", 2), ("a2", "beta", "running", 5)])]
    m.replace_all(rows)
    for row in range(m.rowCount()):
        for col in range(m.columnCount()):
            assert m.sort_key(row, col) == m.data(m.index(row, col), SortRole)
    # ProjectProxy compares records with sort_key: the order is the one Qt's own lessThan gives.
    for col in range(m.columnCount()):
        for order in (Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder):
            ours, plain = ProjectProxy(m), QSortFilterProxyModel()
            plain.setSourceModel(m)
            plain.setSortRole(SortRole)
            plain.setSortCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
            for proxy in (ours, plain):
                proxy.sort(col, order)
            names = [[p.data(p.index(r, 0)) for r in range(p.rowCount())] for p in (ours, plain)]
            assert names[0] == names[1], (col, order)


def _shown(proxy):
    return [proxy.data(proxy.index(r, 0), RecordRole).id for r in range(proxy.rowCount())]


def test_list_page_first_fill_is_put_in_order_in_python_and_sorted_after(qapp, qtbot):
    """ListPage.fill: a first fill of many containers shows them in the order Qt's sort gives (each
    column, both ways), with the proxy's sort off until the list painted or changed; then it sorts."""
    import random

    from PySide6.QtCore import Qt

    from gui.qt.common.list_page import PRESORT_MIN, ListPage
    from gui.qt.containers.projects import ProjectProxy

    rnd = random.Random(7)
    keep = []  # models, proxies and pages live to the end of the test
    states = ("running", "exited", "created")
    rows = [ContainerInfo(id=f"{i:064d}", name=f"{'Ab'[i % 2]}{rnd.randrange(10**6):06d}", image=f"img{i % 7}",
                          state=states[i % 3], status="", created=float(rnd.randrange(10**6)))
            for i in range(PRESORT_MIN + 36)]
    for col in range(len(ContainerTableModel.COLUMNS)):
        for order in (Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder):
            rnd.shuffle(rows)
            old = ContainerTableModel()  # Qt sorts the rows as they are inserted
            old_proxy = ProjectProxy(old)
            old_proxy.sort(col, order)
            old.replace_all(rows)
            m = ContainerTableModel()
            page = ListPage(m, "v", "container", col, proxy=ProjectProxy(m), sort_order=order)
            page.fill(rows)
            assert page.proxy.sortColumn() == -1, "the first fill was left to Qt's sort"
            assert _shown(page.proxy) == _shown(old_proxy), (col, order)
            page._sort_later.sort_now()
            assert page.proxy.sortColumn() == col and page.proxy.sortOrder() == order
            assert _shown(page.proxy) == _shown(old_proxy), (col, order)
            keep.append((old, old_proxy, m, page))

    # A change before the first paint sorts at once: a new container is shown in its place.
    m = ContainerTableModel()
    page = ListPage(m, "v", "container", 0, proxy=ProjectProxy(m), sort_order=Qt.SortOrder.AscendingOrder)
    page.fill(rows)
    first = dataclasses.replace(rows[0], id="f" * 64, name="0 first")
    m.upsert([first])
    assert page.proxy.sortColumn() == 0 and _shown(page.proxy)[0] == first.id
    keep.append((m, page))
    # Shown: sorted after its first paint. Few rows, or a compose project: Qt sorts them as they come.
    m = ContainerTableModel()
    page = ListPage(m, "v", "container", 1, proxy=ProjectProxy(m))
    qtbot.addWidget(page)
    page.fill(rows)
    assert page.proxy.sortColumn() == -1
    page.show()
    qtbot.waitUntil(lambda: page.proxy.sortColumn() == 1, timeout=900)  # before the 1 s fallback
    keep.append((m, page))
    for few in (rows[:PRESORT_MIN - 1], [dataclasses.replace(rows[0], labels=(("com.docker.compose.project", "p"),)),
                                         *rows[1:]]):
        m = ContainerTableModel()
        page = ListPage(m, "v", "container", 1, proxy=ProjectProxy(m))
        page.fill(few)
        assert page.proxy.sortColumn() == 1 and page._sort_later is None
        keep.append((m, page))
