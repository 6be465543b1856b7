"""A container's log: follow it live in batches, read older lines, or write the whole log to a file.

The engine sends a non-tty container's log multiplexed (an 8-byte header before each frame says
stdout or stderr) and a tty container's log raw; both arrive as HTTP chunks, one per log line.
Reading the socket with large reads and decoding chunks and frames here keeps up with a
container that writes ~200,000 lines a second, which one read per chunk does not.

A followed log may be quiet for long, and a frozen engine (SIGSTOP, overloaded) is silent too: after
``idle_timeout`` seconds without a line the CancellableStream watchdog pings the engine, and only an
engine that does not answer ends the follow (a LogEnded with ``engine_lost``).
"""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

from gui.engine.client import Engine
from gui.engine.errors import EngineError, is_engine_fault, translate
from gui.engine.state import container_state, ended_message
from gui.engine.streams import (
    CancellableStream,
    answers_or_did_not_start,
    interrupt_connection,
    interrupt_response,
    is_connection,
    open_stream,
    shutdown_response,
)

BATCH_SECONDS = 0.05  # deliver lines at most this often
MAX_BATCH = 50_000  # ... or as soon as this many are waiting
READ_SIZE = 256 * 1024
STDERR = 2
IDLE_TIMEOUT = 10.0  # seconds without a line before a follow asks whether the engine is still there


@dataclass(frozen=True)
class LogBatch:
    """Lines read from the engine since the last batch.

    ``stamps[i]`` is the engine's RFC 3339 timestamp of ``texts[i]`` ("" when not asked for);
    ``stderr`` holds the indexes of lines written to stderr. ``received_at`` is
    ``time.monotonic()`` when the newest line was read from the engine.
    """

    texts: list[str]
    stamps: list[str]
    stderr: frozenset[int] = frozenset()
    received_at: float = 0.0

    def __len__(self) -> int:
        return len(self.texts)


@dataclass(frozen=True)
class LogEnded:
    """The follow ended: ``message`` says why ("container exited (code 0)")."""

    message: str
    state: str = ""  # the container's state then, "" when it is gone (or the engine is)
    exit_code: int | None = None
    extra: dict = field(default_factory=dict, compare=False)
    engine_lost: bool = False  # the engine went away or stopped answering: follow on once it is back


class LineDecoder:
    """Turns the bytes of a log response (chunked, multiplexed or raw) into lines.

    Feed it what the socket gives; it keeps partial chunks, frames and lines between feeds.
    """

    def __init__(self, chunked: bool, multiplexed: bool, timestamps: bool):
        self.chunked = chunked
        self.multiplexed = multiplexed
        self.timestamps = timestamps
        self._raw = b""  # undecoded HTTP chunk data
        self._chunk_left = 0  # payload bytes left in the current HTTP chunk (-1: its CRLF)
        self._body = b""  # de-chunked body not yet split into frames or lines
        self._partial: dict[int, tuple[str, str]] = {}  # stream -> (stamp, text) of an unfinished line
        self.done = False  # the final (empty) chunk arrived

    # -- HTTP chunked transfer encoding --------------------------------------------------
    def _dechunk(self, data: bytes) -> bytes:
        raw = self._raw + data if self._raw else data
        out = []
        pos, end = 0, len(raw)
        left = self._chunk_left
        while pos < end:
            if left > 0:
                take = min(left, end - pos)
                out.append(raw[pos:pos + take])
                pos += take
                left -= take
                if left == 0:
                    left = -1
                continue
            if left < 0:  # the CRLF after a chunk's data
                if end - pos < 2:
                    break
                pos += 2
                left = 0
                continue
            nl = raw.find(b"\r\n", pos)
            if nl < 0:
                break
            head = raw[pos:nl].split(b";", 1)[0]
            try:
                size = int(head, 16)
            except ValueError:  # the engine's answer is wrong, not our code: an engine fault
                raise http.client.HTTPException(f"the engine sent a bad HTTP chunk size {head[:20]!r}") from None
            pos = nl + 2
            if size == 0:
                self.done = True
                pos = end
                break
            left = size
        self._raw = raw[pos:]
        self._chunk_left = left
        return b"".join(out)

    # -- lines ---------------------------------------------------------------------------
    def feed(self, data: bytes, texts: list[str], stamps: list[str], stderr: set[int]) -> None:
        """Decode ``data`` and append every finished line to the three outputs."""
        body = self._dechunk(data) if self.chunked else data
        if self._body:
            body = self._body + body
        if self.multiplexed:
            self._body = self._frames(body, texts, stamps, stderr)
        else:
            cut = body.rfind(b"\n") + 1
            self._body = body[cut:]
            if cut:
                for piece in body[:cut].decode("utf-8", "replace").split("\n")[:-1]:
                    self._line(1, piece + "\n", texts, stamps, stderr)

    def _frames(self, body: bytes, texts, stamps, stderr) -> bytes:
        pos, end = 0, len(body)
        line = self._line
        while end - pos >= 8:
            size = int.from_bytes(body[pos + 4:pos + 8], "big")
            if end - pos - 8 < size:
                break
            kind = body[pos]
            payload = body[pos + 8:pos + 8 + size].decode("utf-8", "replace")
            pos += 8 + size
            if not self.timestamps and kind != STDERR and payload[-1:] == "\n" \
                    and payload.count("\n") == 1 and not self._partial:
                texts.append(payload[:-1].rstrip("\r"))  # the common case, kept fast
                stamps.append("")
                continue
            for piece in payload.splitlines(keepends=True):
                line(kind, piece, texts, stamps, stderr)
        return body[pos:]

    def _line(self, kind: int, piece: str, texts, stamps, stderr) -> None:
        stamp = ""
        if self.timestamps:
            stamp, _, piece = piece.partition(" ")
        held = self._partial.pop(kind, None)
        if held is not None:
            stamp, piece = held[0], held[1] + piece
        if not piece.endswith("\n"):
            self._partial[kind] = (stamp, piece)
            return
        if kind == STDERR:
            stderr.add(len(texts))
        texts.append(piece.rstrip("\r\n"))
        stamps.append(stamp)

    def flush(self, texts: list[str], stamps: list[str], stderr: set[int]) -> None:
        """Emit what is left (the stream ended without a final newline)."""
        if not self.multiplexed and self._body:
            self._line(1, self._body.decode("utf-8", "replace"), texts, stamps, stderr)
            self._body = b""
        for kind, (stamp, text) in sorted(self._partial.items()):
            if kind == STDERR:
                stderr.add(len(texts))
            texts.append(text.rstrip("\r\n"))
            stamps.append(stamp)
        self._partial.clear()


