"""The engine streams (build, exec, stats, pull/push, events, logs) put an engine or transport failure in
words (EngineError, or the stream's own failure item) but let a bug of our own code (a TypeError) out
unchanged, as ``Engine.call`` does: a bug must reach the crash reporter, not read "the engine failed".

No engine: a fake stands in for docker-py's APIClient, and its methods raise what a test gives them.
"""

from __future__ import annotations

from types import SimpleNamespace

import docker.errors
import pytest
import requests

from gui.engine import Engine, EngineError, resolve_engine
from gui.engine.build import ImageBuild
from gui.engine.credentials import Credentials
from gui.engine.events import EventFollower
from gui.engine.exec import ExecOutput, ExecRun
from gui.engine.logs import LogBatch, LogEnded, LogFollower
from gui.engine.registry import Transfer
from gui.engine.stats import StatsEnded, StatsFollower, StatsSample


def api_error(status: int, explanation: str) -> docker.errors.APIError:
    resp = requests.Response()
    resp.status_code = status
    return docker.errors.APIError(f"{status} Server Error", response=resp, explanation=explanation)


def refused() -> requests.exceptions.ConnectionError:
    return requests.exceptions.ConnectionError(ConnectionRefusedError(111, "Connection refused"))


def bug() -> TypeError:
    return TypeError("can only concatenate str (not \"int\") to str")  # a slip in our own code


def raising(exc: BaseException):
    def fn(*args, **kwargs):
        raise exc

    return fn


def chunks_then(items, exc: BaseException):
    """What docker-py's decoded stream does when the connection or our code fails after ``items``."""
    yield from items
    raise exc


class FakeRaw:
    def __init__(self, pieces, exc: BaseException | None):
        self._pieces = list(pieces)
        self._exc = exc

    def read1(self, n: int) -> bytes:
        if self._pieces:
            return self._pieces.pop(0)
        if self._exc is not None:
            raise self._exc
        return b""


class FakeResponse:
    def __init__(self, pieces=(), exc: BaseException | None = None, chunked: bool = False):
        self.raw = FakeRaw(pieces, exc)
        if chunked:  # the fast log reader reads the connection itself, HTTP chunks and all
            self.raw._fp = SimpleNamespace(chunked=True, fp=FakeRaw(pieces, exc))

    def close(self) -> None:
        pass


class FakeAPI:
    """The part of docker.APIClient the streams use; set attributes to make a call raise or answer."""

    def __init__(self, **methods):
        self.hooks = {"response": []}
        self.adapters = {}  # watch_connections wraps none: there is no connection to cut
        self.api_version = "1.41"
        for name, fn in methods.items():
            setattr(self, name, fn)

    def _url(self, path: str, *args) -> str:
        return path.format(*args)

    def _raise_for_status(self, res) -> None:
        pass

    def inspect_image(self, ref):
        raise api_error(404, f"No such image: {ref}")

    def inspect_container(self, cid):
        return {"Id": cid, "Config": {"Tty": False}, "State": {"Status": "running"}}

    def close(self) -> None:
        pass


class FakeEngine(Engine):
    """An Engine whose clients are one FakeAPI, and which answers every ping."""

    def __init__(self, api: FakeAPI):
        super().__init__(resolve_engine("unix:///nonexistent/aics-fake.sock"))
        self._version = "1.41"
        self.fake = api

    def api(self):
        return self.fake

    def stream_api(self):
        return self.fake

    def ping(self, timeout=None) -> bool:
        return True

    def close(self) -> None:
        pass


URL = "unix:///nonexistent/aics-fake.sock"


# -- build ----------------------------------------------------------------------------------------
def _build(tmp_path, build) -> list:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    return list(ImageBuild(FakeEngine(FakeAPI(build=build)), tmp_path, tag="aics-test/fake:1"))


def test_build_puts_engine_faults_in_words_and_lets_bugs_out(tmp_path):
    with pytest.raises(EngineError) as info:  # the request that starts the build
        _build(tmp_path, raising(api_error(500, "dockerfile parse error")))
    assert info.value.kind == "api" and info.value.status == 500 and str(info.value) == "Dockerfile parse error"
    with pytest.raises(EngineError) as info:  # the engine went away in the middle of the build
        _build(tmp_path, lambda **kw: chunks_then([{"stream": "Step 1/1 : FROM scratch\n"}], refused()))
    assert info.value.kind == "unreachable" and URL in str(info.value)

    with pytest.raises(TypeError):
        _build(tmp_path, raising(bug()))
    with pytest.raises(TypeError):
        _build(tmp_path, lambda **kw: chunks_then([{"stream": "Step 1/1 : FROM scratch\n"}], bug()))


def test_build_lets_a_bug_out_of_reading_the_previous_tag(tmp_path):
    """The tag's image before the build (to put it back on cancel) may be missing (404: no image yet);
    a bug reading it must not be taken for "no image" (a cancel would then remove the tag's image)."""
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    api = FakeAPI(build=lambda **kw: iter([{"aux": {"ID": "sha256:" + "a" * 64}}]))
    assert list(ImageBuild(FakeEngine(api), tmp_path, tag="aics-test/fake:1"))[-1].done
    api.inspect_image = raising(bug())
    with pytest.raises(TypeError):
        list(ImageBuild(FakeEngine(api), tmp_path, tag="aics-test/fake:1"))


# -- exec ---------------------------------------------------------------------------------------------
def _exec(post) -> list:
    api = FakeAPI(exec_create=lambda *a, **kw: {"Id": "e1"}, _post_json=post,
                  exec_inspect=lambda exec_id: {"ExitCode": 0})
    return list(ExecRun(FakeEngine(api), "c1", ["sh"]))


