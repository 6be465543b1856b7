"""Import PySide6 so that its import hook reads no source file whose answer is known already.

Once shiboken is loaded it replaces ``__import__``: after each import statement it takes the module the
statement named and, the first time it meets that name, reads the module's whole source file
(``inspect.getsource``) to see whether it mentions "PySide6" (PYSIDE-2029: which modules take part in
``from __feature__ import``). Before the app's first paint that was ~100 source files read besides their
bytecode: 30 ms of CPU, and as many more files read from the disk on a cold start
(tests/perf/bench_cold_start.py). PySide keeps the answers in ``pyside_feature_dict`` (module name -> 0
"uses PySide", -1 "ignore"); ``import_pyside`` fills in the ones known without reading: -1 for the
standard library, 0 for this app's own modules (0 and -1 differ only for a module that imports from
``__feature__``, which none of them does). Other modules are left to PySide. This module imports no Qt
itself, so that it is not read either. tests/unit/test_import_scan.py pins the private names it uses.
"""

from __future__ import annotations

import sys

OWN_PACKAGE = "gui"


def import_pyside() -> None:
    """Import PySide6's widgets (and with them its import hook), then give the hook what it need not read."""
    import PySide6.QtWidgets  # noqa: F401

    answers = _answers()
    if answers is None:  # another PySide: it scans as it likes
        return
    for name in list(sys.modules):
        known = _known(name)
        if known is not None:
            answers.setdefault(name, known)
    if not any(isinstance(finder, _Marker) for finder in sys.meta_path):
        sys.meta_path.insert(0, _Marker(answers))


def _answers() -> dict | None:
    feature = sys.modules.get("shibokensupport.feature")
    answers = getattr(feature, "pyside_feature_dict", None)
    return answers if isinstance(answers, dict) else None


def _known(name: str) -> int | None:
    top = name.partition(".")[0]
    if top == OWN_PACKAGE:
        return 0
    if top in sys.stdlib_module_names:
        return -1
    return None


class _Marker:
    """A meta path finder that finds nothing: it notes the answer for a module about to be imported."""

    def __init__(self, answers: dict):
        self.answers = answers

    def find_spec(self, name, path=None, target=None):
        known = _known(name)
        if known is not None:
            self.answers.setdefault(name, known)
        return None
