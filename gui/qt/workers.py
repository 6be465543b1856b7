"""Background work for the UI: a daemon thread pool for reads and a thread per endless stream.

Results reach the UI thread through Qt signals (queued connections); no widget or model is
touched from a worker thread. Threads are daemons, so quitting never waits on a stuck engine.
"""

from __future__ import annotations

import asyncio
import functools
import queue
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, Future

from PySide6.QtCore import QObject, Signal


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
                except BaseException as exc:  # delivered to the awaiting coroutine
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


async def run_in(executor: Executor, fn: Callable, *args, **kwargs):
    """Await ``fn(*args, **kwargs)`` on ``executor`` from a coroutine on the Qt event loop."""
    loop = asyncio.get_event_loop()
    return await loop.run_in_executor(executor, functools.partial(fn, *args, **kwargs))


class StreamWorker(QObject):
    """Runs one endless generator on its own daemon thread and emits each item on the UI thread.

    ``stop()`` calls the stream's ``close()`` (which must end the iteration promptly from any
    thread) and returns at once.
    """

    item = Signal(object)
    failed = Signal(object)
    finished = Signal()

    def __init__(self, stream: Iterable, name: str, parent: QObject | None = None):
        super().__init__(parent)
        self._stream = stream
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._stopped = threading.Event()

    def start(self) -> None:
        self._thread.start()

    def _emit(self, signal, *args) -> None:
        if self._stopped.is_set():
            return
        try:
            signal.emit(*args)
        except RuntimeError:  # the receiver was deleted while the stream ran
            self._stopped.set()

    def _run(self) -> None:
        try:
            for item in self._stream:
                if self._stopped.is_set():
                    break
                self._emit(self.item, item)
        except Exception as exc:
            self._emit(self.failed, exc)
        finally:
            self._emit(self.finished)

    def stop(self, join_timeout: float = 0.0) -> None:
        self._stopped.set()
        close = getattr(self._stream, "close", None)
        if close is not None:
            close()
        if join_timeout and self._thread.is_alive():
            self._thread.join(join_timeout)

    def is_alive(self) -> bool:
        return self._thread.is_alive()
