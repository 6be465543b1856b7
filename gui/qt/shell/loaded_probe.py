"""--quit-when-loaded: report and quit once the visible list has *painted* the engine's contents.

The report is the benchmark's clock (tests/perf/bench_cold_start.py), so it stops where a user would
say "it's there": the first paint of the shown list's viewport after both lists hold the engine's
contents (the session's ``loaded``), taken after that paint returned. tests/perf/cold_start_floor.py
stops a bare PySide6 window at the same point.
"""

from __future__ import annotations

import sys
import time

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication


class LoadedProbe(QObject):
    def __init__(self, window, started: float):
        super().__init__(window)
        self.window = window
        self.started = started
        self._inside = False
        self._viewport = None
        page = window.pages.currentWidget()
        view = getattr(page, "view", None)
        if view is None:  # not a list page: count the loaded lists as shown
            if window.session.has_loaded:  # the first read came before the window was built
                QTimer.singleShot(0, self, self._report)
            else:
                window.session.loaded.connect(self._report)
            return
        self._viewport = view.viewport()
        self._viewport.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt's name)
        if obj is not self._viewport or event.type() != QEvent.Type.Paint or self._inside:
            return False
        self._inside = True
        try:
            QCoreApplication.sendEvent(obj, event)  # paint now; the clock stops after it
        finally:
            self._inside = False
        if self.window.session.has_loaded:
            self._viewport.removeEventFilter(self)
            self._report()
        return True

    def _report(self) -> None:
        w = self.window
        sys.stdout.write(f"loaded {time.perf_counter() - self.started:.3f}s images={w.images_model.rowCount()} "
                         f"containers={w.containers_model.rowCount()}\n")
        sys.stdout.flush()
        QApplication.instance().quit()
