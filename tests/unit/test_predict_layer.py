"""gui.predict stays free of Qt: importing it pulls in no Qt binding, qasync or gui.qt."""

from __future__ import annotations

import subprocess
import sys


def test_importing_gui_predict_loads_no_qt():
    code = (
        "import sys, gui.predict, gui.predict.targets, gui.predict.export\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'PyQt5', 'PyQt6', 'qasync')"
        " or m.startswith('gui.qt'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
