"""Run a command in a running container (`docker exec`), streaming its output, then its exit code."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from gui.engine.client import Engine
from gui.engine.errors import EngineError, translate
from gui.engine.streams import interrupt_response, shutdown_response

NOT_EXECUTABLE, NOT_FOUND = 126, 127


@dataclass(frozen=True)
class ExecOutput:
    text: str
    stderr: bool = False


@dataclass(frozen=True)
class ExecExit:
    code: int | None
    message: str  # "exit code 0", "command not found: foo (exit 127)"


def exit_message(code: int | None, argv: Sequence[str], output: str = "") -> str:
    """What the exit code means for the user; ``output`` is the command's output (or its tail)."""
    name = argv[0] if argv else ""
    if code == NOT_EXECUTABLE and ("executable file not found" in output or "no such file" in output.lower()):
        return f"command not found: {name} (exit 126)"
    if code is None:
        return "the command's exit code is unknown (it may still be running)"
    if code == NOT_FOUND:
        return f"command not found: {name} (exit 127)"
    if code == NOT_EXECUTABLE:
        return f"command not found or not executable: {name} (exit 126)"
    return f"exit code {code}"


def _frames(read, tty: bool) -> Iterator[tuple[int, bytes]]:
    """(stream, data) pieces of an attached exec socket (multiplexed unless tty)."""
    buf = b""
    while True:
        data = read(65536)
        if not data:
            break
        if tty:
            yield 1, data
            continue
        buf += data
        while len(buf) >= 8:
            size = int.from_bytes(buf[4:8], "big")
            if len(buf) < 8 + size:
                break
            yield buf[0], buf[8:8 + size]
            buf = buf[8 + size:]


class ExecRun:
    """Iterate for ExecOutput pieces as the command writes them, then one ExecExit.

    Raises EngineError when the command cannot start ("container ... is not running").
    ``close()`` from any thread stops reading (the engine has no way to kill an exec'd process).
    """

    def __init__(self, engine: Engine, container_id: str, argv: Sequence[str], workdir: str | None = None,
                 user: str = "", environment: dict[str, str] | None = None):
        if not argv:
            raise EngineError("Enter a command to run.", "bad_request")
        self.engine = engine
        self.container_id = container_id
        self.argv = list(argv)
        self.workdir = workdir
        self.user = user
        self.environment = environment
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._res = None

    def close(self) -> None:
        self._closed.set()
        with self._lock:
            res = self._res
        if res is not None:
            interrupt_response(res)

    def _create(self) -> str:
        try:
            made = self.engine.call(lambda api: api.exec_create(
                self.container_id, self.argv, stdout=True, stderr=True, tty=False,
                workdir=self.workdir or None, user=self.user, environment=self.environment))
        except EngineError as exc:
            text = str(exc)
            if exc.kind == "not_found":
                raise EngineError("The container no longer exists.", "not_found", 404) from None
            if exc.kind == "conflict" and ("not running" in text or "paused" in text):
                why = "is paused" if "paused" in text else "is not running"
                raise EngineError(f"The container {why}: start it to run a command in it.", "conflict",
                                  409) from None
            raise
        return made["Id"]

    def __iter__(self) -> Iterator[ExecOutput | ExecExit]:
        exec_id = self._create()
        api = self.engine.stream_api()
        res = None
        try:
            res = api._post_json(api._url("/exec/{0}/start", exec_id), data={"Tty": False, "Detach": False},
                                 stream=True)
            api._raise_for_status(res)
        except Exception as exc:
            shutdown_response(api, res)
            raise translate(exc, self.engine.url) from None
        with self._lock:
            self._res = res
        tail = ""
        try:
            if self._closed.is_set():
                return
            for kind, data in _frames(res.raw.read1, tty=False):
                if self._closed.is_set():
                    return
                text = data.decode("utf-8", "replace")
                tail = (tail + text)[-2000:]
                yield ExecOutput(text, stderr=kind == 2)
        except Exception as exc:
            if self._closed.is_set():
                return
            raise translate(exc, self.engine.url) from None
        finally:
            with self._lock:
                self._res = None
            shutdown_response(api, res)
        if self._closed.is_set():
            return
        code = self.engine.call(lambda a: a.exec_inspect(exec_id)).get("ExitCode")
        yield ExecExit(code, exit_message(code, self.argv, tail))
