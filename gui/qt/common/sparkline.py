"""Sparkline: a small line plot of the latest values, painted with QPainter (nothing fetched)."""

from __future__ import annotations

from collections import deque

from PySide6.QtCore import QPointF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from gui.qt.common import style


class Sparkline(QWidget):
    """The last ``capacity`` values as a line, with a title and the latest value as text.

    ``role`` names the line's colour in style.ROLES; it is looked up at paint time, so a theme change shows.
    """

    def __init__(self, title: str, role: str = "spark-memory", capacity: int = 60, fixed_max: float | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.title = title
        self.role = role
        self.values: deque[float] = deque(maxlen=capacity)
        self.fixed_max = fixed_max
        self.text = "–"
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumHeight(64)

    def sizeHint(self) -> QSize:
        return QSize(240, 72)

    def add(self, value: float, text: str) -> None:
        self.values.append(float(value))
        self.text = text
        self.update()

    def clear(self) -> None:
        self.values.clear()
        self.text = "–"
        self.update()

    def paintEvent(self, event):
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        r = self.rect().adjusted(1, 1, -1, -1)
        p.fillRect(r, pal.color(QPalette.ColorRole.Base))
        p.setPen(pal.color(QPalette.ColorRole.Mid))
        p.drawRect(r)
        fm = self.fontMetrics()
        p.setPen(pal.color(QPalette.ColorRole.Text))
        p.drawText(r.adjusted(6, 2, -6, 0), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, self.title)
        p.drawText(r.adjusted(6, 2, -6, 0), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop, self.text)
        plot = r.adjusted(4, fm.height() + 6, -4, -4)
        values = list(self.values)
        if len(values) < 2 or plot.height() < 4:
            p.end()
            return
        top = max(self.fixed_max or 0.0, max(values), 1e-9)
        step = plot.width() / (self.values.maxlen - 1)
        x0 = plot.right() - step * (len(values) - 1)
        path = QPainterPath()
        for i, v in enumerate(values):
            pt = QPointF(x0 + i * step, plot.bottom() - (v / top) * plot.height())
            path.lineTo(pt) if i else path.moveTo(pt)
        fill = QPainterPath(path)
        fill.lineTo(QPointF(x0 + (len(values) - 1) * step, plot.bottom()))
        fill.lineTo(QPointF(x0, plot.bottom()))
        fill.closeSubpath()
        line = style.color(self.role, self)
        shade = QColor(line)
        shade.setAlpha(50)
        p.fillPath(fill, shade)
        p.setPen(QPen(line, 1.5))
        p.drawPath(path)
        p.end()
