"""The HTTP server of every serving image: studio-v1 and Open Inference Protocol v2 (see PROTOCOL.md).

Standard library only (plus the model's own packages). Listens on 0.0.0.0:$AICS_PORT (default 8080),
loads the model once at start, answers /health with 503 until it is loaded, one thread per connection.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from email.parser import BytesParser
from email.policy import HTTP
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

from service import RequestError, Service

DEFAULT_MAX_BODY = 20 * 1024 * 1024
PICTURE_TYPES = ("image/", "application/octet-stream")


def max_body_bytes() -> int:
    try:
        return max(1, int(os.environ.get("MAX_BODY_BYTES", DEFAULT_MAX_BODY)))
    except ValueError:
        return DEFAULT_MAX_BODY


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without TCP_NODELAY, Nagle's algorithm and the
    # client's delayed ACK hold every keep-alive answer back ~40 ms.
    disable_nagle_algorithm = True
    server_version = "ai-container-studio"
    sys_version = ""
    timeout = 60  # a client that stops sending mid-request does not hold a thread for ever
    service: Service
    max_body: int

    # -- plumbing -----------------------------------------------------------------------
    def log_message(self, format, *args):  # noqa: A002 - BaseHTTPRequestHandler's signature
        sys.stderr.write(f"{self.address_string()} {format % args}\n")

    def _send(self, status: int, payload: dict) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _error(self, status: int, message: str) -> None:
        self._send(status, {"error": message})

    def send_error(self, code, message=None, explain=None):
        """Errors found by http.server itself (bad request line, ...) are JSON too."""
        self.close_connection = True
        try:
            self._error(int(code), message or HTTPStatus(code).phrase)
        except OSError:
            pass

    def _body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            self.close_connection = True
            raise RequestError(411, "send the body with a Content-Length, not chunked")
        length = self.headers.get("Content-Length")
        try:
            size = int(length) if length is not None else 0
        except ValueError:
            self.close_connection = True
            raise RequestError(400, "Content-Length is not a number") from None
        if size < 0:
            self.close_connection = True
            raise RequestError(400, "Content-Length is negative")
        if size > self.max_body:
            self.close_connection = True  # the rest of the body is never read
            raise RequestError(413, f"the body has {size} bytes, more than the {self.max_body} allowed")
        data = self.rfile.read(size) if size else b""
        if len(data) != size:
            self.close_connection = True
            raise RequestError(400, "the body ended early")
        return data

    def _json(self, data: bytes):
        try:
            return json.loads(data or b"null")
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise RequestError(400, "the body is not valid JSON") from None

    def _route(self, method: str) -> None:
        url = urlsplit(self.path)
        path = unquote(url.path).rstrip("/") or "/"
        query = parse_qs(url.query)
        try:
            status, payload = self._dispatch(method, path, query)
        except RequestError as exc:
            status, payload = exc.status, {"error": exc.message}
        except Exception as exc:  # never a traceback to the client
            sys.stderr.write(f"error on {method} {path}: {type(exc).__name__}: {exc}\n")
            status, payload = 500, {"error": f"the server failed: {type(exc).__name__}"}
        if status >= 400 and method == "POST" and not self._body_read:
            self.close_connection = True
        self._send(status, payload)

    def do_GET(self):
        self._body_read = True
        self._route("GET")

    def do_HEAD(self):
        self._body_read = True
        self._route("GET")

    def do_POST(self):
        self._body_read = False
        self._route("POST")

    # -- routes -------------------------------------------------------------------------
    def _dispatch(self, method: str, path: str, query: dict) -> tuple[int, dict]:
        svc = self.service
        if method == "GET":
            if path == "/health":
                return svc.health()
            if path == "/metadata":
                return 200, svc.metadata()
            if path == "/v2/health/live":
                return 200, {"live": True}
            if path == "/v2/health/ready":
                return (200, {"ready": True}) if svc.ready else (503, {"ready": False})
            if path == "/v2":
                return 200, {"name": "ai-container-studio", "version": "1", "extensions": []}
            name, rest = _v2_model_path(path)
            if name is not None and rest in ("", "/ready"):
                self._check_name(name)
                if rest == "/ready":
                    return (200, {"name": name, "ready": True}) if svc.ready else (503, {"ready": False})
                return 200, svc.v2_model()
            if path in ("/predict",) or rest == "/infer":
                raise RequestError(405, f"use POST for {path}")
            raise RequestError(404, f"no such endpoint: {path}")
        if path == "/predict":
            return 200, self._predict(query)
        name, rest = _v2_model_path(path)
        if name is not None and rest == "/infer":
            self._check_name(name)
            body = self._json(self._read_all())
            return 200, svc.v2_infer(body)
        raise RequestError(
            404 if name is None and path not in ("/health", "/metadata") else 405,
            f"no POST endpoint at {path}",
        )

    def _read_all(self) -> bytes:
        data = self._body()
        self._body_read = True
        return data

    def _check_name(self, name: str) -> None:
        if name != self.service.name:
            raise RequestError(404, f"no model named {name!r} here (this server has {self.service.name!r})")

    def _predict(self, query: dict) -> dict:
        svc = self.service
        ctype = (self.headers.get("Content-Type") or "application/octet-stream").split(";")[0].strip().lower()
        try:
            top_k = int(query.get("top_k", ["5"])[0])
        except ValueError:
            raise RequestError(400, "top_k must be a whole number") from None
        if ctype == "application/json":
            body = self._json(self._read_all())
            if not isinstance(body, dict) or "instances" not in body:
                raise RequestError(400, 'send {"instances": [[value, ...], ...]}')
            return svc.predict_rows(body["instances"])
        if ctype == "multipart/form-data":
            files = self._multipart_files(self._read_all())
            return {"results": svc.classify_pictures(files, top_k)}
        if ctype.startswith(PICTURE_TYPES):
            return svc.classify_pictures([self._read_all()], top_k)[0]
        raise RequestError(415, f"unsupported content type {ctype}: send a picture, multipart files or JSON")

    def _multipart_files(self, data: bytes) -> list[bytes]:
        header = f"Content-Type: {self.headers.get('Content-Type')}\r\nMIME-Version: 1.0\r\n\r\n".encode()
        msg = BytesParser(policy=HTTP).parsebytes(header + data)
        if not msg.is_multipart():
            raise RequestError(400, "the multipart body could not be read (boundary missing?)")
        files = []
        for part in msg.iter_parts():
            if part.get_param("name", header="content-disposition") == "file":
                files.append(part.get_payload(decode=True) or b"")
        if not files:
            raise RequestError(400, 'send the pictures as form parts named "file"')
        return files


def _v2_model_path(path: str) -> tuple[str | None, str]:
    """ "/v2/models/NAME[/versions/V][/rest]" -> (NAME, "/rest")."""
    prefix = "/v2/models/"
    if not path.startswith(prefix):
        return None, ""
    parts = path[len(prefix) :].split("/")
    name, rest = parts[0], parts[1:]
    if len(rest) >= 2 and rest[0] == "versions":
        rest = rest[2:]
    return (name or None), ("/" + "/".join(rest) if rest else "")


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def make_server(service: Service, host: str = "0.0.0.0", port: int = 8080) -> Server:
    handler = type("BoundHandler", (Handler,), {"service": service, "max_body": max_body_bytes()})
    return Server((host, port), handler)


def serve(config: dict) -> None:
    """Listen first (so /health says "loading"), load the model in a thread, serve until stopped."""
    port = int(os.environ.get("AICS_PORT") or os.environ.get("PORT") or 8080)
    service = Service(config)
    server = make_server(service, "0.0.0.0", port)
    sys.stderr.write(f"serving {service.name} on 0.0.0.0:{port}\n")

    def load():
        service.load()
        if service.error is not None:
            sys.stderr.write(f"could not load the model: {service.error}\n")
            server.shutdown()
        else:
            sys.stderr.write(f"model {service.name} loaded; ready\n")

    threading.Thread(target=load, name="load-model", daemon=True).start()
    try:
        server.serve_forever(poll_interval=0.05)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    if service.error is not None:
        sys.exit(1)
