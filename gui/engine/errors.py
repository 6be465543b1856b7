"""One typed error for every engine failure, with a sentence a person understands."""

from __future__ import annotations

import errno
import http.client
import re
import ssl
from enum import Enum

from gui.engine.docker_import import import_docker

import_docker()  # paramiko only when an ssh:// engine is used

import docker.errors  # noqa: E402
import requests.exceptions  # noqa: E402
import urllib3.exceptions  # noqa: E402


class ErrorKind(str, Enum):
    """What went wrong, for code that reacts to it. A str, so ``err.kind == "not_found"`` works too."""

    UNREACHABLE = "unreachable"  # no engine answers at the address (or it went away)
    PERMISSION = "permission"  # the engine's socket refuses this user
    TIMEOUT = "timeout"  # the engine did not answer in time
    NOT_FOUND = "not_found"  # 404: no such container or image (or a missing local file)
    CONFLICT = "conflict"  # 409: the name is taken, the port is used, the container is not running
    BAD_REQUEST = "bad_request"  # 400, or a value checked before any call (a failed build too)
    API = "api"  # any other engine answer or failure
    REGISTRY = "registry"  # the registry failed a pull or push
    CANCELLED = "cancelled"  # the user cancelled (a log-in)
    CREDENTIALS = "credentials"  # the Docker CLI's credential store could not be read or written
    PERMISSION_DENIED = "permission_denied"  # a local file or folder this user may not read or write

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)


