"""Run a command in a running container (`docker exec`), streaming its output, then its exit code.

A command may be quiet for long, and a frozen engine (SIGSTOP, overloaded) is silent too: after
``idle_timeout`` seconds without output the CancellableStream watchdog pings the engine, and only an
engine that does not answer ends the run (EngineError of kind TIMEOUT, never a wait for ever).
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from gui.engine.client import Engine
from gui.engine.errors import EngineError, ErrorKind, is_engine_fault, translate
from gui.engine.streams import CancellableStream, answers_or_did_not_start, post_stream, shutdown_response

NOT_EXECUTABLE, NOT_FOUND = 126, 127
IDLE_TIMEOUT = 10.0  # seconds without output before the run asks whether the engine is still there


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


class ExecRun(CancellableStream):
    """Iterate for ExecOutput pieces as the command writes them, then one ExecExit.

    Raises EngineError when the command cannot start ("container ... is not running").
    ``close()`` from any thread stops reading (the engine has no way to kill an exec'd process).

    Not docker-py's ``exec_start(stream=True)``: it reads the raw socket under the response, after a
    poll. Bytes the response's buffer took in with the headers are lost that way (docker-py #3332),
    and over TLS the poll does not see bytes already decrypted, so output waits for the next
    output (tests/unit/test_engine_stream_contract.py shows it). The frames are read here through
    the response's own buffer.
    """

    def __init__(self, engine: Engine, container_id: str, argv: Sequence[str], workdir: str | None = None,
                 user: str = "", environment: dict[str, str] | None = None, idle_timeout: float = IDLE_TIMEOUT):
        if not argv:
            raise EngineError("Enter a command to run.", "bad_request")
        super().__init__()
        self.engine = engine
        self.container_id = container_id
        self.argv = list(argv)
        self.workdir = workdir
        self.user = user
        self.environment = environment
        self.idle_timeout = idle_timeout

    def _stall_error(self) -> EngineError:
        return EngineError(
            f"Docker Engine at {self.engine.url} stopped answering: the command printed nothing for "
            f"{self.idle_timeout:g} s and the engine did not answer a ping (frozen or overloaded?). "
            "The command may still run in the container.", ErrorKind.TIMEOUT)

    def _create(self) -> str:
        # engine.call would wait 15 s on a frozen engine; any other failure: the create says it in its own words
        answers_or_did_not_start(self.engine, "the command", raise_others=False)
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
        self._watch(self.engine, self.idle_timeout, f"exec-watchdog-{self.container_id[:12]}")
        try:
            yield from self._run(exec_id)
        finally:
            self._end_watch()

    def _run(self, exec_id: str) -> Iterator[ExecOutput | ExecExit]:
        api = res = None
        try:
            api = self.engine.stream_api()
            self._hold_connections_of(api)  # an engine frozen before it answered: the watchdog cuts the request
            res = post_stream(api, "/exec/{0}/start", exec_id, {"Tty": False, "Detach": False})
        except Exception as exc:  # whatever a cut (close() or the watchdog) made the request raise, first
            shutdown_response(api, res)
            if self.closed:
                return
            if self.stalled:
                raise self._stall_error() from None
            if not is_engine_fault(exc):  # a bug: to the crash reporter, not "the engine failed"
                raise
            raise translate(exc, self.engine.url) from None
        tail = ""

        def read(n: int) -> bytes:
            data = res.raw.read1(n)
            self._heard()
            return data

        try:
            if not self._hold(res):
                if self.stalled and not self.closed:
                    raise self._stall_error()
                return
            # A character may be split between two frames: decode each stream incrementally.
            decoders = {1: _decoder(), 2: _decoder()}
            for kind, data in _frames(read):
                if self.closed:
                    return
                stderr = kind == 2
                text = decoders[2 if stderr else 1].decode(data)
                if text:
                    tail = (tail + text)[-2000:]
                    yield ExecOutput(text, stderr=stderr)
            for kind, decoder in decoders.items():
                text = decoder.decode(b"", final=True)
                if text:
                    tail = (tail + text)[-2000:]
                    yield ExecOutput(text, stderr=kind == 2)
        except Exception as exc:
            if self.closed:
                return
            if self.stalled:
                raise self._stall_error() from None
            if not is_engine_fault(exc):
                raise
            raise translate(exc, self.engine.url) from None
        finally:
            self._let_go()
            shutdown_response(api, res)
        if self.closed:
            return
        if self.stalled:  # the cut ended the output like an exit would
            raise self._stall_error()
        code = self.engine.call(lambda a: a.exec_inspect(exec_id)).get("ExitCode")
        yield ExecExit(code, exit_message(code, self.argv, tail))


def _decoder():
    return codecs.getincrementaldecoder("utf-8")("replace")


def _frames(read) -> Iterator[tuple[int, bytes]]:
    """(stream, data) of each frame of a multiplexed exec response (an 8-byte header: stream, size)."""
    buf = b""
    while True:
        data = read(65536)
        if not data:
            break
        buf += data
        while len(buf) >= 8:
            size = int.from_bytes(buf[4:8], "big")
            if len(buf) < 8 + size:
                break
            yield buf[0], buf[8:8 + size]
            buf = buf[8 + size:]
