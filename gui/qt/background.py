"""One-shot engine calls for the container tools: run on a daemon pool, answer on the UI thread."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future

from PySide6.QtCore import QObject, Signal, Slot

from gui.qt.workers import DaemonExecutor

_POOL: DaemonExecutor | None = None


def tool_pool() -> DaemonExecutor:
    """The pool shared by the container tools (reads, exec set-up, copies, saves)."""
    global _POOL
    if _POOL is None:
        _POOL = DaemonExecutor(max_workers=4, name="container-tools")
    return _POOL


class Call(QObject):
    """``Call(parent).run(fn, on_done, on_error)``: ``fn()`` on the pool; the callbacks run on the UI
    thread, and never after ``parent`` is gone or ``cancel()`` was called."""

    _done = Signal(object)
    _failed = Signal(object)

    def __init__(self, parent: QObject):
        super().__init__(parent)
        self._cancelled = False
        self.future: Future | None = None

    def run(self, fn: Callable[[], object], on_done: Callable[[object], None],
            on_error: Callable[[BaseException], None]) -> Call:
        self._on_done, self._on_error = on_done, on_error
        self._done.connect(self._finish)
        self._failed.connect(self._fail)
        self.future = tool_pool().submit(fn)
        self.future.add_done_callback(self._deliver)
        return self

    @Slot(object)
    def _finish(self, value: object) -> None:
        if not self._cancelled:
            self._on_done(value)

    @Slot(object)
    def _fail(self, exc: object) -> None:
        if not self._cancelled:
            self._on_error(exc)

    def _deliver(self, fut: Future) -> None:
        if fut.cancelled() or self._cancelled:
            return
        exc = fut.exception()
        try:
            if exc is None:
                self._done.emit(fut.result())
            else:
                self._failed.emit(exc)
        except RuntimeError:  # the receiver was deleted meanwhile
            pass

    def cancel(self) -> None:
        self._cancelled = True
        if self.future is not None:
            self.future.cancel()


def message_of(exc: BaseException) -> str:
    """What to show the user for a failure from the engine layer (or an OS error)."""
    if isinstance(exc, OSError) and exc.strerror:
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror}{where}"
    return str(exc) or type(exc).__name__
