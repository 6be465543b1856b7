"""Unexpected exceptions: a short message for the user, the traceback in a log file."""

from __future__ import annotations

import datetime
import sys
import threading
import traceback
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QApplication, QMessageBox

from gui.paths import crash_log_path


def write_crash_log(exc_type, exc, tb, path: Path | None = None) -> Path:
    path = path or crash_log_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now().isoformat(timespec="seconds")
    with path.open("a", encoding="utf-8") as fh:
        fh.write(f"--- {stamp} ---\n")
        fh.write("".join(traceback.format_exception(exc_type, exc, tb)))
    return path


def crash_message(exc: BaseException, path: Path) -> str:
    what = str(exc) or type(exc).__name__
    return (f"Something went wrong: {what}\n\nThe app keeps running. "
            f"The details were written to {path}")


class CrashReporter(QObject):
    """Installed as sys.excepthook and threading.excepthook; shows a non-blocking message box."""

    _report = Signal(object, object, object)

    def __init__(self, parent: QObject | None = None, log_path: Path | None = None):
        super().__init__(parent)
        self.log_path = log_path
        self.last_box: QMessageBox | None = None
        self._report.connect(self._show, Qt.ConnectionType.QueuedConnection)

    def install(self) -> None:
        sys.excepthook = self.handle
        threading.excepthook = lambda args: self.handle(args.exc_type, args.exc_value, args.exc_traceback)

    def handle(self, exc_type, exc, tb) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            QApplication.quit()
            return
        try:
            path = write_crash_log(exc_type, exc, tb, self.log_path)
        except OSError as err:
            sys.__stderr__.write(f"could not write the crash log: {err}\n")
            traceback.print_exception(exc_type, exc, tb)
            path = Path("(not written)")
        try:
            self._report.emit(exc_type, exc, path)
        except RuntimeError:
            pass

    def _show(self, exc_type, exc, path) -> None:
        box = QMessageBox(QMessageBox.Icon.Critical, "AI Container Studio", crash_message(exc, path),
                          QMessageBox.StandardButton.Ok, QApplication.activeWindow())
        box.setObjectName("crashMessage")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.last_box = box
