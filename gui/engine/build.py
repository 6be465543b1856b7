"""Streaming image builds on the classic builder, with a cancel that really stops the engine's work.

`ImageBuild(engine, context_dir, tag=...)` is iterated (in a worker thread) for BuildLine records, one
per line of the build log as the engine sends it. `cancel()` may be called from any other thread: it
closes the HTTP response (docker-py has no cancel), then makes sure no build container keeps running
(moby#32417) and that the tag was not made (or points back where it pointed before).

A frozen engine (SIGSTOP, overloaded) keeps the stream open and silent, and a long RUN step is silent
too: after `idle_timeout` seconds without a line a watchdog pings the engine, and only an engine that
does not answer ends the build (the CancellableStream watchdog). An engine frozen while the context is
sent stops reading it: the upload's socket times out after `upload_timeout` seconds without progress,
and a cancel shuts the request's socket down (docker-py gives no handle on it: watch_connections).
An engine that dies mid-build keeps the step's container (stopped, once it restarts): the build
remembers it, and `remove_leftovers(engine)` removes it once the engine is back.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from gui.engine.client import Engine
from gui.engine.errors import EngineError, ErrorKind, is_engine_fault, translate
from gui.engine.reference import split_reference
from gui.engine.streams import (
    PING_TIMEOUT,
    CancellableStream,
    answers_or_did_not_start,
    close_response,
    interrupt_connection,
    is_connection,
)

_STEP = re.compile(r"^Step (\d+)/(\d+) : (.*)$")
_LAYER = re.compile(r"^ ---> ([0-9a-f]{12,64})$")
_RUNNING = re.compile(r"^ ---> Running in ([0-9a-f]{12,64})$")
CACHE_HIT = " ---> Using cache"
IDLE_TIMEOUT = 60.0  # seconds without a line before the build asks whether the engine is still there
UPLOAD_TIMEOUT = 10.0  # seconds the engine may take no byte of the build context before the build fails

# Build-step containers of builds the engine went away under, by engine URL (see remove_leftovers).
_leftovers: dict[str, set[str]] = {}
_leftovers_lock = threading.Lock()


def _leave(url: str, container_ids) -> None:
    if container_ids:
        with _leftovers_lock:
            _leftovers.setdefault(url, set()).update(container_ids)


def leftover_containers(url: str) -> set[str]:
    """The build-step containers left behind on the engine at ``url``, not removed yet."""
    with _leftovers_lock:
        return set(_leftovers.get(url, ()))


def remove_leftovers(engine: Engine) -> list[str]:
    """Remove the build-step containers that builds left behind when this engine went away under them
    (or a cancel could not confirm the stop); returns the ids removed. Run it once the engine is back:
    an id the engine no longer knows is forgotten, one it could not be asked about is kept for later."""
    removed = []
    for cid in sorted(leftover_containers(engine.url)):
        try:
            engine.call(lambda api, c: api.remove_container(c, force=True), cid)
            removed.append(cid)
        except EngineError as exc:
            if exc.kind != ErrorKind.NOT_FOUND:
                continue
        with _leftovers_lock:
            _leftovers.get(engine.url, set()).discard(cid)
    return removed


@dataclass(frozen=True)
class BuildLine:
    """One line of a build log, with what it tells about the build."""

    text: str
    step: int = 0  # the step this line belongs to (1-based); 0 before the first step
    total: int = 0  # number of steps, once known
    error: bool = False  # the engine reported the build failed with this message
    cached: bool = False  # " ---> Using cache": this step's layer came from the cache
    layer_id: str = ""  # " ---> abc123": the layer this step made (short id)
    container_id: str = ""  # " ---> Running in abc": the container running this step
    image_id: str = ""  # set on the last line of a successful build ("sha256:...")
    cancelled: bool = False  # the last line of a cancelled build
    done: bool = False  # the last line of a successful build


@dataclass(frozen=True)
class BuildStep:
    """What one Dockerfile instruction did."""

    index: int
    total: int
    instruction: str
    cached: bool
    layer_id: str


class BuildError(EngineError):
    """The engine could not build the image; `step` and `instruction` say where (0/"" if unknown)."""

    def __init__(self, message: str, step: int = 0, instruction: str = ""):
        super().__init__(message, "bad_request")
        self.step = step
        self.instruction = instruction


class ImageBuild(CancellableStream):
    """One build of a context folder into `tag`. Iterate it once for BuildLine records.

    A failed build raises BuildError after yielding the error line; a cancelled build ends with a
    line whose `cancelled` is set. `steps` and `image_id` are filled in as the build goes.
    `close()` only ends the stream (the engine then drops the build); `cancel()` also waits until
    it really did."""

    def __init__(
        self,
        engine: Engine,
        context_dir: str | Path,
        tag: str,
        labels: dict[str, str] | None = None,
        buildargs: dict[str, str] | None = None,
        nocache: bool = False,
        dockerfile: str = "Dockerfile",
        idle_timeout: float = IDLE_TIMEOUT,
        upload_timeout: float = UPLOAD_TIMEOUT,
    ):
        super().__init__()
        self.engine = engine
        self.context_dir = str(context_dir)
        self.tag = tag
        self.labels = dict(labels or {})
        self.buildargs = dict(buildargs or {})
        self.nocache = nocache
        self.dockerfile = dockerfile
        self.steps: list[BuildStep] = []
        self.image_id = ""
        self.cancelled = False
        self._containers: list[str] = []
        self._tag_before: str | None = None
        self._started = False
        self.idle_timeout = idle_timeout
        self.upload_timeout = upload_timeout

    # -- cancel -------------------------------------------------------------------------
    def cancel(self, timeout: float = 15.0) -> bool:
        """Stop the build from any thread: best effort, never raises.

        Returns True once no build container of it runs any more, False when that could not be
        confirmed (the engine does not answer: frozen or gone); its build-step containers are then
        remembered for ``remove_leftovers``."""
        self.close()
        if not self._started:
            return True
        try:
            self.engine.ping(timeout=PING_TIMEOUT)  # a frozen engine would hold each call below 15 s
            # ... and one that freezes after the ping: each call below gives up after PING_TIMEOUT
            api = self.engine.short_api(PING_TIMEOUT)
            try:
                if self._reap(api, timeout):
                    return True
            finally:
                api.close()
        except Exception:  # best effort (documented never to raise): anything at all is "not confirmed"
            pass
        _leave(self.engine.url, self._containers)
        return False

    def _reap(self, api, timeout: float) -> bool:
        """Wait for the engine to drop the build's containers (kill them if it does not); undo the tag.
        False when one still runs at the deadline; raises when the engine fails to answer."""
        deadline = time.monotonic() + timeout
        kill_after = time.monotonic() + 2.0
        while True:
            alive = []
            for cid in list(self._containers):
                try:
                    state = api.inspect_container(cid)["State"]
                except Exception as exc:
                    if getattr(exc, "status_code", None) == 404:
                        continue  # gone: the engine removed it
                    raise
                if state.get("Running") and time.monotonic() > kill_after:
                    with contextlib.suppress(Exception):
                        api.remove_container(cid, force=True)
                if state.get("Running"):
                    alive.append(cid)
                else:
                    with contextlib.suppress(Exception):
                        api.remove_container(cid, force=True)
            if not alive or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self._undo_tag(api)
        return not alive

    def _undo_tag(self, api) -> None:
        try:
            now = api.inspect_image(self.tag)["Id"]
        except Exception:  # best effort, part of cancel(), which never raises
            return
        if now == self._tag_before:
            return
        repo, tag = split_reference(self.tag)
        with contextlib.suppress(Exception):
            if self._tag_before:
                api.tag(self._tag_before, repo, tag, force=True)
            else:
                api.remove_image(self.tag)

    # -- the stream ---------------------------------------------------------------------
    def __iter__(self) -> Iterator[BuildLine]:
        return self.lines()

    def lines(self) -> Iterator[BuildLine]:
        if self._started:
            raise RuntimeError("an ImageBuild is iterated only once")
        self._started = True
        # On an engine frozen already, the watchdog would cut the request (watch_connections) only after
        # idle_timeout (60 s) and a ping: a ping first says it in PING_TIMEOUT seconds.
        answers_or_did_not_start(self.engine, "the build")
        try:
            self._tag_before = self.engine.api().inspect_image(self.tag)["Id"]
        except Exception as exc:
            if not is_engine_fault(exc):  # a bug taken for "no image yet": a cancel would remove the tag's image
                raise
            self._tag_before = None
        api = self.engine.stream_api()
        self._watch(self.engine, self.idle_timeout, "image-build-watchdog")
        try:
            yield from self._run(api)
        except EngineError as exc:
            if exc.connection_lost:  # the engine keeps the step's container: remove it once it is back
                _leave(self.engine.url, self._containers)
            raise
        finally:
            self._end_watch()
            response = self._let_go()
            if response is not None:
                with contextlib.suppress(Exception):
                    response.close()
            api.close()

    def _cut(self, held) -> None:
        if is_connection(held):  # the context is still being sent, or the answer has not come
            interrupt_connection(held)
        else:  # docker-py's reader of the build takes a closed response as the end of the stream
            close_response(held)

    def _stall_error(self) -> EngineError:
        return EngineError(
            f"Docker Engine at {self.engine.url} stopped answering: the build printed nothing for "
            f"{self.idle_timeout:g} s and the engine did not answer a ping (frozen or overloaded?).",
            ErrorKind.TIMEOUT,
        )

    def _upload_error(self) -> EngineError:
        return EngineError(
            f"Docker Engine at {self.engine.url} stopped answering while the build context was being sent: "
            f"it took nothing for {self.upload_timeout:g} s (frozen or overloaded?).",
            ErrorKind.TIMEOUT,
        )

    def _run(self, api) -> Iterator[BuildLine]:
        self._hold_connections_of(api)  # docker-py's build() gives no handle on its request
        self._hold_responses_of(api)  # nor on its response
        if self.closed:
            yield self._cancelled_line(0, 0)
            return
        try:
            chunks = api.build(
                path=self.context_dir,
                tag=self.tag,
                dockerfile=self.dockerfile,
                rm=True,
                forcerm=True,
                decode=True,
                nocache=self.nocache,
                labels=self.labels or None,
                buildargs=self.buildargs or None,
                # (connect and send, read): the answer's wait and the stream are the watchdog's.
                timeout=(self.upload_timeout, None),
            )
        except Exception as exc:  # whatever a cut (close() or the watchdog) made docker-py raise, first
            if self.closed:
                yield self._cancelled_line(0, 0)
                return
            if self._stalled:
                raise self._stall_error() from None
            if not is_engine_fault(exc):  # a bug: to the crash reporter, not "the engine failed"
                raise
            error = translate(exc, self.engine.url)
            if error.kind == ErrorKind.TIMEOUT:  # only the upload has a timeout
                raise self._upload_error() from None
            raise error from None
        step = total = 0
        instruction = ""
        pending = ""
        try:
            for chunk in chunks:
                self._heard()
                if "aux" in chunk and isinstance(chunk["aux"], dict) and chunk["aux"].get("ID"):
                    self.image_id = chunk["aux"]["ID"]
                    continue
                if "error" in chunk:
                    message = (chunk.get("errorDetail") or {}).get("message") or chunk["error"]
                    message = str(message).strip()
                    yield BuildLine(text=message, step=step, total=total, error=True)
                    raise BuildError(message, step, instruction)
                text = chunk.get("stream")
                if text is None:
                    text = chunk.get("status")
                    if text is None:
                        continue
                    text += "\n"
                pending += text
                *complete, pending = pending.split("\n")
                for raw in complete:
                    line = raw.rstrip("\r")
                    m = _STEP.match(line)
                    if m:
                        step, total, instruction = int(m.group(1)), int(m.group(2)), m.group(3)
                        self.steps.append(BuildStep(step, total, instruction, False, ""))
                        yield BuildLine(text=line, step=step, total=total)
                        continue
                    yield self._parse(line, step, total)
        except BuildError:
            raise
        except Exception as exc:
            if self.closed:
                yield self._cancelled_line(step, total)
                return
            if self._stalled:
                raise self._stall_error() from None
            if not is_engine_fault(exc):
                raise
            raise translate(exc, self.engine.url) from None
        if pending.strip():
            yield self._parse(pending.rstrip("\r"), step, total)
        if self.closed:
            yield self._cancelled_line(step, total)
            return
        if self._stalled:
            raise self._stall_error()
        if not self.image_id:
            raise BuildError(
                "the build ended without an image (the engine stopped answering?)", step, instruction
            )
        yield BuildLine(
            text=f"Built {self.image_id} as {self.tag}",
            step=step,
            total=total,
            image_id=self.image_id,
            done=True,
        )

    def _parse(self, line: str, step: int, total: int) -> BuildLine:
        if line.startswith(CACHE_HIT):
            self._update_step(cached=True)
            return BuildLine(text=line, step=step, total=total, cached=True)
        m = _RUNNING.match(line)
        if m:
            self._containers.append(m.group(1))
            return BuildLine(text=line, step=step, total=total, container_id=m.group(1))
        m = _LAYER.match(line)
        if m:
            self._update_step(layer_id=m.group(1))
            return BuildLine(text=line, step=step, total=total, layer_id=m.group(1))
        return BuildLine(text=line, step=step, total=total)

    def _update_step(self, **changes) -> None:
        if self.steps:
            last = self.steps[-1]
            self.steps[-1] = BuildStep(
                last.index,
                last.total,
                last.instruction,
                changes.get("cached", last.cached),
                changes.get("layer_id", last.layer_id),
            )

    def _cancelled_line(self, step: int, total: int) -> BuildLine:
        self.cancelled = True
        return BuildLine(text="Build cancelled", step=step, total=total, cancelled=True)
