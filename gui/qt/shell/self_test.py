"""--self-test: show the main window, wait for the engine (or a short timeout), print one line, exit.

It also starts the picture helper processes (gui.predict.helper) and waits for them to answer or fail,
so a bundle whose fork server cannot start says so."""

from __future__ import annotations

import sys
import time

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QGuiApplication

from gui import APP_ID, __version__
from gui.predict import helper

EXIT_OK = 0
EXIT_NO_WINDOW = 1
EXIT_NO_ENGINE = 2


class SelfTest(QObject):
    """Ends the app with EXIT_OK once the window showed (EXIT_NO_ENGINE when an engine is required
    and none answers, EXIT_NO_WINDOW when the window never showed within the timeout)."""

    def __init__(self, window, timeout_s: float = 10.0, require_engine: bool = False, out=None,
                 started: float | None = None):
        super().__init__(window)
        self.window = window
        self.require_engine = require_engine
        self.out = out or sys.stdout
        self.started = time.perf_counter() if started is None else started  # for the time it prints
        self.exit_code: int | None = None
        self._engine_done = False
        self._check_timer = QTimer(self)
        self._check_timer.setInterval(25)
        self._check_timer.timeout.connect(self._check)
        self._deadline = QTimer(self)
        self._deadline.setSingleShot(True)
        self._deadline.setInterval(int(timeout_s * 1000))
        self._deadline.timeout.connect(self._on_deadline)

    def start(self) -> None:
        session = self.window.session
        session.loaded.connect(self._on_engine_settled)
        session.stateChanged.connect(self._on_state)
        self._engine_done = session.has_loaded or session.state == "disconnected"
        helper.enable()
        helper.warm()  # in the background; _check waits for it to settle
        self._check_timer.start()
        self._deadline.start()

    def window_shown(self) -> bool:
        handle = self.window.windowHandle()
        return self.window.isVisible() and handle is not None and handle.isExposed()

    def line(self) -> str:
        session, w = self.window.session, self.window
        shown = "shown" if self.window_shown() else "NOT shown"
        parts = [f"{APP_ID} {__version__}", f"window {shown} ({QGuiApplication.platformName()})",
                 f"{time.perf_counter() - self.started:.2f}s"]
        if session.state == "connected" and session.has_loaded:
            info = session.info
            version = f"Docker Engine {info.version} (API {info.api_version})" if info else "engine"
            parts.append(f"engine {session.target.url} {version}")
            parts.append(f"images={w.images_model.rowCount()} containers={w.containers_model.rowCount()}")
        else:
            reason = session.message or "no answer yet"
            parts.append(f"engine {session.target.url} not connected: {reason}")
        parts.append(f"picture helpers {helper.status()}")
        return "self-test: " + ", ".join(parts)

    def _on_state(self, state: str, _message: str) -> None:
        if state == "disconnected":
            self._on_engine_settled()

    def _on_engine_settled(self) -> None:
        self._engine_done = True
        self._check()

    def _check(self) -> None:
        if (self.exit_code is None and self._engine_done and self.window_shown()
                and helper.status() != "starting"):
            self._finish()

    def _on_deadline(self) -> None:
        if self.exit_code is None:
            self._finish()

    def _finish(self) -> None:
        self._check_timer.stop()
        self._deadline.stop()
        connected = self.window.session.state == "connected" and self.window.session.has_loaded
        if not self.window_shown():
            self.exit_code = EXIT_NO_WINDOW
        elif self.require_engine and not connected:
            self.exit_code = EXIT_NO_ENGINE
        else:
            self.exit_code = EXIT_OK
        self.window.repaint()
        self.out.write(self.line() + "\n")
        self.out.flush()
        QGuiApplication.instance().exit(self.exit_code)
