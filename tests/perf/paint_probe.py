"""PaintProbe: the moment a widget has *painted*, not the moment its model changed.

An event filter on a view's viewport that, for each QEvent.Paint, lets the view paint first (it
sends the same event on, once, with the filter stepped aside) and then calls ``on_painted(t)`` with
``time.time()`` taken after the paint returned. Wall-clock seconds, so a benchmark can subtract the
engine's own event time (``timeNano``) or a stamp a container wrote into its log line.

A model change that the view never repaints (the row is scrolled away) gives no paint: benchmarks
must keep the rows they time on screen.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QEvent, QObject


class PaintProbe(QObject):
    def __init__(self, viewport, on_painted: Callable[[float], None]):
        super().__init__(viewport)
        self._viewport = viewport
        self._on_painted = on_painted
        self._inside = False
        self.paints = 0
        viewport.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt's name)
        if obj is not self._viewport or event.type() != QEvent.Type.Paint or self._inside:
            return False
        self._inside = True
        try:
            QCoreApplication.sendEvent(obj, event)  # the view's own paintEvent, now
        finally:
            self._inside = False
        self.paints += 1
        self._on_painted(time.time())
        return True  # painted already

    def remove(self) -> None:
        self._viewport.removeEventFilter(self)