class EngineError(Exception):
    """An engine call failed. ``str(err)`` is a message fit for the user; ``kind`` is an ErrorKind."""

    def __init__(self, message: str, kind: ErrorKind | str = ErrorKind.API, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.kind = ErrorKind(kind)
        self.status = status

    @property
    def connection_lost(self) -> bool:
        return self.kind in (ErrorKind.UNREACHABLE, ErrorKind.PERMISSION, ErrorKind.TIMEOUT)


def _socket_path(url: str) -> str:
    for prefix in ("unix://", "http+unix://"):
        if url.startswith(prefix):
            return url[len(prefix):]
    return url


def _chain(exc: BaseException):
    """The exception, its causes and contexts, and any exceptions held in their args."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        todo.extend([e.__cause__, e.__context__])
        todo.extend(a for a in getattr(e, "args", ()) if isinstance(a, BaseException))
        reason = getattr(e, "reason", None)
        if isinstance(reason, BaseException):
            todo.append(reason)


def _errno_of(exc: BaseException) -> int | None:
    for e in _chain(exc):
        if isinstance(e, OSError) and e.errno:
            return e.errno
    text = " ".join(str(e) for e in _chain(exc))
    if re.search(r"Permission denied|Errno 13", text):
        return errno.EACCES
    if re.search(r"Connection refused|Errno 111", text):
        return errno.ECONNREFUSED
    if re.search(r"No such file or directory|Errno 2\b", text):
        return errno.ENOENT
    return None


def connection_reason(exc: BaseException, client_cert: bool = False) -> str:
    """What went wrong in a TLS or SSH connection, in words; "" when it was neither."""
    for e in _chain(exc):
        if isinstance(e, ssl.SSLCertVerificationError):
            return f"the engine's certificate is not trusted ({e.verify_message})"
        if isinstance(e, ssl.SSLError):
            reason = (e.reason or str(e)).lower()
            if "certificate" in reason or "alert" in reason or "unknown ca" in reason:
                return f"the engine refused the client certificate ({e.reason or e})"
            if client_cert and isinstance(e, ssl.SSLEOFError | ssl.SSLZeroReturnError):
                return ("the engine refused the client certificate (it closed the connection during the "
                        "TLS handshake)")
            return f"the TLS handshake failed ({e.reason or e})"
        if type(e).__name__ in ("AuthenticationException", "BadHostKeyException", "SSHException",
                                "NoValidConnectionsError"):
            return f"SSH failed: {e}"
        if isinstance(e, ConnectionResetError):
            return "the engine closed the connection, so it probably needs TLS certificates"
    return ""


def unreachable(url: str) -> EngineError:
    return EngineError(f"Docker Engine is not reachable at {url}: is it running?", ErrorKind.UNREACHABLE)


def went_away(url: str) -> EngineError:
    return EngineError(f"Docker Engine at {url} went away in the middle of an answer: did it stop or crash?",
                       ErrorKind.UNREACHABLE)


def _broke_mid_answer(exc: BaseException) -> bool:
    """The connection broke while an answer was being read: urllib3's "Connection broken:
    IncompleteRead(0 bytes read)" (a ProtocolError; requests' ChunkedEncodingError around it), which
    is what a build or log stream gets when the engine dies under it."""
    for e in _chain(exc):
        if isinstance(e, http.client.IncompleteRead | requests.exceptions.ChunkedEncodingError):
            return True
        if isinstance(e, urllib3.exceptions.ProtocolError) and str(e).startswith("Connection broken"):
            return True
    return False


_ENGINE_FAULTS = (
    EngineError,
    docker.errors.DockerException,  # APIError (the engine's answer), TLSParameterError, InvalidVersion ...
    docker.errors.StreamParseError,  # a RuntimeError: docker-py could not read the engine's JSON stream
    requests.exceptions.RequestException,  # ConnectionError, Timeout, ChunkedEncodingError, JSONDecodeError
    urllib3.exceptions.HTTPError,  # ProtocolError, ReadTimeoutError ... when requests does not wrap them
    http.client.HTTPException,  # IncompleteRead, RemoteDisconnected: a raw socket read (exec, attach)
    OSError,  # the socket, TLS (ssl.SSLError), a timeout, a file the call reads or writes
)


def is_engine_fault(exc: BaseException) -> bool:
    """Whether ``exc`` is what the engine or the way to it can raise: docker-py, requests, urllib3, the
    socket, TLS, SSH (paramiko). ``translate`` puts those in words; anything else raised under an engine
    call (a TypeError, a KeyError) is a bug in our code and must reach the crash reporter unchanged."""
    if isinstance(exc, _ENGINE_FAULTS):
        return True
    # paramiko (ssh:// engines) is imported by docker-py only when used: known by its module, not imported.
    return any(cls.__module__.split(".")[0] == "paramiko" for cls in type(exc).__mro__)


def translate(exc: BaseException, url: str) -> EngineError:
    """Turn an exception from docker-py, requests or the socket into an EngineError (see is_engine_fault)."""
    if isinstance(exc, EngineError):
        return exc
    if isinstance(exc, docker.errors.APIError):
        status = exc.status_code
        text = (exc.explanation or str(exc)).strip()
        if isinstance(text, bytes):
            text = text.decode(errors="replace")
        text = text[:1].upper() + text[1:] if text else f"The engine answered {status}"
        kind = {404: ErrorKind.NOT_FOUND, 409: ErrorKind.CONFLICT, 400: ErrorKind.BAD_REQUEST}.get(status or 0, ErrorKind.API)
        return EngineError(text, kind, status)
    # A socket timeout while a request was sent comes inside ("Connection aborted.", TimeoutError()).
    if any(isinstance(e, requests.exceptions.Timeout | TimeoutError) for e in _chain(exc)):
        return EngineError(f"Docker Engine at {url} did not answer in time.", ErrorKind.TIMEOUT)
    if _broke_mid_answer(exc):
        return went_away(url)
    reason = "" if url.startswith(("unix://", "npipe://")) else connection_reason(exc)
    if reason:
        return EngineError(f"Cannot connect to {url}: {reason}.", ErrorKind.UNREACHABLE)
    code = _errno_of(exc)
    if code in (errno.EACCES, errno.EPERM):
        path = _socket_path(url)
        return EngineError(
            f"permission denied on {path}: add your user to the docker group, "
            "or use rootless Docker or Podman",
            ErrorKind.PERMISSION,
        )
    if code is not None or isinstance(
        exc, requests.exceptions.ConnectionError | ConnectionError | docker.errors.DockerException
    ):
        return unreachable(url)
    return EngineError(f"Docker Engine at {url} failed: {exc}", ErrorKind.API)
