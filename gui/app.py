"""Start-up: command line, QApplication, the asyncio (qasync) loop and the main window."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time

os.environ.setdefault("QT_API", "pyside6")

from gui import APP_ID, APP_NAME, __version__  # noqa: E402

_START = time.perf_counter()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog=APP_ID, description=f"{APP_NAME}: build and manage AI containers.")
    p.add_argument("--engine", metavar="URL",
                   help="engine to use (unix:///path, tcp://host:port, ssh://user@host, npipe://...); "
                        "default: DOCKER_HOST, else the current Docker context, else the local socket")
    p.add_argument("--version", action="version", version=f"{APP_ID} {__version__}")
    p.add_argument("--quit-when-loaded", action="store_true",
                   help="exit as soon as both lists show the engine's contents (for benchmarks)")
    return p.parse_args(argv)


def ensure_app():
    """The QApplication, created on first use."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        app = QApplication(sys.argv[:1])
        app.setApplicationName(APP_ID)
        app.setApplicationDisplayName(APP_NAME)
        app.setApplicationVersion(__version__)
        app.setOrganizationName(APP_ID)
        app.setDesktopFileName(APP_ID)
    return app


def ensure_loop(app):
    """An asyncio loop driven by Qt's event loop (qasync), whoever runs that loop (app.exec or pytest-qt)."""
    import qasync

    try:
        loop = asyncio.get_event_loop_policy().get_event_loop()
    except RuntimeError:
        loop = None
    if isinstance(loop, qasync.QEventLoop) and not loop.is_closed():
        return loop
    loop = qasync.QEventLoop(app, already_running=True)
    asyncio.set_event_loop(loop)
    return loop


def create_window(engine_url: str | None = None):
    """The main window, connected (in the background) to the engine, ready to show."""
    from gui.engine import resolve_engine
    from gui.qt.main_window import MainWindow
    from gui.qt.session import EngineSession

    app = ensure_app()
    ensure_loop(app)
    session = EngineSession(resolve_engine(engine_url))
    window = MainWindow(session)
    app.aboutToQuit.connect(session.close)
    session.start()
    return window


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    app = ensure_app()
    from gui.qt.crash import CrashReporter

    reporter = CrashReporter(app)
    reporter.install()
    window = create_window(args.engine)
    if args.quit_when_loaded:
        from PySide6.QtCore import QTimer

        def _quit() -> None:
            window.repaint()  # the rows are painted before we call it loaded
            sys.stdout.write(f"loaded {time.perf_counter() - _START:.3f}s "
                             f"images={window.images_model.rowCount()} "
                             f"containers={window.containers_model.rowCount()}\n")
            sys.stdout.flush()
            app.quit()

        window.session.loaded.connect(lambda: QTimer.singleShot(0, _quit))
    window.show()
    code = app.exec()
    window.session.close()
    return code


if __name__ == "__main__":
    raise SystemExit(main())
