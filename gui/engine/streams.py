"""Raw HTTP streams from the engine that another thread can cut at once (docker-py has no cancel)."""

from __future__ import annotations

import socket
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
        res = api._get(api._url(path, obj_id), params=params, stream=True)
        api._raise_for_status(res)
    except Exception as exc:
        shutdown_response(api, res)
        raise translate(exc, engine.url) from None
    http = getattr(res.raw, "_fp", None)
    fp = getattr(http, "fp", None)
    if http is not None and getattr(http, "chunked", False) and hasattr(fp, "read1"):
        return api, res, fp.read1, True
    return api, res, res.raw.read1, False
