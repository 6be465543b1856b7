"""The Predict page's cards without an engine: where a card's parts sit, and how often a drop lays the grid
out (each card laid the whole grid out once when it was shown: 200 layouts for a 200-picture drop)."""

from __future__ import annotations

import pytest
from PIL import Image
from PySide6.QtCore import QRect
from PySide6.QtWidgets import QLabel

from gui.predict import Prediction
from gui.qt.predict.card import PredictionCard
from gui.qt.predict.flow import FlowLayout


@pytest.fixture
def page(qtbot):
    from gui.app import create_window

    w = create_window("unix:///nonexistent/aics-test.sock")  # no engine: the cards wait for a target
    qtbot.addWidget(w)
    w.resize(1200, 800)
    w.show()
    w.pages.setCurrentWidget(w.predict_page)
    qtbot.waitExposed(w)
    yield w.predict_page
    w.predict_page.clear()
    w.close()


def test_a_drop_lays_the_grid_out_once_per_event_loop_turn_not_once_per_card(page, qtbot, tmp_path, monkeypatch):
    paths = []
    for i in range(60):
        p = tmp_path / f"p{i:02d}.png"
        Image.new("L", (16, 16), i).save(p)
        paths.append(str(p))
    passes = []
    real = FlowLayout._arrange

    def arrange(self, rect, move):
        if move:  # a pass that places the cards (move=False only measures a height)
            passes.append(1)
        return real(self, rect, move)

    monkeypatch.setattr(FlowLayout, "_arrange", arrange)
    monkeypatch.setattr("gui.qt.predict.page.CARDS_PER_TICK_MS", 10_000.0)  # every card in the first turn
    page.add_files(paths)
    assert len(page.cards) == 60 and page.panel.flow.count() == 60
    assert len(passes) <= 1, f"the grid was laid out {len(passes)} times while 60 cards were added"
    qtbot.wait(50)  # the event loop lays the grid out: every card gets its own place, in rows
    places = {c.geometry().topLeft().toTuple() for c in page.cards.values()}
    assert len(places) == 60 and len({y for _x, y in places}) > 1


def test_a_cards_parts_sit_in_a_column_inside_its_border(page, qtbot):
    card = PredictionCard("a-very-long-photo-name-from-the-camera-IMG_20240101_123456.jpg")
    page.panel.show_card(card)
    page.panel.place([card])
    card.set_prediction(Prediction(labels=("golden retriever", "labrador", "8"), scores=(0.41, 0.35, 0.02),
                                   round_trip_ms=42.0))
    qtbot.waitUntil(card.isVisible, timeout=2000)
    assert card.unsure.isVisible() and card.top == "golden retriever"
    inside = card.contentsRect()
    column = [card.thumb, card.name_label, card.top_label, card.bars, card.status]
    for part in [*column, card.unsure]:
        assert inside.contains(part.geometry()), (part.objectName(), part.geometry(), inside)
    for upper, lower in zip(column, column[1:], strict=False):
        assert upper.geometry().bottom() < lower.geometry().top(), (upper.objectName(), lower.objectName())
    top, badge = card.top_label.geometry(), card.unsure.geometry()
    assert top.right() < badge.left() and top.intersects(QRect(0, badge.center().y(), card.width(), 1))
    for label in (card.name_label, card.top_label):
        assert label.height() >= label.fontMetrics().height(), label.objectName()
    assert card.status.height() >= 2 * card.status.fontMetrics().height()  # an error has room for two lines

    card.set_failed("the server answered 500", "http")  # failed: the words can be copied, and no badge
    assert card.status.textInteractionFlags() & card.status.textInteractionFlags().TextSelectableByMouse
    assert card.findChild(QLabel, "cardStatus").text() == "the server answered 500"
