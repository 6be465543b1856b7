"""The one way the Qt layer runs work off the UI thread.

- ``Task(parent, fn).start()``: ``fn()`` on a pool; ``done(result)`` or ``failed(exc)`` on the UI thread.
- ``Op(parent, fn).success(cb).run()``: a Task for a user's action (in the manner of Anki's
  ``CollectionOp``): a failure the user can act on (``EngineError``, ``PredictError``, ``OSError``) is
  shown in words unless ``.failure(cb)`` takes it; anything else is a bug and goes to the crash reporter.
- ``Stream(parent, iterable, name).start()``: an endless generator on its own thread; ``item`` for each
  yielded item (or, ``batched``, one ``batch`` with all that arrived while the UI was busy), ``finished``;
  ``failed(exc)`` when it raised (when nothing is connected to ``failed``, the crash reporter gets it).
- ``call(pool, fn)``: the same pools awaited from a coroutine (the engine session's multi-step reads).
- ``unless_bug(on_failure, settle)``: a ``failed`` handler for a Task, ``run`` or Stream that does what
  ``Op`` does: expected failures to ``on_failure``, bugs to the crash reporter (then ``settle``).

Every thread is a daemon, so quitting never waits on a stuck engine or network (a ThreadPoolExecutor
joins its threads at interpreter exit). Nothing is delivered after ``cancel()``/``stop()`` or after the
receiver was deleted: that case ("Internal C++ object already deleted") is handled once, here.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import queue
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, Future

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot

from gui.engine import EngineError
from gui.predict import PredictError


class DaemonExecutor(Executor):
    """A small thread pool whose threads never block interpreter exit (unlike ThreadPoolExecutor)."""

    def __init__(self, max_workers: int = 4, name: str = "engine-read"):
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._max = max_workers
        self._name = name
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._shutdown = False

    def submit(self, fn, /, *args, **kwargs) -> Future:
        with self._lock:
            if self._shutdown:
                raise RuntimeError("executor is shut down")
            fut: Future = Future()
            self._queue.put((fut, fn, args, kwargs))
            if len(self._threads) < self._max:
                t = threading.Thread(target=self._work, name=f"{self._name}-{len(self._threads)}", daemon=True)
                self._threads.append(t)
                t.start()
            return fut

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            fut, fn, args, kwargs = item
            if fut.set_running_or_notify_cancel():
                try:
                    fut.set_result(fn(*args, **kwargs))
                except BaseException as exc:  # delivered to whoever waits on the future
                    fut.set_exception(exc)

    def shutdown(self, wait: bool = False, *, cancel_futures: bool = True) -> None:
        with self._lock:
            self._shutdown = True
            if cancel_futures:
                while True:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is not None:
                        item[0].cancel()
            for _ in self._threads:
                self._queue.put(None)
        if wait:
            for t in self._threads:
                t.join()


_SHARED: DaemonExecutor | None = None


def shared_pool() -> DaemonExecutor:
    """The pool for one-off work that belongs to no engine session (tools, files, prediction calls)."""
    global _SHARED
    if _SHARED is None:
        _SHARED = DaemonExecutor(max_workers=4, name="ui-task")
    return _SHARED


def message_of(exc: BaseException) -> str:
    """What to show the user for a failure they can act on."""
    if isinstance(exc, PredictError):
        return exc.message
    if isinstance(exc, OSError) and exc.strerror:
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror}{where}"
    return str(exc) or type(exc).__name__


def expected(exc: BaseException) -> bool:
    """A failure of the world (engine, network, files), not a bug in the app."""
    return isinstance(exc, (EngineError, PredictError, OSError))


def report_bug(exc: BaseException) -> None:
    """Send an unexpected exception to the crash reporter (message and log)."""
    sys.excepthook(type(exc), exc, exc.__traceback__)


def _held_weakly(fn: Callable | None) -> Callable[[], Callable | None]:
    """``fn`` as Qt holds a connected method: a widget's method weakly, anything else as it is."""
    if inspect.ismethod(fn):
        return weakref.WeakMethod(fn)
    return lambda: fn


