"""Coloured state badges (running, paused, exited, unhealthy ...) for the State column of the container list."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QStyledItemDelegate

from gui.qt.common.style import BADGES, color
from gui.qt.common.table_models import BadgeRole, RecordRole


def badge_state(container) -> str:
    """The word on the badge: the engine's state, or "unhealthy" / "starting" from a health check."""
    status = (getattr(container, "status", "") or "").lower()
    if container.state == "running" and "(unhealthy)" in status:
        return "unhealthy"
    return container.state


class StateBadgeDelegate(QStyledItemDelegate):
    """Paints the state as a rounded, coloured pill with white text; the cell keeps its tooltip and sort.

    The cell's background (selection, alternate rows) is the base class's paint with the text left out:
    no QStyle in Python (its type costs PySide ~7 ms to make, before the list's first paint)."""

    PAD_X, PAD_Y = 8, 3
    _painting = False

    def initStyleOption(self, option, index) -> None:  # noqa: N802 (Qt's name)
        super().initStyleOption(option, index)
        if self._painting and index.data(RecordRole) is not None:
            option.text = ""  # the pill carries it

    def paint(self, painter: QPainter, option, index) -> None:
        rec = index.data(RecordRole)
        self._painting = True
        try:
            super().paint(painter, option, index)
        finally:
            self._painting = False
        if rec is None:
            return
        widget = option.widget
        state = index.data(BadgeRole) or badge_state(rec)
        text = str(index.data(Qt.ItemDataRole.DisplayRole) or state)
        fm = option.fontMetrics
        width = fm.horizontalAdvance(text) + 2 * self.PAD_X
        height = min(option.rect.height() - 4, fm.height() + 2 * self.PAD_Y)
        r = QRectF(option.rect.x() + 4, option.rect.center().y() - height / 2 + 1, width, height)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(color(f"badge-{state}", widget) if state in BADGES else color("muted", widget))
        painter.drawRoundedRect(r, height / 2, height / 2)
        painter.setPen(color("on-badge", widget))
        painter.drawText(r, Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()

    def sizeHint(self, option, index) -> QSize:
        size = super().sizeHint(option, index)
        rec = index.data(RecordRole)
        if rec is not None:
            text = str(index.data(Qt.ItemDataRole.DisplayRole) or badge_state(rec))
            size.setWidth(option.fontMetrics.horizontalAdvance(text) + 2 * self.PAD_X + 12)
        return size
