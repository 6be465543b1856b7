"""Colours live in gui/qt/common/style.py only: a colour written anywhere else in gui/qt stays light in a
dark theme (issue 9 item 5). Widgets name a role instead: ``set_role``, an objectName, ``style.color``."""

import re
from pathlib import Path

QT = Path(__file__).resolve().parents[2] / "gui" / "qt"
STYLE = QT / "common" / "style.py"

# What a colour written by hand looks like: "#rrggbb(aa)", QColor("...") or QColor(r, g, b), rgb()/rgba(),
# a named Qt colour (transparent is no colour), and a widget's own style sheet (which would override the
# application's).
FORBIDDEN = re.compile(
    r"#[0-9a-fA-F]{6}(?:[0-9a-fA-F]{2})?\b"
    r"|QColor\(\s*['\"\d]"
    r"|\brgba?\("
    r"|Qt\.GlobalColor\.(?!transparent\b)|\bQt\.(?:white|black|red|green|blue|gray|darkGray|lightGray|yellow)\b"
    r"|\.setStyleSheet\("
)


def offending_lines() -> list[str]:
    found = []
    for path in sorted(QT.rglob("*.py")):
        if path == STYLE:
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if FORBIDDEN.search(line):
                found.append(f"{path.relative_to(QT.parent.parent)}:{n}: {line.strip()}")
    return found


def test_no_colour_literal_outside_style_module():
    assert QT.is_dir() and STYLE.is_file()
    assert offending_lines() == [], "use a role of gui/qt/common/style.py (set_role, style.color, objectName)"


def test_the_check_sees_the_ways_colours_were_written():
    for line in ('self.error.setStyleSheet("color: #c62828")', 'MATCH = QBrush(QColor("#fff176"))',
                 "STEP_BG = QColor(26, 95, 180, 28)", 'p.setPen(QColor("#4a4f57"))', "fill: rgba(0, 0, 0, 0.1)",
                 'RESULT_COLORS = {"succeeded": "#1e7b34"}', "painter.setPen(Qt.GlobalColor.white)"):
        assert FORBIDDEN.search(line), line
    for line in ("shade = QColor(line)", "p.setBrush(style.color('chart-track', self))",
                 "# moby#32417: close the response", 'set_role(self.error, "error")',
                 "pix.fill(Qt.GlobalColor.transparent)"):
        assert not FORBIDDEN.search(line), line