def unless_bug(on_failure: Callable[[BaseException], None],
               settle: Callable[[], None] | None = None) -> Callable[[BaseException], None]:
    """A ``failed`` handler for a Task, ``run`` or Stream that sorts failures the way ``Op`` does: an
    expected one (``expected``) goes to ``on_failure``, to be shown in words; anything else is a bug and
    goes to the crash reporter, then to ``settle()`` (when given) to put the widget back (a button enabled
    again, a "Reading…" cleared) without making a sentence of the bug.

    Pass the widget's own methods (held weakly, as Qt holds a connected method), not a lambda that uses
    ``self``: connected to its child Task, such a lambda is what keeps a parentless widget alive, and the
    Task's deferred delete then deletes the widget from inside the Task's own destructor (a segfault)."""
    failure, after = _held_weakly(on_failure), _held_weakly(settle)

    def on_failed(exc: BaseException) -> None:
        if expected(exc):
            show = failure()
            if show is not None:
                show(exc)
            return
        report_bug(exc)
        put_back = after()
        if put_back is not None:
            put_back()

    return on_failed


def _emit(signal, *args) -> bool:
    """Emit from a worker thread; False when the receiver is gone."""
    try:
        signal.emit(*args)
        return True
    except RuntimeError:  # the receiver (a page, a dialog) was deleted while the work ran
        return False


class Task(QObject):
    """``fn()`` on ``pool`` (default: the shared pool); ``done``/``failed`` arrive on the UI thread, never
    after ``cancel()`` or after ``parent`` was deleted. Once answered (or cancelled) the Task deletes
    itself (``deleteLater``): keep no Qt calls on it for later, only ``cancel``/``is_alive``/``future``."""

    done = Signal(object)
    failed = Signal(object)
    _result = Signal(bool, object)

    def __init__(self, parent: QObject, fn: Callable[[], object], pool: Executor | None = None):
        super().__init__(parent)
        self._fn = fn
        self._pool = pool
        self._cancelled = False
        self.future: Future | None = None
        # Queued even when emitted on the UI thread: a future that is done before start() adds its
        # callback (a quick read on a loaded machine) answers right there, and done/failed must never
        # arrive inside start(), before the caller's own next line (a button it disables, a state it sets).
        self._result.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    def start(self) -> Task:
        try:
            self.future = (self._pool or shared_pool()).submit(self._fn)
        except RuntimeError as exc:  # the pool was shut down (the session closed)
            self._cancelled = True
            self.future = Future()
            self.future.set_exception(exc)
            return self
        self.future.add_done_callback(self._finished)
        return self

    def _finished(self, fut: Future) -> None:
        if fut.cancelled() or self._cancelled:
            self._cancelled = True  # delivers nothing: the signal only lets the Task go
            _emit(self._result, False, None)
            return
        exc = fut.exception()
        _emit(self._result, exc is None, fut.result() if exc is None else exc)

    @Slot(bool, object)
    def _deliver(self, ok: bool, value: object) -> None:
        # Answered: go, with the answer its future holds (a page refreshing on every engine event
        # made a child Task per refresh, each keeping its whole answer alive as long as the page).
        self.deleteLater()
        if not self._cancelled:
            (self.done if ok else self.failed).emit(value)

    def cancel(self) -> None:
        self._cancelled = True
        if self.future is not None:
            self.future.cancel()

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def is_alive(self) -> bool:
        """Started, and neither answered nor cancelled yet."""
        return self.future is not None and not self.future.done() and not self._cancelled


def run(parent: QObject, fn: Callable[[], object], on_done: Callable[[object], None],
        on_failed: Callable[[BaseException], None], pool: Executor | None = None) -> Task:
    """Shorthand: ``Task(parent, fn, pool)`` with its two callbacks connected, started."""
    task = Task(parent, fn, pool)
    task.done.connect(on_done)
    task.failed.connect(on_failed)
    return task.start()


class Op:
    """A user's action run off the UI thread: ``Op(parent, fn, "Tag failed").success(cb).run(pool)``.

    Without ``.failure(cb)`` an expected failure is shown in a non-blocking message box titled
    ``title``; an unexpected one always reaches the crash reporter.
    """

    def __init__(self, parent: QObject, fn: Callable[[], object], title: str = "The action failed"):
        self._parent = parent
        self._fn = fn
        self._title = title
        self._success: Callable[[object], None] | None = None
        self._failure: Callable[[BaseException], None] | None = None

    def success(self, cb: Callable[[object], None]) -> Op:
        self._success = cb
        return self

    def failure(self, cb: Callable[[BaseException], None]) -> Op:
        self._failure = cb
        return self

    def run(self, pool: Executor | None = None) -> Task:
        task = Task(self._parent, self._fn, pool)
        if self._success is not None:
            task.done.connect(self._success)
        # A lambda, not the bound method: Qt keeps only a weak reference to a plain object's method,
        # and nothing else keeps this Op alive until the answer comes.
        task.failed.connect(lambda exc: self._on_failed(exc))
        return task.start()

    def _on_failed(self, exc: BaseException) -> None:
        if not expected(exc):
            report_bug(exc)
        elif self._failure is not None:
            self._failure(exc)
        else:
            from gui.qt.common.feedback import show_error

            show_error(self._parent, self._title, message_of(exc))


