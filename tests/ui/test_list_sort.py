"""Which way each list is sorted when it opens (real engine): names A to Z, newest first for what has a date."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt

from gui.qt.common.table_models import RecordRole


def shown_names(page) -> list[str]:
    """The records' names in the order the list shows them."""
    proxy = page.proxy
    return [proxy.data(proxy.index(row, 0), RecordRole).name for row in range(proxy.rowCount())]


def check_a_to_z(qtbot, page, first: str, last: str) -> None:
    """``first`` above ``last`` when the page opens; a click on the Name header turns the list round."""
    page.filter.setText(first.rsplit("-", 1)[0])  # only the two made here: the engine holds others
    qtbot.waitUntil(lambda: sorted(shown_names(page)) == [first, last], timeout=10000)
    header = page.view.horizontalHeader()
    assert (header.sortIndicatorSection(), header.sortIndicatorOrder()) == (0, Qt.SortOrder.AscendingOrder)
    assert shown_names(page) == [first, last], "names sort A to Z when the page opens"
    middle = QPoint(header.sectionViewportPosition(0) + header.sectionSize(0) // 2, header.height() // 2)
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=middle)
    assert shown_names(page) == [last, first], "a click on the header still sorts Z to A"


def test_volumes_and_networks_open_sorted_by_name_a_to_z(window, qtbot, docker_api, test_labels, unique_name):
    base = unique_name("sort")
    names = [f"{base}-a", f"{base}-z"]
    made_volumes, made_networks = [], []
    try:
        for name in reversed(names):  # z made first: the engine's own order must not be what puts a on top
            docker_api.create_volume(name, labels=test_labels)
            made_volumes.append(name)
            made_networks.append(docker_api.create_network(name, labels=test_labels)["Id"])
        for page in (window.volumes_page, window.networks_page):
            window.pages.setCurrentWidget(page)
            check_a_to_z(qtbot, page, *names)
    finally:
        for name in made_volumes:
            docker_api.remove_volume(name, force=True)
        for net_id in made_networks:
            docker_api.remove_network(net_id)


def test_lists_with_a_date_stay_newest_first_and_cluster_services_a_to_z(window):
    for page, column in ((window.containers_page, 4), (window.images_page, 3)):
        header = page.view.horizontalHeader()
        assert (header.sortIndicatorSection(), header.sortIndicatorOrder()) == (column, Qt.SortOrder.DescendingOrder)
    header = window.cluster_page.view.horizontalHeader()
    assert (header.sortIndicatorSection(), header.sortIndicatorOrder()) == (0, Qt.SortOrder.AscendingOrder)
