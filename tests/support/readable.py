"""A world-readable copy of what some imports need, for code a test runs as another user (`nobody`).

The checkout (and a virtualenv inside it) may be readable by its owner only; the copy lives in a folder
of its own under the system's temporary folder and is run with the base interpreter, not the venv's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Top-level modules loaded from the project or from site-packages (the standard library stays put).
_LIST = """
import sys, sysconfig
paths = sysconfig.get_paths()
outside = (paths["purelib"], paths["platlib"], {root!r})
for name, mod in list(sys.modules.items()):
    f = getattr(mod, "__file__", None)
    if f and "." not in name and f.startswith(outside):
        print(name, f, sep="\\t")
"""


def readable_copy(*modules: str) -> tuple[str, Path]:
    """Copy the third-party and project packages that importing ``modules`` loads; returns
    (interpreter, folder to put on PYTHONPATH). The caller removes the folder."""
    code = "".join(f"import {m}\n" for m in modules) + _LIST.format(root=str(ROOT) + os.sep)
    listed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    dest = Path(tempfile.mkdtemp(prefix="aics-readable-"))
    dest.chmod(0o755)
    for line in listed.stdout.splitlines():
        name, path = line.split("\t")
        src = Path(path)
        if src.name == "__init__.py":
            shutil.copytree(src.parent, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, dest / src.name)
    for root, dirs, files in os.walk(dest):
        for d in dirs:
            os.chmod(os.path.join(root, d), 0o755)
        for f in files:
            os.chmod(os.path.join(root, f), 0o644)
    interpreter = os.path.realpath(sys.executable)  # the venv's python is a link into the checkout
    assert not interpreter.startswith(sysconfig.get_paths()["purelib"])
    return interpreter, dest
