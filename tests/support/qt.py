"""Helpers for ui tests that drive the real window."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel


def select_rows(page, keys) -> None:
    """Select exactly the rows of ``page`` (a ListPage) whose record keys are in ``keys``."""
    keys = {keys} if isinstance(keys, str) else set(keys)
    page.view.clearSelection()
    found = 0
    for i, r in enumerate(page.model.records()):
        if r.key in keys:
            found += 1
            page.view.selectionModel().select(page.proxy.mapFromSource(page.model.index(i, 0)),
                                              QItemSelectionModel.SelectionFlag.Select
                                              | QItemSelectionModel.SelectionFlag.Rows)
    assert found == len(keys), f"not listed: {keys}"
