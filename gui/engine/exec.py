"""Run a command in a running container (`docker exec`), streaming its output, then its exit code."""

from __future__ import annotations

import codecs
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from gui.engine.client import Engine
from gui.engine.errors import EngineError, translate
from gui.engine.streams import CancellableStream, shutdown_response

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


class ExecRun(CancellableStream):
    """Iterate for ExecOutput pieces as the command writes them, then one ExecExit.

    Raises EngineError when the command cannot start ("container ... is not running").
    ``close()`` from any thread stops reading (the engine has no way to kill an exec'd process).
    The output comes from docker-py's ``exec_start(stream=True, demux=True)``.
    """

    def __init__(self, engine: Engine, container_id: str, argv: Sequence[str], workdir: str | None = None,
                 user: str = "", environment: dict[str, str] | None = None):
        if not argv:
            raise EngineError("Enter a command to run.", "bad_request")
        super().__init__()
        self.engine = engine
        self.container_id = container_id
        self.argv = list(argv)
        self.workdir = workdir
        self.user = user
        self.environment = environment

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
        try:
            api = self.engine.stream_api()
        except Exception as exc:
            raise translate(exc, self.engine.url) from None
        self._hold_responses_of(api)  # docker-py's exec stream gives no handle on its response
        tail = ""
        try:
            try:
                frames = api.exec_start(exec_id, stream=True, demux=True)
            except Exception as exc:
                raise translate(exc, self.engine.url) from None
            # A character may be split between two reads: decode each stream incrementally.
            decoders = [codecs.getincrementaldecoder("utf-8")("replace") for _ in range(2)]
            for out, err in frames:
                if self.closed:
                    return
                stderr = out is None
                text = decoders[stderr].decode(err if stderr else out)
                if text:
                    tail = (tail + text)[-2000:]
                    yield ExecOutput(text, stderr=stderr)
            for stderr, decoder in enumerate(decoders):
                text = decoder.decode(b"", final=True)
                if text:
                    tail = (tail + text)[-2000:]
                    yield ExecOutput(text, stderr=bool(stderr))
        except Exception as exc:
            if self.closed:
                return
            raise translate(exc, self.engine.url) from None
        finally:
            shutdown_response(api, self._let_go())
        if self.closed:
            return
        code = self.engine.call(lambda a: a.exec_inspect(exec_id)).get("ExitCode")
        yield ExecExit(code, exit_message(code, self.argv, tail))
