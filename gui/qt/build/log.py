"""The build log (`buildLog`): LogLines plus step headers, cache hits and the failing step marked."""

from __future__ import annotations

from PySide6.QtCore import QRect
from PySide6.QtGui import QColor, QPainter

from gui.engine.build import BuildLine
from gui.qt.common.log_lines import LogLines

MAX_BUILD_LINES = 200_000
STEP_BG = QColor(26, 95, 180, 28)
CACHED_BG = QColor(30, 123, 52, 30)
FAILED_BG = QColor(217, 48, 37, 60)


class BuildLogView(LogLines):
    """Append BuildLine batches; only the rows on screen are painted, whatever the log holds."""

    def __init__(self, parent=None):
        super().__init__(parent, max_lines=MAX_BUILD_LINES)
        self.setObjectName("buildLog")
        self.marks: dict[int, QColor] = {}  # absolute row -> background
        self.step_rows: dict[int, int] = {}  # step number -> absolute row of its "Step n/m" line
        self.failed_rows: list[int] = []

    def clear(self) -> None:
        self.texts.clear()
        self.stamps.clear()
        self.errs.clear()
        self.first = self.dropped = 0
        self._anchor = self._caret = None
        self._widest = 0
        self.marks.clear()
        self.step_rows.clear()
        self.failed_rows.clear()
        self._relayout(keep_bottom=True)

    def add_lines(self, lines: list[BuildLine]) -> None:
        """Append one batch; marks step headers and cache hits, and the failing step on an error."""
        row = self.end
        texts, errors = [], set()
        for i, line in enumerate(lines):
            texts.append(line.text)
            if line.error:
                errors.add(i)
                self.failed_rows.append(row + i)
                self.marks[row + i] = FAILED_BG
                header = self.step_rows.get(line.step)
                if header is not None:
                    self.marks[header] = FAILED_BG
                    self.failed_rows.append(header)
            elif line.cached:
                self.marks[row + i] = CACHED_BG
            elif line.text.startswith("Step ") and line.step and line.step not in self.step_rows:
                self.step_rows[line.step] = row + i
                self.marks[row + i] = STEP_BG
        self.append(texts, [""] * len(texts), errors)
        if self.dropped and self.marks:
            gone = [r for r in self.marks if r < self.first]
            for r in gone:
                del self.marks[r]
        if errors:
            self.scroll_to(self.failed_rows[-1])

    def set_text_lines(self, texts: list[str]) -> None:
        """Show a finished build's saved log (from the history)."""
        self.clear()
        self.append(texts, [""] * len(texts))

    def paintEvent(self, event):
        super().paintEvent(event)
        if not self.marks:
            return
        p = QPainter(self.viewport())
        top = self.first + self.verticalScrollBar().value()
        width = self.viewport().width()
        for k in range(self._rows() + 1):
            color = self.marks.get(top + k)
            if color is not None:
                p.fillRect(QRect(0, k * self._lh, width, self._lh), color)
        p.end()
