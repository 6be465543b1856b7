"""The build log (`buildLog`): LogLines plus step headers, cache hits and the failing step marked."""

from __future__ import annotations

from PySide6.QtCore import QRect
from PySide6.QtGui import QPainter

from gui.builder.failure import AnsiLines
from gui.engine.build import BuildLine
from gui.qt.common.log_lines import LogLines
from gui.qt.common.style import color as style_color

MAX_BUILD_LINES = 200_000
# Background roles (style.ROLES) of step headers, cache hits and failed lines; painted in the theme's colour.
STEP_BG, CACHED_BG, FAILED_BG = "build-step", "build-cached", "build-failed"


class BuildLogView(LogLines):
    """Append BuildLine batches; only the rows on screen are painted, whatever the log holds."""

    def __init__(self, parent=None):
        super().__init__(parent, max_lines=MAX_BUILD_LINES)
        self.setObjectName("buildLog")
        self.marks: dict[int, str] = {}  # absolute row -> role of its background
        self.step_rows: dict[int, int] = {}  # step number -> absolute row of its "Step n/m" line
        self.failed_rows: list[int] = []
        self.cause_row: int | None = None  # the line that says why the build failed

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
        self.colors.clear()
        self.cause_row = None
        self._ansi = AnsiLines()
        self._relayout(keep_bottom=True)

    def mark_cause(self, row: int) -> None:
        """Mark the line that says why the build failed (absolute ``row``) and show it in the middle."""
        self.cause_row = row
        self.marks[row] = FAILED_BG
        self.scroll_to(row, always=True)
        self.viewport().update()

    def scroll_to(self, row: int, always: bool = False) -> None:
        if always:
            self.verticalScrollBar().setValue(row - self.first - self._rows() // 2)
        else:
            super().scroll_to(row)

    def add_lines(self, lines: list[BuildLine]) -> None:
        """Append one batch; marks step headers and cache hits, and the failing step on an error."""
        row = self.end
        errors = set()
        texts = self.plain_texts([line.text for line in lines])
        for i, line in enumerate(lines):
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
            elif texts[i].startswith("Step ") and line.step and line.step not in self.step_rows:
                self.step_rows[line.step] = row + i
                self.marks[row + i] = STEP_BG
        self.append(texts, [""] * len(texts), errors, ansi=False)
        for i in errors:  # the engine said the build failed with this line: an error, whatever its words
            k = row + i - self.first
            if 0 <= k < len(self.errs):
                self.errs[k] = True
        if self.dropped and self.marks:
            gone = [r for r in self.marks if r < self.first]
            for r in gone:
                del self.marks[r]
            for r in [r for r in self.colors if r < self.first]:
                del self.colors[r]
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
            role = self.marks.get(top + k)
            if role is not None:
                p.fillRect(QRect(0, k * self._lh, width, self._lh), style_color(role, self))
        p.end()
