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

# Code points of the glyphs the app draws, as in the charmap (tests/unit/test_icon_font.py checks them
# against it, and that every "mdi6." name in gui/ is here): the charmap is 245 kB of JSON with 7,000 names,
# ~6 ms to read and convert before the first paint. A name not here is looked up in the charmap.
CODES = {
    "account-key-outline": "0xf0be4", "brain": "0xf09d1", "broom": "0xf00e2", "chevron-down": "0xf0140",
    "chevron-right": "0xf0142", "close-circle-outline": "0xf015a", "cloud-download-outline": "0xf0b7d",
    "cloud-upload-outline": "0xf0b7e", "code-json": "0xf0626", "console": "0xf018d", "cube-outline": "0xf01a7",
    "database-outline": "0xf1632", "delete-outline": "0xf09e7", "export": "0xf0207",
    "file-delimited-outline": "0xf0ea5", "file-swap-outline": "0xf0fb5", "folder-open-outline": "0xf0dcf",
    "folder-search-outline": "0xf0969", "hammer": "0xf08ea", "hammer-wrench": "0xf1323", "harddisk": "0xf02ca",
    "history": "0xf02da", "lan": "0xf0317", "lan-connect": "0xf0318", "lan-disconnect": "0xf0319",
    "layers-outline": "0xf09fe", "notebook-outline": "0xf0ebf", "pause": "0xf03e4", "play": "0xf040a",
    "play-circle-outline": "0xf040d", "play-pause": "0xf040e", "plus-box-outline": "0xf0704",
    "plus-network-outline": "0xf0cba", "refresh": "0xf0450", "restart": "0xf0709",
    "rocket-launch-outline": "0xf14df", "ruler": "0xf046d", "server-network": "0xf048d",
    "server-remove": "0xf0491", "skull-outline": "0xf0bc8", "stop": "0xf04db", "tag-outline": "0xf04fc",
    "text-box-outline": "0xf09ed", "undo-variant": "0xf054d", "update": "0xf06b0", "water-off-outline": "0xf1508",
}

_font: dict = {}


def _fonts_dir() -> Path | None:
    spec = importlib.util.find_spec("qtawesome")  # finds the package without importing it
    for base in (spec.submodule_search_locations or []) if spec else []:
        folder = Path(base) / "fonts"
        if (folder / FONT).is_file() and (folder / CHARMAP).is_file():
            return folder
    return None


def _load() -> tuple[str, dict[str, str]] | None:
    """(font family, name -> character for CODES), loaded once; None when the files are not there."""
    if "family" not in _font:
        _font["family"] = None
        folder = _fonts_dir()
        if folder is not None:
            font_id = QFontDatabase.addApplicationFont(str(folder / FONT))
            families = QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []
            if families:
                _font["family"] = families[0]
                _font["folder"] = folder
                _font["chars"] = {k: chr(int(v, 16)) for k, v in CODES.items()}
    if _font["family"] is None:
        return None
    return _font["family"], _font["chars"]


def _char(chars: dict[str, str], glyph: str) -> str | None:
    """The character of ``glyph``: from CODES, else from the charmap (read the first time it is needed)."""
    if glyph not in chars and not _font.get("charmap_read"):
        _font["charmap_read"] = True
        charmap = json.loads((_font["folder"] / CHARMAP).read_text(encoding="utf-8"))
        chars.update((k, chr(int(v, 16))) for k, v in charmap.items() if k not in chars)
    return chars.get(glyph)


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
    char = _char(loaded[1], glyph) if loaded is not None else None
    if char is None:
        return None
    return QIcon(GlyphEngine(loaded[0], char, color, disabled))
