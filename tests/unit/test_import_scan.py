"""gui.qt.import_scan: PySide6's import hook reads no source file of the app's own or the standard library's
modules once the app imported PySide6 through it. Pins the private names it relies on: when a PySide6
release changes them, the first test fails (and the app falls back to PySide6's own scanning)."""

from __future__ import annotations

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Runs in a fresh interpreter: PySide6 must not be imported yet. Prints the modules whose source
# PySide6's hook read (inspect.getsource) while a few of the app's modules and one standard one were
# imported for the first time.
SCRIPT = """
import inspect, sys
{import_pyside}
read = []
real = inspect.getsource
inspect.getsource = lambda obj: (read.append(getattr(obj, "__name__", "?")), real(obj))[1]
from gui.qt.common.table_models import RecordRole  # with it gui.engine, dataclasses, typing ...
import colorsys  # not imported by anything above
print(" ".join(read))
"""


def _read_sources(import_pyside: str) -> list[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run([sys.executable, "-c", SCRIPT.format(import_pyside=import_pyside)], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def test_pyside_alone_reads_the_source_of_every_new_module():
    read = _read_sources("import PySide6.QtWidgets")
    assert "gui.qt.common.table_models" in read and "colorsys" in read, read


def test_through_import_pyside_no_own_or_standard_source_is_read():
    read = _read_sources("from gui.qt.import_scan import import_pyside; import_pyside()")
    own_or_std = [n for n in read if n.split(".")[0] == "gui" or n.split(".")[0] in sys.stdlib_module_names]
    assert own_or_std == [], own_or_std


def test_the_answers_are_those_pyside_would_give_for_these_modules():
    code = ("from gui.qt.import_scan import import_pyside; import_pyside()\n"
            "import sys, colorsys\n"
            "from gui.qt.common.table_models import RecordRole\n"
            "d = sys.modules['shibokensupport.feature'].pyside_feature_dict\n"
            "print(d['colorsys'], d['gui.qt.common.table_models'])")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                         env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert out.returncode == 0, out.stderr
    # -1: does not use PySide (ignored by feature switching); 0: uses PySide, no feature selected.
    assert out.stdout.split() == ["-1", "0"]
