"""The Predict page's drop panel without an engine: a drag over it lights its border and repaints only that;
the app keeps what it made at start out of the cycle collector's full passes."""

from __future__ import annotations

import gc

import pytest
from PySide6.QtCore import QEvent, QObject, QPoint
from PySide6.QtWidgets import QLabel

from gui.qt.common import style
from tests.support.predict_page import drag_enter, files_mime


class Paints(QObject):
    """Records the region of each paint event of the widgets it filters."""

    def __init__(self):
        super().__init__()
        self.seen: list[tuple[str, object]] = []

    def eventFilter(self, obj, event) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.seen.append((obj.objectName(), event.region()))
        return False


@pytest.fixture
def window(qtbot):
    from gui.app import create_window

    gc.unfreeze()  # whatever an earlier test froze: this window's start must freeze it again
    w = create_window("unix:///nonexistent/aics-test.sock")  # no engine needed
    qtbot.addWidget(w)
    w.resize(1200, 800)
    w.show()
    w.pages.setCurrentWidget(w.predict_page)
    qtbot.waitExposed(w)
    yield w
    w.close()


def test_a_drag_over_the_panel_lights_and_repaints_only_its_border(window, qtbot, tmp_path):
    panel = window.predict_page.panel
    qtbot.wait(50)
    paints = Paints()
    labels = [panel.findChild(QLabel, name) for name in ("dropGlyph", "dropTitle", "dropHint")]
    for w in (panel, *labels):
        w.installEventFilter(paints)
    edge = QPoint(1, panel.height() // 2)  # on the border's line, halfway down
    before = panel.grab().toImage().pixelColor(edge)
    paints.seen.clear()  # (the grab painted it all)

    picture = tmp_path / "a.png"
    picture.write_bytes(b"")
    assert drag_enter(panel, files_mime([picture]))
    qtbot.waitUntil(lambda: any(name == "dropPanel" for name, _ in paints.seen), timeout=2000)  # repainted
    qtbot.wait(50)

    inner = panel.rect().adjusted(20, 20, -20, -20)
    for name, region in paints.seen:
        assert name == "dropPanel", f"{name} was repainted for the highlight"
        assert not region.intersects(inner), f"the highlight repainted {region.boundingRect()}"
    assert panel.dragging
    accent = style.themed_color("accent", style.is_dark(panel))
    lit = panel.grab().toImage().pixelColor(edge)
    assert lit.rgb() != before.rgb() and abs(lit.blue() - accent.blue()) < 40, (lit.name(), accent.name())

    panel.dragLeaveEvent(None)
    assert not panel.dragging
    assert panel.grab().toImage().pixelColor(edge).rgb() == before.rgb()


def test_what_the_app_made_at_start_is_out_of_the_collectors_full_passes(window):
    assert gc.get_freeze_count() > 1000, gc.get_freeze_count()
