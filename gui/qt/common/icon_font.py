"""Material Design Icons 6 glyphs as QIcons, drawn from the font QtAwesome ships, without importing QtAwesome.

Importing qtawesome imports qtpy, whose ``from PySide6.QtCore import *`` (and QtGui, QtWidgets) makes
PySide6 create every class and enum of those modules: 130 ms of CPU before the first window showed
(tests/perf/bench_cold_start.py). The font and its charmap are the same files qtawesome uses, found
without running its package; where they are not found (an unusual bundle), qtawesome draws as before.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontDatabase, QIcon, QIconEngine, QPainter, QPixmap

PREFIX = "mdi6"
FONT = "materialdesignicons6-webfont-6.9.96.ttf"
CHARMAP = "materialdesignicons6-webfont-charmap-6.9.96.json"

_font: dict = {}


def _fonts_dir() -> Path | None:
    spec = importlib.util.find_spec("qtawesome")  # finds the package without importing it
    for base in (spec.submodule_search_locations or []) if spec else []:
        folder = Path(base) / "fonts"
        if (folder / FONT).is_file() and (folder / CHARMAP).is_file():
            return folder
    return None


def _load() -> tuple[str, dict[str, str]] | None:
    """(font family, name -> character), loaded once; None when the files are not there."""
    if "family" not in _font:
        _font["family"] = None
        folder = _fonts_dir()
        if folder is not None:
            font_id = QFontDatabase.addApplicationFont(str(folder / FONT))
            families = QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []
            if families:
                charmap = json.loads((folder / CHARMAP).read_text(encoding="utf-8"))
                _font["family"] = families[0]
                _font["chars"] = {k: chr(int(v, 16)) for k, v in charmap.items()}
    if _font["family"] is None:
        return None
    return _font["family"], _font["chars"]


class GlyphEngine(QIconEngine):
    """One glyph in ``color`` (``disabled`` when the icon is drawn disabled), at any size."""

    def __init__(self, family: str, char: str, color: QColor, disabled: QColor):
        super().__init__()
        self.family, self.char, self.color, self.disabled = family, char, QColor(color), QColor(disabled)
        # Pixmaps by (width, height, disabled): toolbars repaint their icons often, and each paint
        # would otherwise call into Python to lay out the glyph again (seen in bench_predict's stalls).
        self._pixmaps: dict[tuple[int, int, bool], QPixmap] = {}

    def _draw(self, painter: QPainter, rect: QRect, mode: QIcon.Mode) -> None:
        painter.save()
        painter.setPen(self.disabled if mode == QIcon.Mode.Disabled else self.color)
        font = QFont(self.family)
        font.setPixelSize(max(1, round(0.875 * rect.height())))  # qtawesome's size: room for the bearing
        painter.setFont(font)
        painter.drawText(rect, int(Qt.AlignmentFlag.AlignCenter), self.char)
        painter.restore()

    def paint(self, painter: QPainter, rect: QRect, mode: QIcon.Mode, state: QIcon.State) -> None:
        painter.drawPixmap(rect, self.pixmap(rect.size(), mode, state))

    def pixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QPixmap:
        key = (size.width(), size.height(), mode == QIcon.Mode.Disabled)
        pix = self._pixmaps.get(key)
        if pix is None:
            pix = QPixmap(size)
            pix.fill(Qt.GlobalColor.transparent)
            painter = QPainter(pix)
            self._draw(painter, QRect(QPoint(0, 0), size), mode)
            painter.end()
            self._pixmaps[key] = pix
        return pix

    def clone(self) -> QIconEngine:
        return GlyphEngine(self.family, self.char, self.color, self.disabled)


def glyph_icon(name: str, color: QColor, disabled: QColor) -> QIcon | None:
    """The icon ``mdi6.<name>``, or None when it cannot be drawn without qtawesome."""
    prefix, _, glyph = name.partition(".")
    loaded = _load() if prefix == PREFIX else None
    if loaded is None or glyph not in loaded[1]:
        return None
    family, chars = loaded
    return QIcon(GlyphEngine(family, chars[glyph], color, disabled))
