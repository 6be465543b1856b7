"""Engine streams that another thread can end at once, and the one place that reaches under
docker-py and requests for the socket of a streamed response (docker-py has no cancel for most
streams: moby#32417, docker-py #931, #3291).

``CancellableStream`` is the base of every stream of the engine layer (logs, stats, exec, events,
pull/push, build): ``close()`` from any thread ends its iteration at once. The private attributes
used here (``res.raw._fp.fp``, ``SocketIO._sock``, ``api._get`` ...) are pinned by
tests/unit/test_engine_stream_contract.py, which fails when docker-py, requests or urllib3 change them.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from typing import Any

from gui.engine.client import Engine
from gui.engine.errors import translate


def raw_socket(res: Any) -> Any:
    """The socket under a streamed requests response, or None."""
    try:
        fp = res.raw._fp.fp
    except AttributeError:
        return None
    raw = getattr(fp, "raw", None)
    for holder in (raw, fp):
        sock = getattr(holder, "_sock", None) or getattr(holder, "sock", None)
        if sock is not None:
            return getattr(sock, "socket", sock)  # pyopenssl's WrappedSocket
    return getattr(fp, "channel", None)  # ssh


def interrupt_response(res: Any) -> bool:
    """Make a blocked read of ``res`` on another thread return at once (at end of stream).

    Only shuts the socket down: closing the response under a reading thread crashes CPython's
    buffered reader, so the reading thread closes it (``shutdown_response``) when it wakes.
    Returns False when there is no socket to shut down (the caller then closes the response).
    """
    sock = raw_socket(res) if res is not None else None
    if sock is None:
        return False
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except Exception:
        pass
    return True


def shutdown_response(api: Any, res: Any) -> None:
    """Close a streamed response and its client (from the thread that reads it)."""
    interrupt_response(res)
    for thing in (res, api):
        if thing is not None:
            try:
                thing.close()
            except Exception:
                pass


def close_response(res: Any) -> None:
    """Interrupt a streamed response and close it at once, from any thread (for readers that
    tolerate it: docker-py's own stream helpers; not the fast log reader's ``read1``)."""
    shutdown_response(None, res)


def open_stream(engine: Engine, path: str, obj_id: str, params: dict,
                ) -> tuple[Any, Any, Callable[[int], bytes], bool]:
    """GET ``path`` (formatted with ``obj_id``) on a client with no read timeout.

    Returns ``(api, response, read, chunked)``: ``read(n)`` gives what the socket has (up to n
    bytes; b"" at the end) and ``chunked`` says whether those bytes still carry the HTTP chunked
    encoding (they do when read straight from the socket, which is much faster).
    """
    api = res = None
    try:
        api = engine.stream_api()
        res = get_stream(api, path, obj_id, params)
    except Exception as exc:
        shutdown_response(api, res)
        raise translate(exc, engine.url) from None
    read, chunked = fast_reader(res)
    return api, res, read, chunked


def get_stream(api: Any, path: str, obj_id: str, params: dict) -> Any:
    """The streamed response of GET ``path`` on docker-py's client ``api`` (raises APIError on an error status)."""
    res = api._get(api._url(path, obj_id), params=params, stream=True)
    try:
        api._raise_for_status(res)
    except Exception:
        res.close()
        raise
    return res


def post_stream(api: Any, path: str, obj_id: str, data: dict) -> Any:
    """The streamed response of POST ``path`` with a JSON body (raises APIError on an error status)."""
    res = api._post_json(api._url(path, obj_id), data=data, stream=True)
    try:
        api._raise_for_status(res)
    except Exception:
        res.close()
        raise
    return res


def fast_reader(res: Any) -> tuple[Callable[[int], bytes], bool]:
    """``(read, chunked)`` for a streamed response: ``read(n)`` gives what the socket has (up to n
    bytes; b"" at the end); ``chunked`` says whether those bytes still carry the HTTP chunked
    encoding (they do when read straight from the connection, which is much faster)."""
    http = getattr(res.raw, "_fp", None)
    fp = getattr(http, "fp", None)
    if http is not None and getattr(http, "chunked", False) and hasattr(fp, "read1"):
        return fp.read1, True
    return res.raw.read1, False


class CancellableStream:
    """Base of an engine stream that ``close()`` ends at once, from any thread, any number of times.

    The iterating thread hands over what ``close()`` must cut with ``_hold(thing)`` (the HTTP
    response it reads, a child stream ...) and takes it back with ``_let_go()``, both under one
    lock: whichever of ``close()`` and ``_hold()`` comes second cuts it, so a close that lands
    while the stream is still opening is never lost. ``_cut`` by default shuts the response's
    socket down (``interrupt_response``): the blocked read returns an end of stream and the
    reading thread closes the response itself. Subclasses override ``_cut`` where a stream must
    be cut otherwise, and ``_on_close`` for more to do on close (wake a reconnect wait).
    """

    def __init__(self) -> None:
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._held: Any = None

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def close(self) -> None:
        """End the iteration at once; safe from any thread, and more than once."""
        with self._lock:
            if self._closed.is_set():
                return
            self._closed.set()
            held = self._held
        self._on_close()
        if held is not None:
            self._cut(held)

    def _on_close(self) -> None:
        """Called once, by the first ``close()``, before the held thing is cut."""

    def _cut(self, held: Any) -> None:
        """Make the iterating thread stop reading ``held``."""
        if isinstance(held, CancellableStream):
            held.close()
        else:
            interrupt_response(held)

    def _hold(self, thing: Any) -> bool:
        """Make ``thing`` what ``close()`` cuts. False when the stream is already closed: then it is
        cut at once, and the caller stops."""
        with self._lock:
            self._held = thing
            closed = self._closed.is_set()
        if closed and thing is not None:
            self._cut(thing)
        return not closed

    def _let_go(self) -> Any:
        """Take back what ``close()`` would cut (the caller closes it); None when nothing is held."""
        with self._lock:
            held, self._held = self._held, None
        return held

    def _hold_responses_of(self, api: Any) -> None:
        """Hold each response ``api`` receives from now on: docker-py's pull, push and build
        stream from a response they give no handle on, but a requests session hook sees it."""

        def hook(res, *args, **kwargs):
            self._hold(res)  # returns None: a hook that returns something replaces the response

        api.hooks["response"].append(hook)