def _params(follow: bool, timestamps: bool, tail: int | str, since: str | None, until: str | None) -> dict:
    params = {"stdout": 1, "stderr": 1, "follow": int(follow), "timestamps": int(timestamps),
              "tail": "all" if tail in ("all", None) or (isinstance(tail, int) and tail < 0) else str(tail)}
    if since:
        params["since"] = since
    if until:
        params["until"] = until
    return params


def _is_tty(engine: Engine, container_id: str) -> bool:
    info = engine.call(lambda api: api.inspect_container(container_id))
    return bool((info.get("Config") or {}).get("Tty"))


def stamp_to_since(stamp: str) -> str:
    """An RFC 3339 timestamp from the engine as the `since`/`until` value the API accepts."""
    from datetime import datetime, timezone

    head, _, frac = stamp.rstrip("Z").partition(".")
    dt = datetime.strptime(head[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    nanos = (frac + "000000000")[:9]
    return f"{int(dt.timestamp())}.{nanos}"


class LogReader(CancellableStream):
    """Iterate for LogBatch items of one log request; ``close()`` from any thread ends it at once."""

    PATH = "/containers/{0}/logs"  # a service's merged log: gui/engine/services.py

    def __init__(self, engine: Engine, container_id: str, *, follow: bool, timestamps: bool = True,
                 tail: int | str = "all", since: str | None = None, until: str | None = None,
                 tty: bool | None = None):
        super().__init__()
        self.engine = engine
        self.container_id = container_id
        self.follow = follow
        self.timestamps = timestamps
        self.tail = tail
        self.since = since
        self.until = until
        self.tty = tty
        self.ended_cleanly = False  # the engine ended the response (not close(), not an error)

    def _cut(self, held) -> None:
        if is_connection(held):  # the engine has not answered yet
            interrupt_connection(held)
            return
        api, res = held
        if not interrupt_response(res):  # no socket to shut down: close it under the reader
            shutdown_response(api, res)

    def params(self) -> dict:
        return _params(self.follow, self.timestamps, self.tail, self.since, self.until)

    def __iter__(self) -> Iterator[LogBatch]:
        tty = self.tty if self.tty is not None else _is_tty(self.engine, self.container_id)
        try:
            api, res, read, chunked = open_stream(self.engine, self.PATH, self.container_id, self.params(),
                                                  holder=self)
        except EngineError:
            if self.closed:  # closed while the engine had not answered (frozen?)
                return
            raise
        if not self._hold((api, res)):
            shutdown_response(api, res)
            return
        decoder = LineDecoder(chunked, multiplexed=not tty, timestamps=self.timestamps)
        reader_done = threading.Event()
        try:
            yield from self._batches(read, decoder, reader_done)
        finally:
            self._let_go()
            interrupt_response(res)
            # Close only once the reading thread let go of the response (see interrupt_response).
            if reader_done.wait(5.0):
                shutdown_response(api, res)

    def _batches(self, read, decoder: LineDecoder, reader_done: threading.Event) -> Iterator[LogBatch]:
        """Read on a helper thread; hand over what arrived at most every BATCH_SECONDS."""
        cond = threading.Condition()
        box: dict = {"texts": [], "stamps": [], "stderr": set(), "at": 0.0, "end": False, "error": None}

        def pump() -> None:
            try:
                while not self.closed and not decoder.done:
                    data = read(READ_SIZE)
                    if not data:
                        break
                    with cond:
                        n = len(box["texts"])
                        decoder.feed(data, box["texts"], box["stamps"], box["stderr"])
                        if len(box["texts"]) != n:
                            box["at"] = time.monotonic()
                            cond.notify()
                with cond:
                    decoder.flush(box["texts"], box["stamps"], box["stderr"])
                    box["at"] = time.monotonic()
            except Exception as exc:
                if not self.closed:
                    box["error"] = exc
            finally:
                with cond:
                    box["end"] = True
                    cond.notify()
                reader_done.set()

        reader = threading.Thread(target=pump, name=f"log-read-{self.container_id[:12]}", daemon=True)
        reader.start()
        last = 0.0
        while True:
            with cond:
                while not box["texts"] and not box["end"] and not self.closed:
                    cond.wait(0.5)
                # Hold back a little so lines arrive in few, larger batches.
                while (not box["end"] and not self.closed and len(box["texts"]) < MAX_BATCH
                       and (wait := last + BATCH_SECONDS - time.monotonic()) > 0):
                    cond.wait(wait)
                if self.closed:
                    return
                texts, stamps, stderr, at = box["texts"], box["stamps"], box["stderr"], box["at"]
                box["texts"], box["stamps"], box["stderr"] = [], [], set()
                end, error = box["end"], box["error"]
            if texts:
                last = time.monotonic()
                yield LogBatch(texts, stamps, frozenset(stderr), at)
            if end:
                reader.join(1.0)
                if error is not None:
                    if not is_engine_fault(error):  # a bug: to the crash reporter, not "the engine failed"
                        raise error
                    raise translate(error, self.engine.url)
                self.ended_cleanly = True
                return


def _subset(batch: LogBatch, keep: list[int]) -> LogBatch:
    """The lines of ``batch`` at the indexes ``keep`` (ascending)."""
    where = {old: new for new, old in enumerate(keep)}
    return LogBatch([batch.texts[i] for i in keep], [batch.stamps[i] for i in keep],
                    frozenset(where[i] for i in batch.stderr if i in where), batch.received_at)


class LogFollower(CancellableStream):
    """Follow a container's log: the last ``tail`` lines, then new ones as they come.

    Yields LogBatch items, and a final LogEnded when the container stops, is removed, or the
    engine goes away or stops answering (``engine_lost``: never an exception). A response the engine ends while the container still runs is reopened
    from the last line's timestamp. ``close()`` from any thread ends the iteration at once.
    With ``after_stamp`` (the timestamp of the last line already shown) it starts right after that
    line instead of with the tail: a view resumes a container that was started again.
    """

    def __init__(self, engine: Engine, container_id: str, tail: int | str = 1000, timestamps: bool = True,
                 after_stamp: str = "", idle_timeout: float = IDLE_TIMEOUT):
        super().__init__()
        self.engine = engine
        self.container_id = container_id
        self.tail = tail
        self.timestamps = timestamps
        self.after_stamp = after_stamp
        self.idle_timeout = idle_timeout

    def _stall(self) -> LogEnded:
        return LogEnded(f"Docker Engine at {self.engine.url} stopped answering: no log line for {self.idle_timeout:g} s "
                        "and the engine did not answer a ping (frozen or overloaded?).", engine_lost=True)

    def __iter__(self) -> Iterator[LogBatch | LogEnded]:
        self._watch(self.engine, self.idle_timeout, f"log-watchdog-{self.container_id[:12]}")
        try:
            yield from self._follow()
        finally:
            self._end_watch()

    def _follow(self) -> Iterator[LogBatch | LogEnded]:
        since: str | None = stamp_to_since(self.after_stamp) if self.after_stamp else None
        last_stamp = self.after_stamp
        tail: int | str = "all" if self.after_stamp else self.tail
        reopened = 0
        try:
            answers_or_did_not_start(self.engine, "following the log")  # the call below would wait 15 s
            tty = _is_tty(self.engine, self.container_id)
        except EngineError as exc:
            if not self.closed:
                yield LogEnded(str(exc) if exc.kind != "not_found" else "container was removed",
                               engine_lost=exc.connection_lost)
            return
        while not self.closed:
            reader = LogReader(self.engine, self.container_id, follow=True, timestamps=True, tail=tail,
                               since=since, tty=tty)
            if not self._hold(reader):  # the reader is what close() (and the watchdog) closes
                if self.stalled and not self.closed:
                    yield self._stall()
                return
            try:
                for batch in reader:
                    self._heard()
                    if since and last_stamp:  # reopened: drop lines already delivered
                        keep = [i for i, s in enumerate(batch.stamps) if s > last_stamp]
                        if len(keep) != len(batch):
                            batch = _subset(batch, keep)
                    if batch.stamps:
                        last_stamp = batch.stamps[-1] or last_stamp
                    if not self.timestamps:
                        batch = LogBatch(batch.texts, [""] * len(batch), batch.stderr, batch.received_at)
                    if batch.texts:
                        yield batch
            except EngineError as exc:
                if self.closed:
                    return
                yield self._stall() if self.stalled else self._why(exc)
                return
            if self.closed:
                return
            if self.stalled:
                yield self._stall()
                return
            try:
                state, code = container_state(self.engine, self.container_id)
            except EngineError as exc:  # the stream ended because the engine went away (killed)
                yield LogEnded(str(exc), engine_lost=exc.connection_lost)
                return
            if state in ("running", "paused") and reopened < 5:
                # The engine ended a stream of a live container (docker-py #931 and friends).
                reopened += 1
                since = stamp_to_since(last_stamp) if last_stamp else str(int(time.time()))
                tail = "all"
                time.sleep(0.2 * reopened)
                continue
            yield LogEnded(ended_message(state, code, self.engine.url), state, code)
            return

    def _why(self, error: EngineError) -> LogEnded:
        try:
            state, code = container_state(self.engine, self.container_id)
        except EngineError as exc:
            return LogEnded(str(exc), engine_lost=exc.connection_lost)
        if state in ("running", "paused"):
            return LogEnded(str(error), engine_lost=error.connection_lost)
        return LogEnded(ended_message(state, code, self.engine.url))


def older_lines(engine: Engine, container_id: str, before_stamp: str, count: int,
                known_after: int, tty: bool | None = None) -> LogBatch:
    """Up to ``count`` lines written before ``before_stamp`` (the oldest line the caller holds).

    The engine applies ``tail`` before ``until``, so ask for the ``known_after`` lines the caller
    already has (from ``before_stamp`` on) plus ``count``, and keep the older ones.
    """
    texts: list[str] = []
    stamps: list[str] = []
    stderr: set[int] = set()
    reader = LogReader(engine, container_id, follow=False, timestamps=True, tail=known_after + count, tty=tty)
    for batch in reader:
        base = len(texts)
        texts.extend(batch.texts)
        stamps.extend(batch.stamps)
        stderr.update(base + i for i in batch.stderr)
    keep = [i for i, s in enumerate(stamps) if s < before_stamp][-count:]
    return _subset(LogBatch(texts, stamps, frozenset(stderr), time.monotonic()), keep)


def write_log(engine: Engine, container_id: str, out: IO[str], timestamps: bool = False,
              reader_box: list | None = None) -> int:
    """Read the container's whole log from the engine and write it to ``out``; returns the line count.

    ``reader_box``, when given, receives the LogReader so another thread can ``close()`` it.
    """
    reader = LogReader(engine, container_id, follow=False, timestamps=timestamps, tail="all")
    if reader_box is not None:
        reader_box.append(reader)
    n = 0
    for batch in reader:
        if timestamps:
            out.write("".join(f"{s} {t}\n" for s, t in zip(batch.stamps, batch.texts, strict=True)))
        else:
            out.write("\n".join(batch.texts))
            out.write("\n")
        n += len(batch)
    if reader.closed:
        raise EngineError("Saving the log was cancelled.", "api")
    return n
