"""EngineSession: the UI's live view of one engine (connection state, image and container lists)."""

from __future__ import annotations

import asyncio
import logging
import sys

from PySide6.QtCore import QObject, QTimer, Signal

from gui.engine import Engine, EngineError, EngineEvent, EngineTarget, ErrorKind, EventFollower
from gui.engine.first_read import FirstRead
from gui.qt.common.tasks import DaemonExecutor, Stream, Task, call, report_bug

log = logging.getLogger(__name__)

# Container actions that change nothing the list shows.
IGNORED_CONTAINER_ACTIONS = ("exec_", "attach", "detach", "resize", "top", "export", "copy",
                             "archive-path", "extract-to-dir", "commit")
IMAGE_ACTIONS = ("delete", "tag", "untag", "import", "load", "pull")
POLL_INTERVAL_MS = 2000  # fallback while the event stream is down
# A frozen engine (SIGSTOP, overloaded) keeps the event stream open and silent: while connected, a ping
# every PING_INTERVAL_MS that must answer within PING_TIMEOUT_S tells (one small request: idle CPU stays low).
PING_INTERVAL_MS = 5000
PING_TIMEOUT_S = 3.0
# Connecting (the first read, a retry) has no short timeout of its own: a frozen engine accepts the
# connection and says nothing, and each read waits REQUEST_TIMEOUT (the first read's three waited 45 s in
# all). Still connecting after CONNECT_CHECK_MS: a ping tells, as while connected (none when the engine
# answers at once, so no extra round trip before the first paint).
CONNECT_CHECK_MS = 2000
# The engine sends some events before its container list shows the change (moby logs the
# "pause" event before it checkpoints the state the list reads): after these, read again
# until the list agrees.
EXPECTED_STATE = {"start": "running", "unpause": "running", "pause": "paused", "restart": "running",
                  "die": "exited"}
RECHECK_MS = 25
RECHECKS = 20


