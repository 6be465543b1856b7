"""Start-up: command line, QApplication, the asyncio (qasync) loop and the main window."""

from __future__ import annotations

import argparse
import asyncio
import atexit
import gc
import os
import sys
import time

os.environ.setdefault("QT_API", "pyside6")

from gui import APP_ID, APP_NAME, __version__  # noqa: E402

_START = time.perf_counter()
CLI_COMMANDS = ("build", "predict", "evaluate", "bench")  # gui.cli.COMMANDS, without importing it


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog=APP_ID, description=f"{APP_NAME}: build and manage AI containers.")
    p.add_argument("--engine", metavar="URL",
                   help="engine to use (unix:///path, tcp://host:port, ssh://user@host, npipe://...); "
                        "default: DOCKER_HOST, else the engine used last time, else the current Docker "
                        "context, else the local socket")
    p.add_argument("--version", action="version", version=f"{APP_ID} {__version__}")
    p.add_argument("--quit-when-loaded", action="store_true",
                   help="exit as soon as both lists show the engine's contents (for benchmarks)")
    p.add_argument("--self-test", action="store_true",
                   help="open the main window, wait for the engine (or a short timeout), print one line "
                        "of what was found and exit 0 once the window showed")
    p.add_argument("--require-engine", action="store_true",
                   help="with --self-test: exit 2 when no engine answers")
    p.add_argument("--self-test-timeout", type=float, default=10.0, metavar="SECONDS",
                   help="with --self-test: how long to wait for the window and the engine (default 10)")
    p.add_argument("--install-desktop-entry", action="store_true",
                   help="add the app to the desktop menu of this user (freedesktop entry and icons) and exit")
    p.add_argument("--uninstall-desktop-entry", action="store_true",
                   help="remove what --install-desktop-entry added and exit")
    p.add_argument("--theme", choices=("system", "light", "dark"),
                   help="colours of the window (default: AICS_THEME, else follow the system's light or dark "
                        "theme)")
    args = p.parse_args(argv)
    if args.require_engine and not args.self_test:
        p.error("--require-engine only goes with --self-test")
    return args


def ensure_app():
    """The QApplication, created on first use."""
    from gui.qt.import_scan import import_pyside

    import_pyside()
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        app = QApplication(sys.argv[:1])
        app.setApplicationName(APP_ID)
        app.setApplicationDisplayName(APP_NAME)
        app.setApplicationVersion(__version__)
        app.setOrganizationName(APP_ID)
        app.setDesktopFileName(APP_ID)
    if not app.property("aicsThemed"):  # also when someone else made the QApplication (pytest-qt, a host)
        from gui.qt.common.style import apply_theme

        apply_theme(app)
        app.setProperty("aicsThemed", True)
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


def app_icon():
    """The windows' icon, from the bundled PNGs up to 128 px (no SVG plug-in needed).

    X11 gets every size of a window's icon when the window is shown (_NET_WM_ICON): the 256 and 512 px
    PNGs took 8 ms of decoding before the first paint. Launchers and docks take the large sizes from the
    desktop entry's icons (gui/desktop.py installs them all); the About dialog shows 96 px."""
    from PySide6.QtCore import QSize
    from PySide6.QtGui import QIcon

    from gui.resources import ICON_SIZES, icon_png

    icon = QIcon()
    for size in ICON_SIZES:
        if size <= 128:
            icon.addFile(str(icon_png(size)), QSize(size, size))  # the size given: no file read to learn it
    return icon


def _build_window(target, first_read=None):
    # The engine is asked first (event stream, then info and both lists, on threads): the answers come
    # while the window's modules are imported and its widgets made.
    if first_read is None:
        from gui.engine.first_read import FirstRead

        first_read = FirstRead(target)
    from gui.qt.shell.main_window import MainWindow
    from gui.qt.shell.session import EngineSession

    app = ensure_app()
    ensure_loop(app)
    if app.windowIcon().isNull():
        app.setWindowIcon(app_icon())
    session = EngineSession(target, first_read=first_read)
    window = MainWindow(session)
    # What exists now (modules, the window's widgets and their Python wrappers) lives as long as the app:
    # out of the cycle collector's full passes from here on. A full pass over it held Python's lock for
    # ~45 ms, on whichever thread ran it: a worker's froze the UI thread for as long (bench_predict).
    gc.freeze()
    window.setWindowIcon(app.windowIcon())
    app.aboutToQuit.connect(session.close)
    atexit.register(session.close)  # streams end before Qt is torn down, however the process exits
    session.start()
    return window


def create_window(engine_url: str | None = None):
    """The main window, connected (in the background) to the engine, ready to show."""
    from gui.engine import resolve_engine

    return _build_window(resolve_engine(engine_url))