class Stream(QObject):
    """Runs one endless generator on its own daemon thread and emits what it yields on the UI thread.

    Each yielded item is one ``item`` signal; with ``batched=True`` the items that arrive while the UI
    thread is busy are handed over together as one ``batch`` list (a fast stream then costs the UI one
    paint per turn of its event loop, and a lone item is not held back). ``pace_ms`` spaces the batches at
    least that far apart (what arrives meanwhile waits in the batch): a stream of hundreds of items a
    second otherwise wakes the UI thread for nearly every item, and each wake takes the GIL back from the
    workers (under a busy CPU each of those waits is the stall a user sees). ``stop()`` calls the stream's
    ``close()`` (which must end the iteration promptly from any thread) and returns at once. A plain
    generator has no such close: closing it from the UI thread while its worker runs it raises "generator
    already executing", so it is only told to stop, ends at its next item, and is closed by its own thread.
    """

    item = Signal(object)
    batch = Signal(list)
    failed = Signal(object)
    finished = Signal()
    _wake = Signal()
    _flush = Signal()  # before failed/finished: a paced batch still waiting is delivered first

    def __init__(self, parent: QObject | None, stream: Iterable, name: str, batched: bool = False,
                 pace_ms: int = 0):
        super().__init__(parent)
        self._stream = stream
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._stopped = threading.Event()
        self._batched = batched
        self._pending: list = []
        self._lock = threading.Lock()
        self._wake.connect(self._drain)
        self._pace = pace_ms / 1000.0 if batched else 0.0
        self._last_batch = 0.0
        self._pace_timer: QTimer | None = None
        if self._pace:
            self._pace_timer = QTimer(self)
            self._pace_timer.setSingleShot(True)
            self._pace_timer.timeout.connect(self._drain_now)
            self._flush.connect(self._drain_now)

    def start(self) -> Stream:
        self._thread.start()
        return self

    def _emit(self, signal, *args) -> None:
        if not self._stopped.is_set() and not _emit(signal, *args):
            self._stopped.set()

    def _run(self) -> None:
        try:
            for item in self._stream:
                if self._stopped.is_set():
                    break
                if not self._batched:
                    self._emit(self.item, item)
                    continue
                with self._lock:
                    first = not self._pending
                    self._pending.append(item)
                if first:
                    self._emit(self._wake)
        except Exception as exc:
            if not self.isSignalConnected(self._failed_signal()):
                report_bug(exc)  # nobody handles the stream's failure: it must not end as if it finished
            if self._pace:
                self._emit(self._flush)
            self._emit(self.failed, exc)
        finally:
            if inspect.isgenerator(self._stream):
                self._stream.close()  # on the thread that ran it (its finally blocks run here)
            if self._pace:
                self._emit(self._flush)
            self._emit(self.finished)

    def _failed_signal(self):
        meta = self.metaObject()
        return meta.method(meta.indexOfSignal("failed(PyObject)"))

    @Slot()
    def _drain(self) -> None:
        if self._pace_timer is not None:
            wait = self._last_batch + self._pace - time.monotonic()
            if wait > 0:  # the items wait for the timer; the thread sends no more wakes meanwhile
                if not self._pace_timer.isActive():
                    self._pace_timer.start(max(1, int(wait * 1000) + 1))
                return
        self._drain_now()

    @Slot()
    def _drain_now(self) -> None:
        if self._pace_timer is not None:
            self._pace_timer.stop()
        with self._lock:
            items, self._pending = self._pending, []
        if items and not self._stopped.is_set():
            self._last_batch = time.monotonic()
            self.batch.emit(items)

    def stop(self, join_timeout: float = 0.0) -> None:
        self._stopped.set()
        close = getattr(self._stream, "close", None)
        if close is not None and not inspect.isgenerator(self._stream):
            close()
        if join_timeout and self._thread.is_alive():
            self._thread.join(join_timeout)

    def is_alive(self) -> bool:
        return self._thread.is_alive()


async def call(pool: Executor, fn: Callable, *args, **kwargs):
    """Await ``fn(*args, **kwargs)`` on ``pool`` from a coroutine on the Qt event loop."""
    loop = asyncio.get_event_loop()
    return await loop.run_in_executor(pool, functools.partial(fn, *args, **kwargs))