class EngineSession(QObject):
    """Follows one engine: events first, polling only while the event stream is down.

    Signals carry plain records from gui.engine; slots never block on the engine. With ``first_read``
    (begun before the window was built) its subscription and lists are the session's first ones.
    """

    stateChanged = Signal(str, str)  # "connecting" | "connected" | "disconnected", message
    infoChanged = Signal(object)  # EngineInfo
    imagesLoaded = Signal(list)  # every ImageInfo (apply with replace_all)
    containersLoaded = Signal(list)  # every ContainerInfo (apply with replace_all)
    containersChanged = Signal(list, list)  # ContainerInfo to upsert, ids removed
    loaded = Signal()  # both lists hold the engine's contents
    engineEvent = Signal(object)  # every EngineEvent but the stream's own (pages that follow volumes, networks)

    def __init__(self, target: EngineTarget, parent: QObject | None = None, first_read: FirstRead | None = None):
        super().__init__(parent)
        self.target = target
        self.engine = first_read.engine if first_read is not None else Engine(target)
        self._first_read = first_read
        self.state = "connecting"
        self.message = ""
        self.info = None
        self.has_loaded = False
        # Pages run their work on these (``Op(...).run(session.changes)``): reads in parallel,
        # changes one at a time and in order.
        self.reads = DaemonExecutor(max_workers=4)
        self.changes = DaemonExecutor(max_workers=1, name="engine-change")
        self._follower: EventFollower | None = None
        self._worker: Stream | None = None
        self._dirty_containers: set[str] = set()
        self._images_dirty = False
        self._flushing = False
        self._refreshing = False
        self._closed = False
        self._stream_up = False
        self._touched: set[str] = set()
        self._expected: dict[str, tuple[str, int]] = {}  # id -> (state, re-reads left)
        self._images_touched = False
        self._tasks: set[asyncio.Task] = set()
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_INTERVAL_MS)
        self._poll.timeout.connect(self.refresh)
        self._ping = QTimer(self)
        self._ping.setInterval(PING_INTERVAL_MS)
        self._ping.timeout.connect(self._on_ping_time)
        self._ping_task: Task | None = None
        self._connect_check = QTimer(self)
        self._connect_check.setSingleShot(True)
        self._connect_check.setInterval(CONNECT_CHECK_MS)
        self._connect_check.timeout.connect(self._on_ping_time)
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(0)
        self._flush_timer.timeout.connect(self._flush)

    # -- life cycle -------------------------------------------------------------------
    def start(self) -> None:
        self._set_state("connecting", f"Connecting to {self.target.url}…")
        first, self._first_read = self._first_read, None
        self._follower = EventFollower(self.engine, opened=first.subscription if first is not None else None)
        self._worker = Stream(self, self._follower, "engine-events")
        self._worker.item.connect(self._on_event)
        self._worker.start()
        if first is None:
            return
        answers = (first.info, first.images, first.containers)
        if all(f.done() and f.exception() is None for f in answers):
            self._show_lists(*(f.result() for f in answers))  # already here: in the window's first paint
        else:
            self._begin_refresh(first)

    def retry(self) -> None:
        """Try to reach the engine now instead of waiting for the next attempt."""
        if self._closed:
            return
        if self.state != "connected":
            self._set_state("connecting", f"Connecting to {self.target.url}…")
        if self._follower is not None:
            self._follower.retry_now()
        self.refresh()

    def close(self) -> None:
        """Stop streams and pending reads; returns at once."""
        if self._closed:
            return
        self._closed = True
        self._poll.stop()
        self._ping.stop()
        self._connect_check.stop()
        self._flush_timer.stop()
        if self._worker is not None:
            self._worker.stop()
        for task in list(self._tasks):
            task.cancel()
        self.reads.shutdown(wait=False, cancel_futures=True)
        self.changes.shutdown(wait=False, cancel_futures=True)

    def _read(self, fn, *args):
        """Await a read on the session's pool (the session's own multi-step reads are coroutines)."""
        return call(self.reads, fn, *args)

    def _spawn(self, coro) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._on_task_done)

    def _on_task_done(self, task: asyncio.Task) -> None:
        """A bug in a task reaches the crash reporter (message + log), not just asyncio's logger."""
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            sys.excepthook(type(exc), exc, exc.__traceback__)

    def _set_state(self, state: str, message: str = "") -> None:
        if (state, message) == (self.state, self.message):
            return
        self.state, self.message = state, message
        if state == "connected":
            self._poll.stop()
            self._ping.start()
        elif not self._closed:
            self._ping.stop()
            self._poll.start()
        if state == "connecting" and not self._closed:
            self._connect_check.start()
        else:
            self._connect_check.stop()
        self.stateChanged.emit(state, message)

    def _lost(self, exc: EngineError) -> None:
        """The engine failed a read or a ping: say so (a read that timed out means it does not answer)."""
        if exc.kind == ErrorKind.TIMEOUT:
            self._set_state("disconnected", f"The engine at {self.target.url} does not answer "
                                            "(frozen or overloaded).")
        else:
            self._set_state("disconnected", str(exc))

    # -- liveness ---------------------------------------------------------------------
    def _on_ping_time(self) -> None:
        if self._closed or self.state == "disconnected" or (self._ping_task and self._ping_task.is_alive()):
            return
        task = self._ping_task = Task(self, lambda: self.engine.ping(timeout=PING_TIMEOUT_S), self.reads)
        task.done.connect(lambda _answer: self._on_ping_done(None))
        task.failed.connect(self._on_ping_done)
        task.start()

    def _on_ping_done(self, exc: BaseException | None) -> None:
        task, self._ping_task = self._ping_task, None
        if task is not None:
            task.deleteLater()
        if self._closed or self.state == "disconnected":
            return
        if exc is None:
            if self.state == "connecting":
                self._connect_check.start()  # it answers, the reads are slow: ask again later
            return
        if not isinstance(exc, EngineError):
            report_bug(exc)
            return
        self._lost(exc)  # the poll reads again until the engine answers (then: connected, refreshed)

    # -- full refresh -----------------------------------------------------------------
    def refresh(self) -> None:
        if not self._closed and not self._refreshing:
            self._begin_refresh(None)

    def _begin_refresh(self, first: FirstRead | None) -> None:
        # Marked now, not when the coroutine first runs: what events touch from here on is read again
        # after the lists are shown (the first read's lists may be older than those events).
        self._refreshing = True
        self._touched = set()
        self._images_touched = False
        self._spawn(self._refresh(first))

    async def _refresh(self, first: FirstRead | None = None) -> None:
        try:
            if first is not None:
                reads = [asyncio.wrap_future(f) for f in (first.info, first.images, first.containers)]
            else:
                reads = [self._read(self.engine.info), self._read(self.engine.list_images),
                         self._read(self.engine.list_containers)]
            info, images, containers = await asyncio.gather(*reads)
        except EngineError as exc:
            if not self._closed:
                self._lost(exc)
            return
        finally:
            self._refreshing = False
        if not self._closed:
            self._show_lists(info, images, containers)

    def _show_lists(self, info, images: list, containers: list) -> None:
        self.info = info
        self.infoChanged.emit(info)
        self.imagesLoaded.emit(images)
        self.containersLoaded.emit(containers)
        self._set_state("connected", "")
        self._remove_leftovers()
        if not self._stream_up:
            self._poll.start()  # the engine answers but its event stream does not (yet)
        if not self.has_loaded:
            self.has_loaded = True
            self.loaded.emit()
        # What events touched while the full lists were in flight may be older in them: re-read.
        if self._touched or self._images_touched:
            self._dirty_containers |= self._touched
            self._images_dirty |= self._images_touched
            self._schedule_flush()

    def _remove_leftovers(self) -> None:
        """The engine answers again: remove the build-step containers builds left when it went away."""
        build = sys.modules.get("gui.engine.build")  # not imported: no build ran, none left (and no import cost)
        if build is not None and build.leftover_containers(self.engine.url):
            task = Task(self, lambda: build.remove_leftovers(self.engine), self.changes)
            task.done.connect(lambda removed: log.info("removed leftover build containers %s", removed))
            task.failed.connect(report_bug)
            task.start()

    # -- events -----------------------------------------------------------------------
    def _on_event(self, ev: EngineEvent) -> None:
        if self._closed:
            return
        if ev.type == "connection":
            if ev.action == "connected":
                self._stream_up = True
                if self._follower.subscribed_early and (self._refreshing or self.state == "connected"):
                    # The first read began after this subscription: its events tell what the read missed.
                    if self.state == "connected":
                        self._poll.stop()
                    return
                self.refresh()
            else:
                # Is the engine gone, or only its event stream? A read tells; poll meanwhile.
                self._stream_up = False
                self._poll.start()
                self.refresh()
            return
        self.engineEvent.emit(ev)
        if ev.type == "container":
            if ev.action.startswith(IGNORED_CONTAINER_ACTIONS):
                return
            if self._refreshing:
                self._touched.add(ev.id)
            if ev.action == "destroy":
                self._dirty_containers.discard(ev.id)
                self.containersChanged.emit([], [ev.id])
                return
            if ev.action in EXPECTED_STATE:
                self._expected[ev.id] = (EXPECTED_STATE[ev.action], RECHECKS)
            self._dirty_containers.add(ev.id)
            self._schedule_flush()
        elif ev.type == "image" and ev.action in IMAGE_ACTIONS:
            self._images_touched = self._images_touched or self._refreshing
            self._images_dirty = True
            self._schedule_flush()

    def _recheck_lagging(self, found) -> None:
        for c in found:
            want = self._expected.pop(c.id, None)
            if want is None or c.state == want[0] or want[1] <= 0:
                continue
            self._expected[c.id] = (want[0], want[1] - 1)
            QTimer.singleShot(RECHECK_MS, lambda cid=c.id: self._recheck(cid))

    def _recheck(self, cid: str) -> None:
        if not self._closed and cid in self._expected:
            self._dirty_containers.add(cid)
            self._schedule_flush()

    def _schedule_flush(self) -> None:
        if not self._flushing and not self._closed:
            self._flush_timer.start()

    def _flush(self) -> None:
        if self._flushing or self._closed:
            return
        self._flushing = True
        self._spawn(self._read_dirty())

    async def _read_dirty(self) -> None:
        try:
            while (self._dirty_containers or self._images_dirty) and not self._closed:
                ids, self._dirty_containers = self._dirty_containers, set()
                images, self._images_dirty = self._images_dirty, False
                try:
                    if ids:
                        found = await self._read(self.engine.list_containers, ids)
                        if self._closed:
                            return
                        found_ids = {c.id for c in found}
                        self.containersChanged.emit(found, [i for i in ids if i not in found_ids])
                        self._recheck_lagging(found)
                    if images:
                        rows = await self._read(self.engine.list_images)
                        if self._closed:
                            return
                        self.imagesLoaded.emit(rows)
                except EngineError as exc:
                    log.info("reading changed objects failed: %s", exc)
                    if exc.connection_lost:
                        self._dirty_containers |= ids
                        self._images_dirty |= images
                        return
        finally:
            self._flushing = False
