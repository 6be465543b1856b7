"""What every list page shares: F5 re-reads the engine, actions follow the selection."""

from __future__ import annotations

from PySide6.QtGui import QAction


def test_f5_rereads_the_engine_on_every_list_page(window, qtbot, monkeypatch):
    calls = []
    monkeypatch.setattr(window.session, "refresh", lambda: calls.append(1))
    for page in (window.containers_page, window.images_page, window.volumes_page, window.networks_page):
        window.pages.setCurrentWidget(page)
        before = len(calls)
        refresh = next(a for a in page.findChildren(QAction) if a.objectName() == "actionRefresh")
        refresh.trigger()
        assert len(calls) == before + 1, page.objectName() or type(page).__name__


def test_actions_follow_the_selection(window, qtbot):
    page = window.networks_page
    window.pages.setCurrentWidget(page)
    qtbot.waitUntil(lambda: any(r.name == "bridge" for r in page.model.records()), timeout=10000)
    page.view.clearSelection()
    acts = page.actions_by_name
    assert acts["create"].isEnabled() and not acts["remove"].isEnabled() and not acts["connect"].isEnabled()
    page.view.selectAll()
    assert acts["remove"].isEnabled() and not acts["connect"].isEnabled()  # one row only for connect
