"""The HTTP server of every serving image: studio-v1 and Open Inference Protocol v2 (see PROTOCOL.md).

Standard library only (plus the model's own packages). Listens on 0.0.0.0:$AICS_PORT (default 8080),
loads the model once at start, answers /health with 503 until it is loaded. Connections, workers and
limits: connections.py. Environment: MAX_BODY_BYTES, MAX_PARTS, AICS_WORKERS, AICS_MAX_CONNECTIONS,
AICS_MAX_QUEUED, AICS_REQUEST_TIMEOUT, AICS_IDLE_TIMEOUT, AICS_BODY_BUDGET_BYTES; pictures: pictures.py.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import sys
import threading
from email.parser import BytesParser
from email.policy import HTTP
from urllib.parse import parse_qs, unquote, urlsplit

from connections import Application, HttpServer, Limits, Request, Response
from service import RequestError, Service

DEFAULT_MAX_BODY = 20 * 1024 * 1024
DEFAULT_MAX_PARTS = 64  # pictures in one multipart request or v2 BYTES input
PICTURE_TYPES = ("image/", "application/octet-stream")


def max_body_bytes() -> int:
    try:
        return max(1, int(os.environ.get("MAX_BODY_BYTES", DEFAULT_MAX_BODY)))
    except ValueError:
        return DEFAULT_MAX_BODY


class Routes(Application):
    """studio-v1 and v2 over HTTP: paths, content types and bodies to `Service` calls and back."""

    def __init__(self, service: Service, max_parts: int):
        self.service = service
        self.max_parts = max_parts

    # -- hooks of the connection loop ---------------------------------------------------
    def is_light(self, request: Request) -> bool:
        # GETs never run the model: answered on the I/O thread, so /health answers even when every
        # worker is busy (Docker's HEALTHCHECK gives up after 3 s).
        return request.method in ("GET", "HEAD")

    def check(self, request: Request) -> Response | None:
        """Refuse a POST by its path and content type before its body is read (let alone parsed)."""
        if request.method not in ("GET", "HEAD", "POST"):
            return Response(501, {"error": f"unsupported method {request.method}"}, close=True)
        if request.method != "POST":
            return None
        path = _path(request)
        try:
            if path == "/predict":
                self._predict_kind(request)
            else:
                name, rest = _v2_model_path(path)
                if name is None or rest != "/infer":
                    raise RequestError(
                        404 if name is None and path not in ("/health", "/metadata") else 405,
                        f"no POST endpoint at {path}",
                    )
                self._check_name(name)
        except RequestError as exc:
            return Response(exc.status, {"error": exc.message}, close=True)
        return None

    def handle(self, request: Request) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        try:
            status, payload = self._dispatch(method, _path(request), request)
        except RequestError as exc:
            status, payload = exc.status, {"error": exc.message}
        return Response(status, payload)

    # -- routes -------------------------------------------------------------------------
    def _dispatch(self, method: str, path: str, request: Request) -> tuple[int, dict]:
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
            return 200, self._predict(request)
        return 200, svc.v2_infer(_json(request.body), max_pictures=self.max_parts)

    def _check_name(self, name: str) -> None:
        if name != self.service.name:
            raise RequestError(404, f"no model named {name!r} here (this server has {self.service.name!r})")

    def _predict_kind(self, request: Request) -> str:
        """ "rows", "multipart" or "picture", or 415 when the model takes no such thing."""
        ctype = _content_type(request)
        if self.service.is_image:
            if ctype == "multipart/form-data":
                return "multipart"
            if ctype.startswith(PICTURE_TYPES):
                return "picture"
            if ctype == "application/json":
                raise RequestError(415, "this model takes pictures, not rows of numbers")
        elif ctype == "application/json":
            return "rows"
        elif ctype == "multipart/form-data" or ctype.startswith(PICTURE_TYPES):
            raise RequestError(415, "this model takes rows of numbers (application/json), not pictures")
        raise RequestError(415, f"unsupported content type {ctype}: send a picture, multipart files or JSON")

    def _predict(self, request: Request) -> dict:
        svc = self.service
        query = parse_qs(urlsplit(request.target).query)
        try:
            top_k = int(query.get("top_k", ["5"])[0])
        except ValueError:
            raise RequestError(400, "top_k must be a whole number") from None
        kind = self._predict_kind(request)
        if kind == "rows":
            body = _json(request.body)
            if not isinstance(body, dict) or "instances" not in body:
                raise RequestError(400, 'send {"instances": [[value, ...], ...]}')
            return svc.predict_rows(body["instances"])
        if kind == "multipart":
            files = multipart_files(request.header("content-type") or "", request.body, self.max_parts)
            return {"results": svc.classify_pictures(files, top_k)}
        return svc.classify_pictures([request.body], top_k)[0]


def multipart_files(content_type: str, data: bytes, max_parts: int) -> list[bytes]:
    """The "file" parts of a multipart/form-data body; at most `max_parts` parts are parsed.

    The email parser spent 25-78 s of CPU on 10,000 tiny parts (2 MB): the parts are counted first."""
    boundary = _boundary(content_type)
    if not boundary:
        raise RequestError(400, "the multipart body could not be read (boundary missing?)")
    parts = data.count(b"--" + boundary.encode("latin-1")) - 1
    if parts > max_parts:
        raise RequestError(413, f"send at most {max_parts} parts in one request (this one has {parts})")
    header = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1", "replace")
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


def _boundary(content_type: str) -> str | None:
    msg = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode("latin-1", "replace")
    )
    boundary = msg.get_boundary()
    return boundary if boundary and len(boundary) <= 200 else None


def _content_type(request: Request) -> str:
    return (request.header("content-type") or "application/octet-stream").split(";")[0].strip().lower()


def _path(request: Request) -> str:
    return unquote(urlsplit(request.target).path).rstrip("/") or "/"


def _json(data: bytes):
    """JSON as RFC 8259 has it: no NaN or Infinity, and no nesting deeper than Python can follow."""
    try:
        return json.loads(data or b"null", parse_constant=_no_constant)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise RequestError(400, "the body is not valid JSON") from None
    except RecursionError:
        raise RequestError(400, "the JSON is nested too deeply") from None


def _no_constant(name: str):
    raise RequestError(400, f"{name} is not a number JSON allows; send finite numbers")


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


def limits_from_env() -> Limits:
    """Limits, each overridable by an environment variable of the container."""
    default = Limits()
    return Limits(
        workers=_env_int("AICS_WORKERS", default.workers),
        max_connections=min(
            _env_int("AICS_MAX_CONNECTIONS", default.max_connections), _raise_fd_limit() - 64
        ),
        max_queued=_env_int("AICS_MAX_QUEUED", default.max_queued),
        request_timeout=_env_float("AICS_REQUEST_TIMEOUT", default.request_timeout),
        idle_timeout=_env_float("AICS_IDLE_TIMEOUT", default.idle_timeout),
        max_body=max_body_bytes(),
        body_budget=_env_int("AICS_BODY_BUDGET_BYTES", max(default.body_budget, 4 * max_body_bytes())),
    )


def _raise_fd_limit() -> int:
    """Lift the soft limit on open files to the hard one; returns what it is now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
    return soft if soft != resource.RLIM_INFINITY else 1 << 20


def _env_int(name: str, default: int) -> int:
    try:
        return max(1, int(os.environ.get(name, default)))
    except ValueError:
        return default


def _env_float(name: str, default: float) -> float:
    try:
        value = float(os.environ.get(name, default))
    except ValueError:
        return default
    return value if value > 0 else default


def make_server(service: Service, host: str = "0.0.0.0", port: int = 8080) -> HttpServer:
    routes = Routes(service, max_parts=_env_int("MAX_PARTS", DEFAULT_MAX_PARTS))
    return HttpServer((host, port), routes, limits_from_env())


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
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    if service.error is not None:
        sys.exit(1)
