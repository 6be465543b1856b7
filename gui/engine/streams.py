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
import time
from collections.abc import Callable
from typing import Any

import urllib3.connection

from gui.engine.client import Engine
from gui.engine.errors import EngineError, ErrorKind, is_engine_fault, translate

PING_TIMEOUT = 3.0  # seconds a live engine takes at most to answer a ping


def answers_or_did_not_start(engine: Engine, what: str, *, raise_others: bool = True) -> None:
    """Ping ``engine`` before starting ``what`` ("the build"): a frozen engine (SIGSTOP, overloaded) would
    hold the request that starts it REQUEST_TIMEOUT (15 s), or for ever for a stream only a watchdog cuts;
    the ping says it within PING_TIMEOUT. Raises EngineError (TIMEOUT) "... does not answer (frozen or
    overloaded?): {what} did not start."; any other failure of the ping as it is, or with ``raise_others``
    false not at all (the request that follows says it in its own words)."""
    try:
        engine.ping(timeout=PING_TIMEOUT)
    except EngineError as exc:
        if exc.kind == ErrorKind.TIMEOUT:
            raise EngineError(f"Docker Engine at {engine.url} does not answer (frozen or overloaded?): "
                              f"{what} did not start.", ErrorKind.TIMEOUT) from None
        if raise_others:
            raise


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


def interrupt_connection(conn: Any) -> None:
    """Make a request that waits on ``conn`` (a urllib3 connection sending its body, or waiting for
    the answer) fail at once: a frozen engine takes the connection and then neither reads nor answers."""
    sock = getattr(conn, "sock", None)
    if sock is None:
        return
    try:
        if isinstance(sock, socket.socket):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)  # not SSLSocket.shutdown: it drops the TLS state
        else:
            sock.shutdown(socket.SHUT_RDWR)  # ssh: a paramiko channel
    except Exception:
        pass


def watch_connections(api: Any, seen: Callable[[Any], None]) -> None:
    """Call ``seen(conn)`` with each urllib3 connection ``api`` sends a request on: when it is taken
    from its pool, and again once it is connected (urllib3 connects in the middle of the request).

    A request still waiting for its answer (a build context being sent, a stream whose first bytes
    have not come) has no response to cut yet, only this connection (``interrupt_connection``).
    Meant for a client of one stream (``Engine.stream_api``): it wraps that client's pools.
    """
    for adapter in {id(a): a for a in api.adapters.values()}.values():
        pool_of = adapter.get_connection_with_tls_context

        def watched_pool(request, *args, _pool_of=pool_of, **kwargs):
            return _watch_pool(_pool_of(request, *args, **kwargs), seen)

        adapter.get_connection_with_tls_context = watched_pool


def _watch_pool(pool: Any, seen: Callable[[Any], None]) -> Any:
    if getattr(pool, "_aics_seen", None) is not seen:
        take = type(pool)._get_conn.__get__(pool)
        pool._get_conn = lambda *args, **kwargs: _watched(take(*args, **kwargs), seen)
        pool._aics_seen = seen
    return pool


def _watched(conn: Any, seen: Callable[[Any], None]) -> Any:
    seen(conn)
    if isinstance(conn, urllib3.connection.HTTPConnection) and "connect" not in vars(conn):
        connect = type(conn).connect.__get__(conn)

        def connect_then_seen() -> None:
            connect()
            seen(conn)

        conn.connect = connect_then_seen
    return conn


def is_connection(thing: Any) -> bool:
    """``thing`` is a connection held by ``watch_connections`` (not a response)."""
    return isinstance(thing, urllib3.connection.HTTPConnection)


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


