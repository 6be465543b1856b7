"""One build from the page: assemble the context in a temporary folder, stream the build, cancel it.

The build generator runs on a daemon worker of the runner's own pool, which only queues the lines (its
pacing is tuned for a fast log, so it is not a ``tasks.Stream``); a UI timer takes them in batches, so a build printing 100,000 lines never floods the UI thread with one event per line.
"""

from __future__ import annotations

import collections
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from gui.builder import Template, ValidationError, assemble_context
from gui.engine.build import BuildError, ImageBuild
from gui.qt.common.tasks import DaemonExecutor, Task, expected, report_bug, unless_bug

FLUSH_MS = 15
MAX_LINES_PER_FLUSH = 2_000
PUMP_SLICE_S = 0.004  # the stream thread works at most this long before it lets the UI thread run
PUMP_PAUSE_S = 0.001
BEHIND_PAUSE_S = 0.010  # when the UI has MAX_QUEUED lines still to show
MAX_QUEUED = 3 * MAX_LINES_PER_FLUSH


@dataclass(frozen=True)
class BuildOutcome:
    status: str  # "succeeded" | "failed" | "cancelled"
    image_id: str = ""
    error: str = ""
    step: int = 0
    instruction: str = ""


class BuildRunner(QObject):
    """Signals: `lines(list[BuildLine])` in order, `progress(step, total)`, then `finished(BuildOutcome)`."""

    lines = Signal(list)
    progress = Signal(int, int)
    stage = Signal(str)
    finished = Signal(object)

    def __init__(self, session, template: Template, values: dict[str, Any], dockerfile: str, tag: str,
                 labels: dict[str, str] | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.session = session
        self.template = template
        self.values = dict(values)
        self.dockerfile = dockerfile
        self.tag = tag
        self.labels = dict(labels or {})
        self.folder = tempfile.mkdtemp(prefix="aics-build-")
        buildargs = {}
        if "AICS_CREATED" in dockerfile:
            buildargs["AICS_CREATED"] = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.build = ImageBuild(session.engine, self.folder, tag, labels=self.labels, buildargs=buildargs)
        self.outcome: BuildOutcome | None = None
        self.cancel_requested = False
        self._cancel_done = False
        self._stream_done = False
        self._failure: Exception | None = None
        self._queue: collections.deque = collections.deque()
        self._ended = threading.Event()
        # The stream and a cancel run side by side; this pool, not the session's: switching engines
        # closes the session, and a build already started on the old engine must still be seen through.
        self._pool = DaemonExecutor(max_workers=2, name="image-build")
        self._timer = QTimer(self)
        self._timer.setInterval(FLUSH_MS)
        self._timer.timeout.connect(self._on_tick)

    # -- control ------------------------------------------------------------------------
    def start(self) -> None:
        self.stage.emit("Preparing the build context…")
        task = Task(self, lambda: assemble_context(self.template, self.values, self.folder, self.dockerfile),
                    self._pool)
        task.done.connect(self._on_prepared)
        task.failed.connect(self._on_prepare_failed)
        task.start()

    def _on_prepare_failed(self, exc: BaseException) -> None:
        if not isinstance(exc, (ValidationError, OSError)):
            report_bug(exc)
        self._failure = exc
        self._stream_done = True
        self._maybe_finish()

    def _on_prepared(self, _ctx) -> None:
        self.stage.emit("Sending the build context to the engine…")
        self._timer.start()
        self._pool.submit(self._pump)

    def _pump(self) -> None:
        """The stream worker: reads the build and queues its lines; it touches no Qt object.

        Decoding a fast log is pure Python work that holds the GIL; every few milliseconds the
        thread pauses briefly so the UI thread gets it (and waits while the UI is far behind)."""
        queue = self._queue
        clock = time.perf_counter
        slice_end = clock() + PUMP_SLICE_S
        try:
            for line in self.build:
                queue.append(line)
                if clock() > slice_end:
                    time.sleep(PUMP_PAUSE_S if len(queue) < MAX_QUEUED else BEHIND_PAUSE_S)
                    slice_end = clock() + PUMP_SLICE_S
        except Exception as exc:  # BuildError, the engine went away, or a bug: sorted by _outcome
            self._failure = exc
        finally:
            self._ended.set()

    def cancel(self) -> None:
        """Stop the build on the engine; `finished` comes once no build container of it runs."""
        if self.cancel_requested or self.outcome is not None:
            return
        self.cancel_requested = True
        self.stage.emit("Cancelling: stopping the build on the engine…")
        task = Task(self, self.build.cancel, self._pool)  # best effort: it never raises
        task.done.connect(self._on_cancel_answered)
        # cancel() never raises: an engine fault is the engine gone (see _on_cancelled), anything else a bug
        task.failed.connect(unless_bug(self._on_cancelled, self._on_cancelled))
        task.start()

    def _on_cancel_answered(self, confirmed: bool) -> None:
        if not confirmed:  # frozen or gone: its build container is removed once the engine answers again
            self.stage.emit("Cancelled; the engine does not answer, so its build container is removed later")
            if not self._ended.is_set():  # a stream still waiting on the frozen engine: finish without it
                self._timer.stop()
                self._stream_done = True
        self._on_cancelled(None)

    def _on_cancelled(self, exc: BaseException | None = None) -> None:
        if exc is not None:  # the engine went away: nothing of the build runs any more there
            self._failure = self._failure or exc
        self._cancel_done = True
        self._maybe_finish()

    # -- stream -------------------------------------------------------------------------
    def _drain(self) -> None:
        batch = []
        queue = self._queue
        for _ in range(min(len(queue), MAX_LINES_PER_FLUSH)):
            batch.append(queue.popleft())
        if batch:
            self.lines.emit(batch)
            last = batch[-1]
            if last.total:
                self.progress.emit(last.step, last.total)

    def _on_tick(self) -> None:
        ended = self._ended.is_set()  # read first: every line queued before it is in the queue
        self._drain()
        if ended and not self._queue:
            self._timer.stop()
            self._stream_done = True
            self._maybe_finish()

    def _maybe_finish(self) -> None:
        if self.outcome is not None or not self._stream_done:
            return
        if self.cancel_requested and not self._cancel_done:
            return  # wait until the engine really stopped the build
        self.outcome = self._outcome()
        shutil.rmtree(self.folder, ignore_errors=True)  # a few files: the model is copied, not unpacked
        self._pool.shutdown(wait=False, cancel_futures=False)  # its threads end (one pool per build)
        self.finished.emit(self.outcome)

    def _outcome(self) -> BuildOutcome:
        if self.cancel_requested or self.build.cancelled:
            return BuildOutcome("cancelled")
        exc = self._failure
        if isinstance(exc, BuildError):
            return BuildOutcome("failed", error=str(exc), step=exc.step, instruction=exc.instruction)
        if exc is not None and not expected(exc):  # a bug in the app: to the crash reporter, not a sentence
            report_bug(exc)
            return BuildOutcome("failed", error=f"the app failed ({type(exc).__name__}); the details went to "
                                                "the crash report")
        if exc is not None:
            return BuildOutcome("failed", error=str(exc))
        if self.build.image_id:
            return BuildOutcome("succeeded", image_id=self.build.image_id)
        return BuildOutcome("failed", error="the build ended without an image")

    def shutdown(self) -> None:
        """The page goes away: stop the build (on a background thread) and forget the stream."""
        if self.outcome is None and not self.cancel_requested:
            self.cancel_requested = True
            self._pool.submit(self._cancel_and_clean)
        self._timer.stop()

    def _cancel_and_clean(self) -> None:
        self.build.cancel()  # best effort, never raises (an engine that does not answer: False)
        shutil.rmtree(self.folder, ignore_errors=True)
