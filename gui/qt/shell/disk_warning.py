"""A warning in the status bar when the engine's disk is nearly full (threshold: a preference)."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QMainWindow

from gui.qt.common import preferences, style
from gui.qt.common.table_models import human_size
from gui.qt.common.tasks import Task, unless_bug

WARN_KEY = preferences.DISK_WARN
DEFAULT_WARN_PERCENT = preferences.DEFAULT_DISK_WARN
CHECK_MS = 5 * 60 * 1000
# After connecting, the check waits this long: it asks the engine for its info again, which is no news a user
# waits for, while the window is being shown and painted.
AFTER_CONNECT_MS = 1000


def warn_percent() -> int:
    return preferences.disk_warn_percent()


class DiskWarning(QLabel):
    """Checks the file system under the engine's data root when connected and every few minutes (a cheap
    call, not the disk-usage walk); shows itself only above the threshold."""

    def __init__(self, window: QMainWindow):
        super().__init__(window)
        self.setObjectName("diskWarning")
        style.set_role(self, "warning")
        self.window_ = window
        self.hide()
        window.statusBar().addPermanentWidget(self)
        self._timer = QTimer(self)
        self._timer.setInterval(CHECK_MS)
        self._timer.timeout.connect(self.check)
        self._timer.start()
        window.engineChanged.connect(self._follow)
        self._follow(window.session)

    def _follow(self, session) -> None:
        self.hide()
        session.stateChanged.connect(lambda state, _m: state == "connected" and self._check_soon())
        if session.state == "connected":
            self._check_soon()

    def _check_soon(self) -> None:
        QTimer.singleShot(AFTER_CONNECT_MS, self, self.check)

    def check(self) -> None:
        from gui.engine.disk import data_root_space

        session = self.window_.session
        engine = session.engine
        task = Task(self, lambda: data_root_space(engine), session.reads)
        task.done.connect(self.show_space)
        task.failed.connect(unless_bug(lambda _exc: self.hide()))
        task.start()

    def show_space(self, space: tuple[int, int] | None) -> None:
        if not space or not space[0]:
            self.hide()
            return
        total, free = space
        used = (total - free) * 100 // total
        if used < warn_percent():
            self.hide()
            return
        self.setText(f"⚠ Engine disk {used} % full ({human_size(free)} free): see Disk space")
        self.setToolTip("Images, stopped containers, volumes and build cache can be cleaned up on the "
                        "Disk space page. The threshold is in Preferences.")
        self.show()
