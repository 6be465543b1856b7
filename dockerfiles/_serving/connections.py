"""HTTP/1.1 connections with bounded cost: one I/O thread, a fixed pool of workers, hard limits.

The standard library's ThreadingHTTPServer spent one thread per connection with no cap: 3,000
half-sent headers made 3,000 threads, closing 1,500 at once kept /health silent for ~40 s, and a
client sending a byte every 59 s held a thread for ever (the timeout was per read). Here:
- one I/O thread owns every socket (`selectors`): idle keep-alive connections and half-sent requests
  cost a file descriptor and a buffer, never a thread;
- a request reaches a worker only once its head and body have fully arrived, within one deadline for
  the whole request (408 when it runs out); workers never touch sockets, so slow readers hold none;
- past `max_connections` open connections, or `max_queued` requests waiting for a worker, or
  `body_budget` bytes of bodies in flight, the answer is 503 at once.
"""

from __future__ import annotations

import collections
import json
import queue
import selectors
import socket
import sys
import threading
import time
from dataclasses import dataclass
from email.utils import formatdate
from http import HTTPStatus

SERVER_NAME = "ai-container-studio"
_TOKEN = frozenset(b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


@dataclass(frozen=True)
class Limits:
    workers: int = 4  # threads that run requests (the model)
    max_connections: int = 4096  # open connections; the next one is answered 503 and closed
    max_queued: int = 64  # complete requests waiting for a worker; more are answered 503
    request_timeout: float = 30.0  # from a request's first byte to its last (408 after)
    idle_timeout: float = 75.0  # a keep-alive connection with no request in it is closed after this
    max_header_bytes: int = 65536  # request line and headers (431 over it)
    max_body: int = 20 * 1024 * 1024  # one body (413 over it)
    body_budget: int = 256 * 1024 * 1024  # bodies being received at once, all connections together


@dataclass
class Request:
    method: str
    target: str
    version: str
    headers: list[tuple[str, str]]
    body: bytes = b""
    keep_alive: bool = True

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.headers if k == name), None)


@dataclass
class Response:
    status: int
    payload: dict
    close: bool = False


