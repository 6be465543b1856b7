"""`docker events` as an endless, reconnecting generator."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from typing import Any

from gui.engine.client import Engine
from gui.engine.errors import EngineError, is_engine_fault, translate
from gui.engine.models import EngineEvent
from gui.engine.streams import CancellableStream

# "node" and "service": a 20.10 engine sends them on swarm managers; it sends no "task" events (the
# Cluster page re-reads a service's tasks on service and container events).
WATCHED_TYPES = ("container", "image", "volume", "network", "node", "service")


def to_event(raw: dict) -> EngineEvent:
    actor = raw.get("Actor") or {}
    action = raw.get("Action") or raw.get("status") or ""
    # "exec_start: sh -c ..." and "health_status: healthy" carry details after a colon.
    return EngineEvent(
        type=raw.get("Type") or "",
        action=action,
        id=actor.get("ID") or raw.get("id") or "",
        time=(raw.get("timeNano") or 0) / 1e9 or float(raw.get("time") or 0),
        attributes=tuple(sorted((actor.get("Attributes") or {}).items())),
    )


def open_events(engine: Engine) -> tuple[Any, Any]:
    """Subscribe to the engine's events (WATCHED_TYPES): ``(decoded stream, its client)``, both to close.
    The engine holds the subscription once this returns: what changes afterwards comes as an event."""
    api = engine.stream_api()
    try:
        stream = api.events(decode=True, since=int(time.time()) - 1, filters={"type": list(WATCHED_TYPES)})
    except Exception:
        api.close()
        raise
    return stream, api


class EventFollower(CancellableStream):
    """Iterate to follow the engine's events; reconnects after a drop, until ``close()``.

    Besides the engine's own events it yields ``EngineEvent(type="connection", action=
    "connected")`` each time the stream (re)opens, so the reader knows to re-read everything,
    and ``action="disconnected"`` with the reason when it drops. ``close()`` may be called from
    any thread and ends the iteration at once.

    ``opened``: a future of a subscription made beforehand (``open_events``, by gui.engine.first_read),
    used for the first connection when it succeeded; ``subscribed_early`` is true while the connection
    is that one (its "connected" event needs no full read by the reader that read after subscribing).
    """

    def __init__(self, engine: Engine, backoff: tuple[float, float] = (0.25, 2.0), opened: Future | None = None):
        super().__init__()
        self.engine = engine
        self._backoff = backoff
        self._wake = threading.Event()
        self._opened = opened
        self._opened_lock = threading.Lock()
        self.subscribed_early = False

    def _take_opened(self) -> Future | None:
        with self._opened_lock:
            opened, self._opened = self._opened, None
        return opened

    def retry_now(self) -> None:
        """Skip the wait before the next reconnection attempt."""
        self._wake.set()

    def _on_close(self) -> None:
        self._wake.set()  # no reconnection wait
        opened = self._take_opened()  # never used: closed once it is there
        if opened is not None:
            opened.add_done_callback(lambda fut: fut.exception() is None and self._cut(fut.result()))

    def _cut(self, held) -> None:
        # docker-py's events() is its own CancellableStream: its close() cuts the socket.
        for thing in held:
            try:
                thing.close()
            except Exception:  # best effort: close() (from any thread) never raises
                pass

    def _open(self):
        opened = self._take_opened()
        held = None
        if opened is not None:
            try:
                held = opened.result()  # this worker thread waits for it, as it would for its own
            except Exception:  # an engine fault, or the future cancelled; a bug shows again in the new attempt
                held = None  # that attempt failed: a new one below
        self.subscribed_early = held is not None
        if held is None:
            held = open_events(self.engine)
        self._hold(held)  # closed already: closes both, and the loop below ends
        return held[0]

    def _why_ended(self) -> str:
        self.engine.reset()
        try:
            self.engine.ping()
        except EngineError as exc:
            return str(exc)
        return f"The event stream from {self.engine.url} ended."

    def __iter__(self) -> Iterator[EngineEvent]:
        delay = self._backoff[0]
        while not self.closed:
            try:
                stream = self._open()
                yield EngineEvent("connection", "connected", time=time.time())
                delay = self._backoff[0]
                for raw in stream:
                    if self.closed:
                        return
                    yield to_event(raw)
                reason = self._why_ended()
            except Exception as exc:  # whatever close() made docker-py raise, first
                if self.closed:
                    return
                if not is_engine_fault(exc):  # a bug: to the crash reporter, not a "disconnected" event
                    raise
                self.engine.reset()
                reason = str(translate(exc, self.engine.url))
            finally:
                held = self._let_go()
                if held is not None:
                    try:
                        held[1].close()  # the client; the stream ended with it
                    except Exception:
                        pass
            if self.closed:
                return
            yield EngineEvent("connection", "disconnected", time=time.time(), message=reason)
            self._wake.wait(delay)
            self._wake.clear()
            if self.closed:
                return
            delay = min(delay * 2, self._backoff[1])