def open_stream(engine: Engine, path: str, obj_id: str, params: dict, holder: CancellableStream | None = None,
                ) -> tuple[Any, Any, Callable[[int], bytes], bool]:
    """GET ``path`` (formatted with ``obj_id``) on a client with no read timeout.

    With ``holder`` the request's connection is what ``holder.close()`` (or its watchdog) cuts until
    the caller holds the response: an engine frozen before it answered cannot keep the caller waiting.
    An engine fault (``is_engine_fault``) is raised as EngineError, and so is anything a cut made the
    request raise (the caller sees ``holder.closed`` or ``stalled``); anything else is a bug, raised as it is.
    Returns ``(api, response, read, chunked)``: ``read(n)`` gives what the socket has (up to n
    bytes; b"" at the end) and ``chunked`` says whether those bytes still carry the HTTP chunked
    encoding (they do when read straight from the socket, which is much faster).
    """
    api = res = None
    try:
        api = engine.stream_api()
        if holder is not None:
            holder._hold_connections_of(api)
        res = get_stream(api, path, obj_id, params)
    except Exception as exc:
        shutdown_response(api, res)
        cut = holder is not None and (holder.closed or holder.stalled)
        if not cut and not is_engine_fault(exc):
            raise
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

    A frozen engine (SIGSTOP, overloaded) keeps a stream open and silent, and so does a live engine
    with nothing to say: ``_watch(engine, idle_timeout)`` starts a watchdog that pings the engine after
    ``idle_timeout`` seconds without ``_heard()``; an engine that does not answer within PING_TIMEOUT
    gets what is held cut, and ``stalled`` set (the stream then ends with its own words for it).
    """

    def __init__(self) -> None:
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._held: Any = None
        self._stalled = False  # the watchdog cut the stream: the engine stopped answering
        self._last_heard = 0.0  # time.monotonic() of the last bytes from the engine
        self._over = threading.Event()  # the stream ended: the watchdog stops

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
        elif is_connection(held):
            interrupt_connection(held)
        else:
            interrupt_response(held)

    def _hold(self, thing: Any) -> bool:
        """Make ``thing`` what ``close()`` cuts. False when the stream is already closed (or stalled):
        then it is cut at once, and the caller stops."""
        with self._lock:
            self._held = thing
            closed = self._closed.is_set() or self._stalled
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

    def _hold_connections_of(self, api: Any) -> None:
        """Hold the connection of each request ``api`` sends, until its response is held: a request still
        sending its body, or waiting for its answer, is cut too (``watch_connections``)."""
        watch_connections(api, self._hold)

    # -- watchdog -------------------------------------------------------------------------
    @property
    def stalled(self) -> bool:
        """The watchdog ended the stream: the engine was silent and did not answer a ping."""
        return self._stalled

    def _heard(self) -> None:
        """The engine sent something: its silence starts again."""
        self._last_heard = time.monotonic()

    def _watch(self, engine: Engine, idle_timeout: float, name: str) -> None:
        """Start the watchdog (once per iteration; ``_end_watch()`` when the iteration ends)."""
        self._heard()
        threading.Thread(target=self._watchdog, args=(engine, idle_timeout), name=name, daemon=True).start()

    def _end_watch(self) -> None:
        self._over.set()

    def _watchdog(self, engine: Engine, idle_timeout: float) -> None:
        """After ``idle_timeout`` s of silence ping the engine: a quiet stream of a live engine goes on, an
        engine that does not answer gets the held thing cut (a frozen engine would keep it open for ever)."""
        try:
            while not self._over.is_set() and not self.closed:
                left = self._last_heard + idle_timeout - time.monotonic()
                if left > 0:
                    self._over.wait(left)
                    continue
                try:
                    engine.ping(timeout=PING_TIMEOUT)
                except EngineError as exc:
                    if not exc.connection_lost:  # it answered, with an error: it is there
                        self._heard()
                        continue
                    with self._lock:
                        if self._over.is_set() or self.closed:
                            return
                        self._stalled = True
                        held = self._held
                    if held is not None:
                        self._cut(held)
                    return
                self._heard()
        finally:
            engine.close()  # this thread's ping client
