"""The first look at an engine, begun as soon as the app knows which engine to use, while its window is
still being built: the event stream subscribed, then the engine's info, images and containers read in
parallel, each on a thread of its own.

The reads begin only once the engine holds the subscription, so whatever changes while they run comes
as an event afterwards: the session that takes this over (gui/qt/shell/session.py) needs no second full
read when its event stream starts on this subscription. (Subscribing with ``since`` after the reads
instead would rely on the engine's clock agreeing with ours and on its buffer of 256 past events.)
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future

from gui.engine.client import Engine
from gui.engine.endpoint import EngineTarget
from gui.engine.events import open_events


class FirstRead:
    """Futures of the subscription (``(stream, client)``, for EventFollower's ``opened``), ``info``,
    ``images`` and ``containers``; each holds its answer or what it raised (the reads: an EngineError
    when the engine failed, as Engine's calls raise)."""

    def __init__(self, target: EngineTarget):
        self.engine = Engine(target)
        self.subscription: Future = Future()
        self.info: Future = Future()
        self.images: Future = Future()
        self.containers: Future = Future()
        threading.Thread(target=self._subscribe_then_read, name="first-read", daemon=True).start()

    def _subscribe_then_read(self) -> None:
        _settle(self.subscription, lambda: open_events(self.engine))
        for fut, fn in ((self.images, self.engine.list_images), (self.info, self.engine.info)):
            threading.Thread(target=self._read, args=(fut, fn), name="first-read", daemon=True).start()
        self._read(self.containers, self.engine.list_containers)

    def _read(self, fut: Future, fn: Callable[[], object]) -> None:
        try:
            _settle(fut, fn)
        finally:
            self.engine.close()  # this thread's client: the thread ends here


def _settle(fut: Future, fn: Callable[[], object]) -> None:
    if not fut.set_running_or_notify_cancel():
        return  # cancelled (the session closed before it started): nobody waits for it
    try:
        fut.set_result(fn())
    except BaseException as exc:  # for whoever waits on the future
        fut.set_exception(exc)
