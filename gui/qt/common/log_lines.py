"""LogLines: a read-only, capped list of log lines that paints only the rows on screen.

Appending is O(lines added) whatever the view holds (QPlainTextEdit spends ~100 ms per 10,000
lines once it holds many), so a container writing 200,000 lines a second never stalls the UI.
Lines are selected by row (click, shift-click, drag, Ctrl+A) and copied with Ctrl+C. ANSI colour
escapes (a build step's red stderr, a server's coloured log levels) are taken out of the text and the
colour each line starts in is painted, the same in the build log and a container's log.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from PySide6.QtCore import QRect, Qt, Signal
from PySide6.QtGui import QColor, QFontDatabase, QGuiApplication, QKeySequence, QPainter, QPalette
from PySide6.QtWidgets import QAbstractScrollArea, QWidget

from gui.qt.common import style

if TYPE_CHECKING:
    from gui.builder.failure import AnsiLines

MAX_LINES = 100_000
# ANSI colour name -> style role of the text (the classic builder paints a step's stderr red).
ANSI_ROLES = {"red": "log-error", "green": "ok", "yellow": "warning", "blue": "accent", "cyan": "accent",
              "magenta": "syntax-variable", "grey": "muted"}
# A line on stderr is painted as an error only when it reads like one: Jupyter, uvicorn and Python's
# logging write everything (INFO too) to stderr.
_ERROR_LEVEL = re.compile(r"^\s*(?:\[[EFC][ \]]|\[?(?:ERROR|FATAL|CRITICAL|PANIC)\b|E\d{4} )")
_ERROR_WORD = re.compile(r"\b(?:error|errors?:|traceback|fatal|panic|exception)\b", re.IGNORECASE)
_PY_ERROR = re.compile(r"\b[A-Z]\w*(?:Error|Exception)\b")
_NOT_ERROR_LEVEL = re.compile(r"^\s*(?:\[[IWD][ \]]|\[?(?:INFO|WARNING|WARN|DEBUG)\b)")


def is_error_line(text: str) -> bool:
    """True for a log line that reports an error (a level E/ERROR/CRITICAL, a traceback, "error")."""
    if _ERROR_LEVEL.match(text):
        return True
    if _NOT_ERROR_LEVEL.match(text):
        return False  # "[I ... ServerApp] 0 errors", "INFO: ... error_rate" are not errors
    return bool(_ERROR_WORD.search(text) or _PY_ERROR.search(text))


class LogLines(QAbstractScrollArea):
    """Holds at most ``max_lines`` lines; older ones are dropped (``dropped`` counts them).

    Rows have absolute numbers: the first line ever appended is 0, lines loaded before it are
    negative, so a search result stays valid while lines come and go.
    """

    selectionChanged = Signal()

    def __init__(self, parent: QWidget | None = None, max_lines: int = MAX_LINES):
        super().__init__(parent)
        self.max_lines = max_lines
        self.texts: list[str] = []
        self.stamps: list[str] = []
        self.errs: list[bool] = []
        self.first = 0  # absolute number of texts[0]
        self.dropped = 0
        self.show_stamps = False
        self.pattern: re.Pattern | None = None
        self.current: int | None = None  # absolute row of the current search match
        self._anchor: int | None = None
        self._caret: int | None = None
        self._widest = 0
        self.colors: dict[int, QColor] = {}  # absolute row -> its text colour (from ANSI escapes)
        # Imported here, not at the top: gui.builder's package (jinja2, packaging) is ~130 ms of imports
        # the main window does not need before its first paint.
        from gui.builder.failure import AnsiLines

        self._ansi = AnsiLines()  # the colour carries from line to line (a reset may come lines later)
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.viewport().setCursor(Qt.CursorShape.IBeamCursor)
        self.verticalScrollBar().setSingleStep(1)
        self._metrics()

    # -- contents -----------------------------------------------------------------------
    @property
    def end(self) -> int:
        """Absolute number one past the last line."""
        return self.first + len(self.texts)

    def plain_texts(self, texts: list[str], row: int | None = None, ansi: AnsiLines | None = None) -> list[str]:
        """``texts`` without ANSI escapes; the colour each starts in goes to ``colors`` (absolute rows from
        ``row``, default ``end``). ``ansi`` carries the colour across calls (default: the view's)."""
        ansi = self._ansi if ansi is None else ansi
        joined = "".join(texts)  # one scan in C: most logs have no escapes at all
        if not ansi.color and "\x1b" not in joined and "\r" not in joined:
            return texts
        row = self.end if row is None else row
        out = []
        for i, text in enumerate(texts):
            plain, name = ansi.feed(text)
            role = ANSI_ROLES.get(name)
            if role:
                self.colors[row + i] = style.color(role, self)
            out.append(plain)
        return out

    def append(self, texts: list[str], stamps: list[str], stderr=frozenset(), ansi: bool = True) -> None:
        """Add lines at the end; ``ansi`` False: ``texts`` were passed through ``plain_texts`` already."""
        bar = self.verticalScrollBar()
        at_bottom = bar.value() >= bar.maximum()
        if ansi:
            texts = self.plain_texts(texts)
        self.texts.extend(texts)
        self.stamps.extend(stamps)
        errs = [False] * len(texts)
        for i in stderr:
            errs[i] = is_error_line(texts[i])
        self.errs.extend(errs)
        self._widest = max(self._widest, max((len(t) for t in texts[-2000:]), default=0))
        excess = len(self.texts) - self.max_lines
        if excess > 0:
            del self.texts[:excess], self.stamps[:excess], self.errs[:excess]
            self.first += excess
            self.dropped += excess
            if len(self.colors) > 2 * self.max_lines:  # forget colours of dropped rows, now and then
                self.colors = {r: c for r, c in self.colors.items() if r >= self.first}
        self._relayout(keep_bottom=at_bottom)

    def prepend(self, texts: list[str], stamps: list[str], stderr=frozenset()) -> int:
        """Insert older lines before the first; returns how many fitted under the cap."""
        room = max(0, self.max_lines - len(self.texts))
        skip = max(0, len(texts) - room)
        texts, stamps = texts[skip:], stamps[skip:]
        texts = self.plain_texts(texts, self.first - len(texts), type(self._ansi)())
        errs = [False] * len(texts)
        for i in stderr:
            if i >= skip:
                errs[i - skip] = is_error_line(texts[i - skip])
        bar = self.verticalScrollBar()
        value = bar.value()
        self.texts[:0], self.stamps[:0], self.errs[:0] = texts, stamps, errs
        self.first -= len(texts)
        self._widest = max(self._widest, max((len(t) for t in texts), default=0))
        self._relayout(keep_bottom=False)
        bar.setValue(value + len(texts))
        return len(texts)

    def line(self, row: int) -> str:
        """The line at absolute ``row`` as shown (with its timestamp when those are on)."""
        i = row - self.first
        if self.show_stamps and self.stamps[i]:
            return f"{self.stamps[i]} {self.texts[i]}"
        return self.texts[i]

    def set_show_stamps(self, on: bool) -> None:
        self.show_stamps = on
        self._relayout(keep_bottom=self.verticalScrollBar().value() >= self.verticalScrollBar().maximum())

    # -- search -------------------------------------------------------------------------
    def set_pattern(self, pattern: re.Pattern | None) -> None:
        self.pattern = pattern
        self.current = None
        self.viewport().update()

    def matching_rows(self) -> list[int]:
        if self.pattern is None:
            return []
        search = self.pattern.search
        return [self.first + i for i, t in enumerate(self.texts) if search(t)]

    def find(self, forward: bool) -> int | None:
        """Move to the next (or previous) line that matches; None when no line does."""
        if self.pattern is None or not self.texts:
            return None
        search = self.pattern.search
        n = len(self.texts)
        start = (self.current if self.current is not None else
                 (self._top_row() - 1 if forward else self._top_row() + self._rows()))
        start_i = min(max(start - self.first, -1), n)
        order = (list(range(start_i + 1, n)) + list(range(0, min(start_i + 1, n)))) if forward else \
            (list(range(start_i - 1, -1, -1)) + list(range(n - 1, max(start_i - 1, -1), -1)))
        for i in order:
            if search(self.texts[i]):
                self.current = self.first + i
                self.scroll_to(self.current)
                self.viewport().update()
                return self.current
        return None

    def scroll_to(self, row: int) -> None:
        top = self._top_row()
        if not top <= row < top + self._rows():
            self.verticalScrollBar().setValue(row - self.first - self._rows() // 2)

    # -- selection and copy -------------------------------------------------------------
    def selected_rows(self) -> range:
        if self._anchor is None or self._caret is None:
            return range(0)
        lo, hi = sorted((self._anchor, self._caret))
        return range(max(lo, self.first), min(hi + 1, self.end))

    def select_all(self) -> None:
        if self.texts:
            self._anchor, self._caret = self.first, self.end - 1
            self.selectionChanged.emit()
            self.viewport().update()

    def copy(self) -> int:
        rows = self.selected_rows()
        if not rows:
            rows = range(self.first, self.end)
        QGuiApplication.clipboard().setText("\n".join(self.line(r) for r in rows))
        return len(rows)

    def keyPressEvent(self, event):
        if event.matches(QKeySequence.StandardKey.Copy):
            self.copy()
        elif event.matches(QKeySequence.StandardKey.SelectAll):
            self.select_all()
        elif event.key() == Qt.Key.Key_End:
            self.verticalScrollBar().setValue(self.verticalScrollBar().maximum())
        elif event.key() == Qt.Key.Key_Home:
            self.verticalScrollBar().setValue(0)
        else:
            super().keyPressEvent(event)

    def _row_at(self, y: float) -> int:
        return self._top_row() + int(y // self._lh)

    def mousePressEvent(self, event):
        if event.button() == Qt.MouseButton.LeftButton and self.texts:
            row = min(max(self._row_at(event.position().y()), self.first), self.end - 1)
            if not (event.modifiers() & Qt.KeyboardModifier.ShiftModifier) or self._anchor is None:
                self._anchor = row
            self._caret = row
            self.selectionChanged.emit()
            self.viewport().update()
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event):
        if event.buttons() & Qt.MouseButton.LeftButton and self._anchor is not None and self.texts:
            self._caret = min(max(self._row_at(event.position().y()), self.first), self.end - 1)
            self.selectionChanged.emit()
            self.viewport().update()

    # -- layout and painting ------------------------------------------------------------
    def _metrics(self) -> None:
        fm = self.fontMetrics()
        self._lh = max(1, fm.lineSpacing())
        self._cw = max(1, fm.horizontalAdvance("M"))

    def _rows(self) -> int:
        return max(1, self.viewport().height() // self._lh)

    def _top_row(self) -> int:
        return self.first + self.verticalScrollBar().value()

    def _relayout(self, keep_bottom: bool) -> None:
        bar = self.verticalScrollBar()
        bar.setRange(0, max(0, len(self.texts) - self._rows()))
        bar.setPageStep(self._rows())
        stamp = 31 if self.show_stamps else 0
        hbar = self.horizontalScrollBar()
        hbar.setRange(0, max(0, (self._widest + stamp + 1) * self._cw - self.viewport().width()))
        hbar.setPageStep(self.viewport().width())
        hbar.setSingleStep(self._cw * 4)
        if keep_bottom:
            bar.setValue(bar.maximum())
        self.viewport().update()

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self._relayout(keep_bottom=self.verticalScrollBar().value() >= self.verticalScrollBar().maximum())

    def paintEvent(self, event):
        p = QPainter(self.viewport())
        pal = self.palette()
        width = self.viewport().width()
        p.fillRect(self.viewport().rect(), pal.color(QPalette.ColorRole.Base))
        text_color = pal.color(QPalette.ColorRole.Text)
        err_color = style.color("log-error", self)
        stamp_color = style.color("log-stamp", self)
        match_bg, current_bg = style.color("match", self), style.color("match-current", self)
        sel_bg = pal.color(QPalette.ColorRole.Highlight)
        sel_fg = pal.color(QPalette.ColorRole.HighlightedText)
        selected = self.selected_rows()
        x0 = 4 - self.horizontalScrollBar().value()
        ascent = self.fontMetrics().ascent()
        top = self.verticalScrollBar().value()
        for k in range(self._rows() + 1):
            i = top + k
            if i >= len(self.texts):
                break
            row = self.first + i
            y = k * self._lh
            text = self.texts[i].expandtabs(8)
            stamp = self.stamps[i] if self.show_stamps and self.stamps[i] else ""
            tx = x0 + (len(stamp) + 1) * self._cw if stamp else x0
            is_sel = row in selected
            if is_sel:
                p.fillRect(QRect(0, y, width, self._lh), sel_bg)
            if self.pattern is not None:
                bg = current_bg if row == self.current else match_bg
                for m in self.pattern.finditer(text):
                    if m.end() > m.start():
                        p.fillRect(QRect(tx + m.start() * self._cw, y, (m.end() - m.start()) * self._cw,
                                         self._lh), bg)
            if stamp:
                p.setPen(sel_fg if is_sel else stamp_color)
                p.drawText(x0, y + ascent, stamp)
            p.setPen(sel_fg if is_sel else (err_color if self.errs[i] else self.colors.get(row, text_color)))
            p.drawText(tx, y + ascent, text)
        p.end()
