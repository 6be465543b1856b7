"""BatchRunner: reads, previews and predicts pictures on a small thread pool; answers reach the UI thread.

Each job reads its source, makes a thumbnail and asks the model; the results reach the UI thread as the
runner's signals, so no widget is touched off the UI thread. ``cancel()`` drops what has not started and
ignores what is in flight; a later batch is not affected.

The workers do not post one Qt event per result: they put results in an outbox and wake the UI thread once,
and the UI thread emits them in turns of at most DELIVER_MS. Posted one by one, every result that arrived
while the UI thread waited (for a CPU, or for Python's lock held by a worker) was handled in the same
turn, however many there were (bench_predict on 2 cores saw turns of ~100 ms in which the UI thread ran
throughout). Each Qt event also was one more entry of the UI thread into Python, where it may wait for
a worker to let go of Python's lock.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import sys
import threading
import time
from collections import deque
from concurrent.futures import Future, wait

from PySide6.QtCore import QObject, QTimer, Signal

from gui.predict import PredictError, PredictionClient, helper
from gui.predict.sources import PictureSource, expand_folder, read_source
from gui.qt.common.tasks import DaemonExecutor
from gui.qt.predict.card import THUMB_BOX
from gui.qt.predict.sources import make_thumbnail

CONCURRENCY = 4
DELIVER_MS = 4.0  # results emitted per UI turn before the event loop gets the thread back
# While a batch runs, the workers' nice value above the app's (Linux: a per-thread attribute). Their work
# (decoding, scaling, encoding pictures) runs mostly outside Python's lock; on 2 cores, with the serving
# containers busy too, at equal priority it took the CPU from the UI thread often enough to freeze the
# window for 100s of ms (bench_predict: longest stall 350-2800 ms niced not, 120-185 ms niced). A picture
# or a few keep the app's priority: their answer is what the user waits for.
WORKER_NICE = 10
_thread = threading.local()


def _set_lowered(lowered: bool) -> None:
    """The calling worker thread at the app's priority or WORKER_NICE below it (Linux only: elsewhere a
    thread id is no process id to setpriority)."""
    if sys.platform != "linux" or getattr(_thread, "lowered", False) == lowered:
        return
    tid = threading.get_native_id()
    try:
        if not hasattr(_thread, "base"):
            _thread.base = os.getpriority(os.PRIO_PROCESS, tid)
        os.setpriority(os.PRIO_PROCESS, tid, min(19, _thread.base + WORKER_NICE) if lowered else _thread.base)
    except OSError:  # raising a priority again may be refused (RLIMIT_NICE): stay as is
        return
    _thread.lowered = lowered


class BatchRunner(QObject):
    """Runs prediction jobs ``CONCURRENCY`` at a time. Job ids are the caller's (one per card)."""

    thumbnail = Signal(int, object)  # job id, QImage or None
    answered = Signal(int, object)  # job id, Prediction
    failed = Signal(int, str, str)  # job id, kind, message a person understands
    expanded = Signal(int, list)  # folder job id, [PictureSource] found in it
    idle = Signal()  # nothing left to run or in flight
    _wake = Signal()  # a worker put the first result in an empty outbox (queued to the UI thread)

    def __init__(self, concurrency: int = CONCURRENCY, parent: QObject | None = None):
        super().__init__(parent)
        self._concurrency = concurrency
        self._pool = DaemonExecutor(max_workers=concurrency, name="predict")
        # A picture or a few: the thumbnail is made beside the prediction, not before it (each decodes
        # the picture: ~25 ms apiece for a typical photo, 100-200 ms for a 12 MP PNG or WebP), so the
        # answer is painted sooner. A batch makes them one after the other on its workers.
        self._thumbs = DaemonExecutor(max_workers=2, name="thumbnail")
        self._lock = threading.Lock()
        self._generation = itertools.count(1)
        self._current = next(self._generation)
        self._futures: dict[int, Future] = {}
        self._closed = False
        self.coming = 0  # pictures the caller holds back to submit soon (a drop's cards are made in turns)
        self._outbox: deque = deque()  # (signal, args) from the workers, emitted on the UI thread in order
        self._woken = False  # a delivery is asked for or running: workers need not wake the UI thread
        self._wake.connect(self._deliver)
        self._more = QTimer(self)  # the next turn of a delivery that ran out of time
        self._more.setSingleShot(True)
        self._more.setInterval(0)
        self._more.timeout.connect(self._deliver)
        helper.enable()  # big WebP pictures are decoded in helper processes, not under the UI's lock

    @property
    def busy(self) -> int:
        """Jobs queued or running."""
        with self._lock:
            return len(self._futures)

    def submit(self, job_id: int, source: PictureSource, client: PredictionClient | None, top_k: int,
               problem: str = "") -> None:
        """Predict one picture; with ``client`` None the card says ``problem`` (why there is no model)."""
        self._start(job_id, self._predict, job_id, source, client, top_k, problem)

    def expand(self, job_id: int, folder: str) -> None:
        """List a folder's files off the UI thread; ``expanded`` carries them."""
        self._start(job_id, self._expand, job_id, folder)

    def cancel(self) -> list[int]:
        """Stop the current batch: queued jobs never start, running ones are ignored. Returns their ids."""
        with self._lock:
            self._current = next(self._generation)
            ids = list(self._futures)
            self._futures.clear()
            old = None
            if ids and not self._closed:
                # Requests in flight cannot be interrupted: leave their threads to finish on their own
                # (answers are ignored) and give the next batch fresh workers.
                old, self._pool = self._pool, DaemonExecutor(max_workers=self._concurrency, name="predict")
        if old is not None:
            old.shutdown(wait=False, cancel_futures=True)  # outside the lock: cancelling runs _done
        if ids:
            self.idle.emit()
        return ids

    def close(self) -> None:
        self._closed = True
        self.cancel()
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._thumbs.shutdown(wait=False, cancel_futures=True)

    # -- worker side ----------------------------------------------------------------------------------
    def _start(self, job_id: int, fn, *args) -> None:
        if self._closed:
            return
        with self._lock:
            generation = self._current
            fut = self._pool.submit(fn, generation, *args)
            self._futures[job_id] = fut
        fut.add_done_callback(lambda _f, j=job_id: self._done(j, _f))

    def _done(self, job_id: int, fut: Future) -> None:
        with self._lock:
            if self._futures.get(job_id) is not fut:
                return
            del self._futures[job_id]
            empty = not self._futures
        if empty and not self._closed:
            self._emit(self.idle)

    def _live(self, generation: int) -> bool:
        return generation == self._current and not self._closed

    def _emit(self, signal, *args) -> None:
        """Send ``signal(*args)`` to the UI thread (from a worker), after the results before it."""
        with self._lock:
            self._outbox.append((signal, args))
            if self._woken:
                return
            self._woken = True
        try:
            self._wake.emit()
        except RuntimeError:  # the runner was deleted while the job ran
            pass

    def _deliver(self) -> None:
        """On the UI thread: emit the outbox's results in order for up to DELIVER_MS, the rest next turn."""
        start = time.perf_counter()
        while True:
            with self._lock:
                if not self._outbox:
                    self._woken = False
                    return
                signal, args = self._outbox.popleft()
            signal.emit(*args)
            if (time.perf_counter() - start) * 1000.0 >= DELIVER_MS:
                self._more.start()
                return

    def _predict(self, generation: int, job_id: int, source: PictureSource, client, top_k: int,
                 problem: str) -> None:
        # More jobs than workers, counting those the caller is about to submit: the first pictures of a big
        # drop are lowered too (judged by the jobs submitted so far, they ran at the app's priority while
        # the drop's first cards were painted, and took the CPU from it).
        batch = self.busy + self.coming > self._concurrency
        _set_lowered(batch)
        helper.offload(batch)  # a batch's big WebPs in helper processes (the lock); a single one here, sooner
        thumb: Future | None = None
        try:
            data = read_source(source)
            if not self._live(generation):
                return
            if batch:
                self._emit(self.thumbnail, job_id, make_thumbnail(data, THUMB_BOX))
            else:
                with contextlib.suppress(RuntimeError):  # the runner closed meanwhile: no thumbnail
                    thumb = self._thumbs.submit(self._thumbnail, generation, job_id, data)
            if client is None:
                raise PredictError(problem or "no model chosen: pick a running container or a URL above",
                                   kind="connection" if problem else "input")
            prediction = client.predict_image(data, top_k)
            if self._live(generation):
                self._emit(self.answered, job_id, prediction)
        except PredictError as exc:
            if self._live(generation):
                self._emit(self.failed, job_id, exc.kind, exc.message)
            return
        except Exception as exc:  # a bug must not stop the batch: the card shows it
            if self._live(generation):
                self._emit(self.failed, job_id, "answer", f"unexpected error: {type(exc).__name__}: {exc}")
            return
        finally:
            if thumb is not None:  # the job (and the runner's idle) ends once its thumbnail is out too
                wait([thumb])

    def _thumbnail(self, generation: int, job_id: int, data: bytes) -> None:
        image = make_thumbnail(data, THUMB_BOX)
        if self._live(generation):
            self._emit(self.thumbnail, job_id, image)

    def _expand(self, generation: int, job_id: int, folder: str) -> None:
        try:
            found = expand_folder(folder)
        except OSError as exc:
            found = [PictureSource(name=folder, problem=f"cannot list the folder: {exc.strerror or exc}")]
        if self._live(generation):
            self._emit(self.expanded, job_id, found)