def test_exec_puts_engine_faults_in_words_and_lets_bugs_out():
    with pytest.raises(EngineError) as info:  # the request that starts the command
        _exec(raising(api_error(409, "container c1 is not running")))
    assert info.value.kind == "conflict" and info.value.status == 409
    frame = b"\x01\x00\x00\x00\x00\x00\x00\x03hi\n"
    with pytest.raises(EngineError) as info:  # the engine went away while the command wrote
        _exec(lambda *a, **kw: FakeResponse([frame], refused()))
    assert info.value.kind == "unreachable"
    assert _exec(lambda *a, **kw: FakeResponse([frame]))[0] == ExecOutput("hi\n")

    with pytest.raises(TypeError):
        _exec(raising(bug()))
    with pytest.raises(TypeError):
        _exec(lambda *a, **kw: FakeResponse([frame], bug()))


# -- stats --------------------------------------------------------------------------------------------
def _stats(get) -> list:
    return list(StatsFollower(FakeEngine(FakeAPI(_get=get)), "c1"))


def test_stats_end_with_a_failure_item_on_engine_faults_and_let_bugs_out():
    sample = (b'{"read": "2024-01-01T00:00:00.5Z", "cpu_stats": {"system_cpu_usage": 5}, '
              b'"memory_stats": {"usage": 10}}\n')
    items = _stats(lambda *a, **kw: FakeResponse([sample], refused()))
    assert isinstance(items[0], StatsSample) and len(items) == 2
    assert isinstance(items[-1], StatsEnded) and items[-1].engine_lost and URL in items[-1].message
    [ended] = _stats(raising(api_error(500, "cannot get stats")))  # the request that opens the stream
    assert ended == StatsEnded("Cannot get stats", engine_lost=False)
    [ended] = _stats(lambda *a, **kw: FakeResponse([b"{not json\n"]))  # the engine's answer is not JSON
    assert isinstance(ended, StatsEnded) and not ended.engine_lost and URL in ended.message

    with pytest.raises(TypeError):
        _stats(raising(bug()))
    with pytest.raises(TypeError):
        _stats(lambda *a, **kw: FakeResponse([sample], bug()))


# -- pull and push ------------------------------------------------------------------------------------
def _pull(pull, engine: Engine | None = None) -> list:
    engine = engine or FakeEngine(FakeAPI(pull=pull))
    return list(Transfer(engine, "pull", "registry.example.com/team/model:1",
                         login=Credentials("registry.example.com", "u", "p")))


def test_transfers_put_engine_faults_in_words_and_let_bugs_out():
    with pytest.raises(EngineError) as info:
        _pull(raising(api_error(404, "manifest unknown")))
    assert info.value.kind == "not_found" and info.value.message.startswith("Not found at registry.example.com")
    with pytest.raises(EngineError) as info:  # the engine went away in the middle of the pull
        _pull(lambda *a, **kw: chunks_then([{"status": "Pulling from team/model"}], refused()))
    assert info.value.kind == "unreachable"

    with pytest.raises(TypeError):
        _pull(raising(bug()))
    with pytest.raises(TypeError):
        _pull(lambda *a, **kw: chunks_then([{"status": "Pulling from team/model"}], bug()))

    class NoClient(FakeEngine):
        def stream_api(self):
            raise self.error

    engine = NoClient(FakeAPI())
    engine.error = refused()
    with pytest.raises(EngineError) as info:
        _pull(None, engine)
    assert info.value.kind == "unreachable"
    engine.error = bug()
    with pytest.raises(TypeError):
        _pull(None, engine)


# -- events -------------------------------------------------------------------------------------------
def test_events_say_a_drop_in_words_and_let_bugs_out():
    follower = EventFollower(FakeEngine(FakeAPI(events=raising(refused()))))
    try:
        dropped = next(iter(follower))
    finally:
        follower.close()
    assert (dropped.type, dropped.action) == ("connection", "disconnected") and URL in dropped.message

    follower = EventFollower(FakeEngine(FakeAPI(events=raising(bug()))))
    try:
        with pytest.raises(TypeError):
            next(iter(follower))
    finally:
        follower.close()
    follower = EventFollower(FakeEngine(FakeAPI(events=lambda **kw: chunks_then([], bug()))))
    try:
        stream = iter(follower)
        assert next(stream).action == "connected"
        with pytest.raises(TypeError):
            next(stream)
    finally:
        follower.close()


# -- logs ---------------------------------------------------------------------------------------------
def _log(get) -> list:
    return list(LogFollower(FakeEngine(FakeAPI(_get=get)), "c1"))


def test_a_followed_log_ends_with_log_ended_on_engine_faults_and_lets_bugs_out():
    line = b"2024-01-01T00:00:00.000000000Z hi\n"
    frame = b"\x01\x00\x00\x00" + len(line).to_bytes(4, "big") + line
    items = _log(lambda *a, **kw: FakeResponse([frame], refused()))
    assert isinstance(items[0], LogBatch) and items[0].texts == ["hi"]
    assert isinstance(items[-1], LogEnded) and items[-1].engine_lost and URL in items[-1].message
    [ended] = _log(lambda *a, **kw: FakeResponse([b"zz\r\n"], chunked=True))  # not HTTP: the engine's fault
    assert isinstance(ended, LogEnded) and not ended.engine_lost and "bad HTTP chunk size" in ended.message

    with pytest.raises(TypeError):
        _log(raising(bug()))
    with pytest.raises(TypeError):
        _log(lambda *a, **kw: FakeResponse([frame], bug()))
