"""gui.qt.common.icon_font.CODES: the glyphs the app draws, without reading the 245 kB charmap at start."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from gui.qt.common import icon_font

GUI = Path(__file__).resolve().parents[2] / "gui"


def _charmap() -> dict[str, str]:
    folder = icon_font._fonts_dir()
    if folder is None:
        pytest.skip("qtawesome's fonts are not installed")
    return json.loads((folder / icon_font.CHARMAP).read_text(encoding="utf-8"))


def test_codes_are_those_of_the_charmap():
    charmap = _charmap()
    wrong = {name: code for name, code in icon_font.CODES.items() if charmap.get(name) != code}
    assert wrong == {}


def test_every_glyph_named_in_the_app_has_its_code():
    named = set()
    for path in GUI.rglob("*.py"):
        named |= set(re.findall(r"mdi6\.([a-z0-9-]+)", path.read_text(encoding="utf-8")))
    assert named, "no mdi6 names found: the scan is wrong"
    assert sorted(named - set(icon_font.CODES)) == []


def test_a_glyph_not_in_codes_is_found_in_the_charmap(qapp):
    charmap = _charmap()
    other = next(name for name in sorted(charmap) if name not in icon_font.CODES)
    from PySide6.QtGui import QColor

    icon = icon_font.glyph_icon(f"mdi6.{other}", QColor("black"), QColor("gray"))
    assert icon is not None and not icon.isNull()
    assert icon_font.glyph_icon("mdi6.no-such-glyph-here", QColor("black"), QColor("gray")) is None