def choose_engine(explicit: str | None, settings):
    """--engine, else DOCKER_HOST, else the engine this user's app connected to last, else the defaults."""
    from gui.engine import EngineTarget, resolve_engine
    from gui.qt.shell.window_state import last_engine

    if explicit or os.environ.get("DOCKER_HOST"):
        return resolve_engine(explicit)
    last = last_engine(settings)
    return EngineTarget(last, "last used") if last else resolve_engine()


def _desktop_entry(install: bool) -> int:
    from gui import desktop

    try:
        if install:
            paths = desktop.install_entry()
            print(f"installed {paths.desktop_file} and {len(paths.icons)} icons below "
                  f"{paths.icons[0].parents[3]}")
        else:
            removed = desktop.uninstall_entry()
            print(f"removed {len(removed)} files" if removed else "the desktop entry was not installed")
    except OSError as exc:
        print(f"{APP_ID}: {exc}", file=sys.stderr)
        return 1
    return 0


def quit_on_signals(app) -> None:
    """SIGTERM and SIGINT (logout, `kill`, Ctrl+C) quit the app the normal way, so its state is saved."""
    import signal
    import socket

    from PySide6.QtCore import QSocketNotifier

    if sys.platform == "win32":
        return
    rsock, wsock = socket.socketpair()
    rsock.setblocking(False)
    wsock.setblocking(False)
    signal.set_wakeup_fd(wsock.fileno())
    notifier = QSocketNotifier(rsock.fileno(), QSocketNotifier.Type.Read, app)

    def _on_wakeup() -> None:  # Python runs the signal handlers below while in this slot
        try:
            rsock.recv(64)
        except OSError:
            pass

    notifier.activated.connect(_on_wakeup)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: app.quit())
    app._signal_wakeup = (rsock, wsock, notifier)  # kept alive as long as the app


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.install_desktop_entry or args.uninstall_desktop_entry:
        return _desktop_entry(install=args.install_desktop_entry)
    if args.theme:
        os.environ["AICS_THEME"] = args.theme
    # The engine client (docker-py with requests and paramiko, ~300 modules) before PySide6: once
    # shiboken is loaded, its import hook reads the source of every module imported after it
    # (60 ms of CPU at start here, measured by tests/perf/bench_cold_start.py's floor and the app).
    import gui.engine.client  # noqa: F401
    app = ensure_app()
    app.setWindowIcon(app_icon())
    from gui.qt.shell.crash import CrashReporter
    from gui.qt.shell.window_state import app_settings, restore, save

    reporter = CrashReporter(app)
    reporter.install()
    quit_on_signals(app)
    interactive = not (args.self_test or args.quit_when_loaded)
    instance = None
    if interactive:
        from gui.qt.shell.single_instance import SingleInstance

        instance = SingleInstance(parent=app)
        if not instance.claim(args.engine):
            also = f" and asked to use the engine {args.engine}" if args.engine else ""
            print(f"{APP_NAME} is already running: its window was brought to the front{also}.")
            return 0
    settings = app_settings()
    from gui.qt.common.preferences import apply_saved_theme

    apply_saved_theme(app, settings, overridden=bool(args.theme))
    window = _build_window(choose_engine(args.engine, settings))
    restore(window, settings)
    if instance is not None:
        from gui.qt.shell.single_instance import raise_window

        instance.activationRequested.connect(lambda: raise_window(window))
        instance.engineRequested.connect(window.use_engine_url)
        app.aboutToQuit.connect(lambda: save(window, settings))
        app.aboutToQuit.connect(instance.close)
    if args.self_test:
        from gui.qt.shell.self_test import SelfTest

        SelfTest(window, args.self_test_timeout, args.require_engine, started=_START).start()
    if args.quit_when_loaded:
        from gui.qt.shell.loaded_probe import LoadedProbe

        LoadedProbe(window, _START)  # reports once the shown list painted the loaded rows
    window.show()
    code = app.exec()
    close_down(window)
    settings.sync()
    return code


HELPER_WAIT_S = 5.0  # at the most, on the way out, for a closed volume browser's helper to be removed


def close_down(window) -> None:
    """After the event loop: the session's streams end, and what closed windows still do on the engine
    is waited for (a few seconds at most): run() leaves with os._exit, which would cut a volume browser's
    helper removal under way, and a helper left running holds its volume for ever."""
    if window.isVisible():  # the app quit without the window's close (SIGTERM, logout): close it the same way
        window.close()
    window.session.close()
    browser = sys.modules.get("gui.qt.volumes.browser")  # loaded only once a volume was browsed
    if browser is not None:
        browser.wait_for_helpers(HELPER_WAIT_S)


def run() -> None:
    """The console/GUI entry point: main(), then leave at once.

    Python's teardown of Qt objects that daemon stream threads still touch can hang or crash
    PySide6 (qasync #115 is one such hang); everything worth keeping is written by now.
    The pipeline subcommands (build, predict, evaluate, bench) go to gui.cli before Qt is imported.
    """
    if len(sys.argv) > 1 and sys.argv[1] in CLI_COMMANDS:
        from gui.cli import run as run_cli

        run_cli()
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