class HttpError(Exception):
    """A request refused while it is read; the connection is closed after the answer."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class _Conn:
    __slots__ = ("sock", "inbuf", "outbuf", "state", "deadline", "request", "need", "reserved", "close")

    def __init__(self, sock: socket.socket, idle_deadline: float):
        self.sock = sock
        self.inbuf = bytearray()
        self.outbuf = b""
        self.state = "idle"  # idle -> head -> body -> busy -> write -> idle (or closed)
        self.deadline = idle_deadline
        self.request: Request | None = None
        self.need = 0  # body bytes still expected
        self.reserved = 0  # bytes of body_budget this request holds
        self.close = False


class Application:
    """What the server asks of the routes (see server.py)."""

    def check(self, request: Request) -> Response | None:
        """Called once the head is read, before the body: an answer here refuses the body unread."""
        return None

    def is_light(self, request: Request) -> bool:
        """True for requests cheap enough to answer on the I/O thread (health checks)."""
        return False

    def handle(self, request: Request) -> Response:
        raise NotImplementedError


class HttpServer:
    def __init__(self, address: tuple[str, int], app: Application, limits: Limits):
        self.app = app
        self.limits = limits
        self.listener = socket.create_server(address, backlog=1024, reuse_port=False)
        self.listener.setblocking(False)
        self.address = self.listener.getsockname()
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.listener, selectors.EVENT_READ, "accept")
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self.sel.register(self._wake_r, selectors.EVENT_READ, "wake")
        self.conns: set[_Conn] = set()
        self.ready: collections.deque = collections.deque()  # connections with a pipelined request
        self.jobs: queue.SimpleQueue = queue.SimpleQueue()
        self.done: collections.deque = collections.deque()
        self.queued = 0  # requests handed to the pool and not answered yet
        self.in_flight_body = 0
        self._stop = threading.Event()
        self._stopped = threading.Event()
        self.workers = [
            threading.Thread(target=self._work, name=f"worker-{i}", daemon=True)
            for i in range(limits.workers)
        ]
        for w in self.workers:
            w.start()

    # -- life cycle ---------------------------------------------------------------------
    def serve_forever(self) -> None:
        try:
            next_sweep = 0.0
            while not self._stop.is_set():
                for key, mask in self.sel.select(timeout=0 if self.ready else 0.2):
                    if key.data == "accept":
                        self._accept()
                    elif key.data == "wake":
                        self._drain_wake()
                    elif mask & selectors.EVENT_WRITE:
                        self._flush(key.data)
                    else:
                        self._read(key.data)
                self._finish_done()
                for _ in range(len(self.ready)):  # iterative: a pipelined stream never recurses
                    conn = self.ready.popleft()
                    if conn.state == "idle" and conn in self.conns:
                        self._advance(conn)
                now = time.monotonic()
                if now >= next_sweep:
                    self._sweep(now)
                    next_sweep = now + 0.2
        finally:
            self._stopped.set()

    def shutdown(self) -> None:
        self._stop.set()
        self._wake()
        self._stopped.wait(5)

    def server_close(self) -> None:
        for conn in list(self.conns):
            self._close(conn)
        for _ in self.workers:
            self.jobs.put(None)
        for s in (self.listener, self._wake_r, self._wake_w):
            s.close()
        self.sel.close()

    # -- accepting and reading ----------------------------------------------------------
    def _accept(self) -> None:
        for _ in range(256):
            try:
                sock, _addr = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # EMFILE and friends: try again on the next event
                sys.stderr.write(f"accept failed: {exc}\n")
                return
            sock.setblocking(False)
            if len(self.conns) >= self.limits.max_connections:
                full = Response(503, {"error": "the server has too many connections"}, close=True)
                try:
                    sock.send(_encode(full, "HTTP/1.1", keep_alive=False))
                except OSError:
                    pass
                sock.close()
                continue
            # Headers and body go out in one write, but keep Nagle out of small answers anyway.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = _Conn(sock, time.monotonic() + self.limits.idle_timeout)
            self.conns.add(conn)
            self.sel.register(sock, selectors.EVENT_READ, conn)

    def _read(self, conn: _Conn) -> None:
        try:
            data = conn.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._close(conn)
            return
        conn.inbuf += data
        self._advance(conn)

    def _advance(self, conn: _Conn) -> None:
        """Move a connection on with what its buffer holds: a head, then a body, then a worker."""
        try:
            if conn.state == "idle":
                while conn.inbuf[:2] == b"\r\n":  # RFC 9112 2.2: ignore empty lines before a request
                    del conn.inbuf[:2]
                if not conn.inbuf:
                    return
                conn.state = "head"
                conn.deadline = time.monotonic() + self.limits.request_timeout
            if conn.state == "head":
                end = conn.inbuf.find(b"\r\n\r\n", 0, self.limits.max_header_bytes + 4)
                if end < 0:
                    if len(conn.inbuf) > self.limits.max_header_bytes:
                        raise HttpError(431, "the request headers are too large")
                    return
                request, size = self._parse_head(bytes(conn.inbuf[:end]))
                del conn.inbuf[: end + 4]
                conn.request = request
                refused = self.app.check(request)
                if refused is not None:
                    refused.close = refused.close or size > 0
                    self._respond(conn, refused)
                    return
                if size > self.limits.max_body:
                    raise HttpError(
                        413, f"the body has {size} bytes, more than the {self.limits.max_body} allowed"
                    )
                if size and self.in_flight_body + size > self.limits.body_budget:
                    raise HttpError(503, "the server is receiving too much data at once; try again")
                conn.reserved = size
                self.in_flight_body += size
                conn.need = size
                conn.state = "body"
            if conn.state == "body":
                if len(conn.inbuf) < conn.need:
                    return
                conn.request.body = bytes(conn.inbuf[: conn.need])
                del conn.inbuf[: conn.need]
                self._release(conn)
                self._dispatch(conn)
        except HttpError as exc:
            self._respond(conn, Response(exc.status, {"error": exc.message}, close=True))

    def _parse_head(self, head: bytes) -> tuple[Request, int]:
        lines = head.split(b"\r\n")
        parts = lines[0].split(b" ")
        if len(parts) != 3 or not parts[0] or not set(parts[0]) <= _TOKEN:
            raise HttpError(400, "the request line is not METHOD TARGET HTTP/1.x")
        version = parts[2].decode("ascii", "replace")
        if version not in ("HTTP/1.0", "HTTP/1.1"):
            raise HttpError(505 if version.startswith("HTTP/") else 400, f"unsupported version {version}")
        headers = []
        for line in lines[1:]:
            name, sep, value = line.partition(b":")
            if not sep or not name or not set(name) <= _TOKEN:  # also obs-fold (RFC 9112 5.2)
                raise HttpError(400, "a header line is malformed")
            headers.append((name.decode("ascii").lower(), value.strip(b" \t").decode("latin-1")))
        request = Request(parts[0].decode("ascii"), parts[1].decode("latin-1"), version, headers)
        tokens = {t.strip().lower() for k, v in headers if k == "connection" for t in v.split(",")}
        request.keep_alive = "keep-alive" in tokens if version == "HTTP/1.0" else "close" not in tokens
        lengths = [v for k, v in headers if k == "content-length"]
        if any(k == "transfer-encoding" for k, _ in headers):
            if lengths:  # RFC 9112 6.3: both is a smuggling attempt
                raise HttpError(400, "send either Content-Length or Transfer-Encoding, not both")
            raise HttpError(411, "send the body with a Content-Length, not chunked")
        if len(lengths) > 1:  # the first used to win and the rest was read as a new request
            raise HttpError(400, "the request has more than one Content-Length header")
        if lengths and not (lengths[0].isascii() and lengths[0].isdigit()):
            raise HttpError(400, "Content-Length is not a whole number")
        return request, int(lengths[0]) if lengths else 0

    def _dispatch(self, conn: _Conn) -> None:
        request = conn.request
        if self.app.is_light(request):
            self._respond(conn, self._run(request))
            return
        if self.queued >= self.limits.max_queued:
            self._respond(conn, Response(503, {"error": "the server is busy; try again"}))
            return
        self.queued += 1
        conn.state = "busy"
        self.sel.unregister(conn.sock)  # nothing more is read until the answer is out
        self.jobs.put((conn, request))

    # -- workers ------------------------------------------------------------------------
    def _run(self, request: Request) -> Response:
        try:
            return self.app.handle(request)
        except Exception as exc:  # never a traceback to the client
            sys.stderr.write(f"error on {request.method} {request.target}: {type(exc).__name__}: {exc}\n")
            return Response(500, {"error": f"the server failed: {type(exc).__name__}"})

    def _work(self) -> None:
        while True:
            job = self.jobs.get()
            if job is None:
                return
            conn, request = job
            response = self._run(request)
            self.done.append((conn, response))
            self._wake()

    def _wake(self) -> None:
        try:
            self._wake_w.send(b"\0")
        except OSError:  # the pipe is full: the I/O thread is awake anyway
            pass

    def _drain_wake(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except (BlockingIOError, InterruptedError):
            pass

    def _finish_done(self) -> None:
        while self.done:
            conn, response = self.done.popleft()
            self.queued -= 1
            if conn in self.conns:
                self.sel.register(conn.sock, selectors.EVENT_READ, conn)
                self._respond(conn, response)

    # -- writing ------------------------------------------------------------------------
    def _respond(self, conn: _Conn, response: Response) -> None:
        request = conn.request
        keep = bool(request and request.keep_alive) and not response.close
        version = request.version if request else "HTTP/1.1"
        head_only = bool(request and request.method == "HEAD")
        conn.outbuf = _encode(response, version, keep, head_only)
        conn.close = not keep
        conn.state = "write"
        conn.deadline = time.monotonic() + self.limits.request_timeout
        self._release(conn)
        self._flush(conn)

    def _flush(self, conn: _Conn) -> None:
        try:
            sent = conn.sock.send(conn.outbuf)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            self._close(conn)
            return
        conn.outbuf = conn.outbuf[sent:]
        if conn.outbuf:
            self.sel.modify(conn.sock, selectors.EVENT_WRITE, conn)
            return
        if conn.close:
            self._close(conn)
            return
        self.sel.modify(conn.sock, selectors.EVENT_READ, conn)
        conn.state, conn.request = "idle", None
        conn.deadline = time.monotonic() + self.limits.idle_timeout
        if conn.inbuf:  # a pipelined request already arrived
            self.ready.append(conn)

    def _sweep(self, now: float) -> None:
        for conn in [c for c in self.conns if c.deadline <= now and c.state != "busy"]:
            if conn.state in ("head", "body"):
                conn.request = conn.request if conn.state == "body" else None
                self._respond(conn, Response(408, {"error": "the request took too long to arrive"}, True))
            else:
                self._close(conn)

    def _release(self, conn: _Conn) -> None:
        self.in_flight_body -= conn.reserved
        conn.reserved = 0

    def _close(self, conn: _Conn) -> None:
        self._release(conn)
        self.conns.discard(conn)
        if conn.state != "busy":
            try:
                self.sel.unregister(conn.sock)
            except (KeyError, ValueError):
                pass
        conn.state = "closed"
        conn.sock.close()


def _encode(response: Response, version: str, keep_alive: bool, head_only: bool = False) -> bytes:
    # allow_nan=False: "-Infinity" is not JSON; a value like that is a bug answered 500, never sent
    try:
        body = json.dumps(response.payload, allow_nan=False).encode()
    except ValueError:
        response = Response(500, {"error": "the answer holds a value JSON cannot carry (NaN or infinity)"})
        body = json.dumps(response.payload).encode()
    try:
        phrase = HTTPStatus(response.status).phrase
    except ValueError:
        phrase = ""
    lines = [
        f"HTTP/1.1 {response.status} {phrase}",
        f"Server: {SERVER_NAME}",
        f"Date: {formatdate(usegmt=True)}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
    ]
    if not keep_alive:
        lines.append("Connection: close")
    elif version == "HTTP/1.0":  # an HTTP/1.0 client closes unless told the connection stays open
        lines.append("Connection: keep-alive")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return head if head_only else head + body
