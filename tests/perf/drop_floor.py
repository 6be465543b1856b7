"""The floor for bench_predict's batch stall: the least a PySide6 window can do with the same drag and drop.

A bare top-level window of the app's size, in the same process and run: a frame that paints its own
border (no stylesheet) and a label. Like the bench's batch, it idles for ``idle`` seconds, then the drag
enters (its border repainted in another colour), the pointer crosses it for 0.1 s, and the drop comes
(its URLs read, one label saying how many). The longest gap of the same 5 ms timer, from the drag's entry
to 0.3 s after the drop, is what any Qt program pays on this machine for waking up to a drag; the app's
batch stall is reported beside it.
"""

from __future__ import annotations

from PySide6.QtCore import QEventLoop, QMimeData, QRectF, QTimer
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

from tests.perf.stall_sampler import StallSampler
from tests.support.predict_page import drag_enter, drop


class _Panel(QFrame):
    def __init__(self) -> None:
        super().__init__()
        self.setAcceptDrops(True)
        self.over = False
        self.label = QLabel("Drop pictures here")
        QVBoxLayout(self).addWidget(self.label)

    def dragEnterEvent(self, event) -> None:
        event.acceptProposedAction()
        self.over = True
        self.update()

    def dropEvent(self, event) -> None:
        event.acceptProposedAction()
        self.over = False
        self.label.setText(f"{len(event.mimeData().urls())} pictures")
        self.update()

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.setPen(QPen(QColor("#1f5fbf" if self.over else "#c5cbd3"), 2))
        p.drawRoundedRect(QRectF(self.rect()).adjusted(1, 1, -1, -1), 10, 10)
        p.end()


def _wait(seconds: float) -> None:
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def floor_stall(mime: QMimeData, width: int, height: int, idle: float = 3.0) -> float:
    """The longest UI stall (ms) of a bare window taking the drag and drop of ``mime`` after ``idle`` s."""
    window = QWidget()
    panel = _Panel()
    QVBoxLayout(window).addWidget(panel)
    window.resize(width, height)
    window.show()
    try:
        _wait(idle)
        sampler = StallSampler(threshold_ms=30)
        sampler.start()
        assert drag_enter(panel, mime)
        _wait(0.1)
        assert drop(panel, mime)
        _wait(0.3)
        return sampler.stop()
    finally:
        window.close()
        window.deleteLater()
