"""Live resource use of one container (`docker stats`) as StatsSample records.

CPU % is computed the way the Docker CLI does; memory excludes the page cache like the CLI.
The engine keeps streaming zeroed samples after the container stops (docker-py #3291), so the
follower checks the container's state then and ends with a StatsEnded. It sends a sample a second, so
a stream silent for ``idle_timeout`` seconds has the watchdog ping the engine: a frozen engine (SIGSTOP,
overloaded) ends the follow with ``engine_lost`` instead of a view that waits for ever.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone

from gui.engine.client import Engine
from gui.engine.errors import EngineError, is_engine_fault, translate
from gui.engine.state import container_state, ended_message
from gui.engine.streams import CancellableStream, open_stream, shutdown_response

ZERO_TIME = "0001-01-01T00:00:00Z"
IDLE_TIMEOUT = 5.0  # seconds without a sample before the follower asks whether the engine is still there


@dataclass(frozen=True)
class StatsSample:
    time: float  # the engine's read time, seconds since the epoch
    cpu_percent: float  # 100 = one CPU busy (like `docker stats`)
    memory_usage: int  # bytes, without the page cache
    memory_limit: int
    net_rx: int  # bytes received so far, all interfaces
    net_tx: int
    net_rx_rate: float  # bytes a second since the previous sample (0 for the first)
    net_tx_rate: float
    online_cpus: int = 1


@dataclass(frozen=True)
class StatsEnded:
    message: str  # "container exited (code 0)"
    state: str = ""
    exit_code: int | None = None
    engine_lost: bool = False  # the engine went away or stopped answering: follow on once it is back


def parse_time(stamp: str) -> float:
    if not stamp or stamp.startswith("0001-01-01"):
        return 0.0
    head, _, frac = stamp.rstrip("Z").partition(".")
    frac = frac.split("+", 1)[0].split("-", 1)[0]
    dt = datetime.strptime(head[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    return dt.timestamp() + (float("0." + frac) if frac else 0.0)


def cpu_percent(raw: dict) -> float:
    """cpu_delta / system_delta * online_cpus * 100, as the Docker CLI computes it."""
    cpu, pre = raw.get("cpu_stats") or {}, raw.get("precpu_stats") or {}
    usage = (cpu.get("cpu_usage") or {}).get("total_usage") or 0
    pre_usage = (pre.get("cpu_usage") or {}).get("total_usage") or 0
    system, pre_system = cpu.get("system_cpu_usage") or 0, pre.get("system_cpu_usage") or 0
    cpus = cpu.get("online_cpus") or len((cpu.get("cpu_usage") or {}).get("percpu_usage") or []) or 1
    cpu_delta, system_delta = usage - pre_usage, system - pre_system
    if cpu_delta > 0 and system_delta > 0:
        return cpu_delta / system_delta * cpus * 100.0
    return 0.0


def memory_usage(raw: dict) -> int:
    """Usage minus inactive file cache (cgroup v1 total_inactive_file, v2 inactive_file), like the CLI."""
    mem = raw.get("memory_stats") or {}
    usage = int(mem.get("usage") or 0)
    stats = mem.get("stats") or {}
    for key in ("total_inactive_file", "inactive_file"):
        v = stats.get(key)
        if v is not None and v < usage:
            return usage - int(v)
    return usage


def is_stopped_sample(raw: dict) -> bool:
    """The zeroed sample the engine sends for a container that is not running."""
    if (raw.get("read") or ZERO_TIME).startswith("0001-01-01"):
        return True
    cpu = raw.get("cpu_stats") or {}
    return not cpu.get("system_cpu_usage") and not (raw.get("memory_stats") or {})


def to_sample(raw: dict, previous: StatsSample | None) -> StatsSample:
    nets = (raw.get("networks") or {}).values()
    rx = sum(int(n.get("rx_bytes") or 0) for n in nets)
    tx = sum(int(n.get("tx_bytes") or 0) for n in nets)
    t = parse_time(raw.get("read") or "")
    rx_rate = tx_rate = 0.0
    if previous is not None and t > previous.time:
        dt = t - previous.time
        rx_rate = max(0.0, (rx - previous.net_rx) / dt)
        tx_rate = max(0.0, (tx - previous.net_tx) / dt)
    cpu = raw.get("cpu_stats") or {}
    return StatsSample(
        time=t, cpu_percent=cpu_percent(raw), memory_usage=memory_usage(raw),
        memory_limit=int((raw.get("memory_stats") or {}).get("limit") or 0),
        net_rx=rx, net_tx=tx, net_rx_rate=rx_rate, net_tx_rate=tx_rate,
        online_cpus=int(cpu.get("online_cpus") or 1),
    )


def _lines(res) -> Iterator[bytes]:
    """The JSON lines of a streamed response, each as soon as it is complete."""
    buf = b""
    while True:
        data = res.raw.read1(65536)
        if not data:
            break
        buf += data
        *lines, buf = buf.split(b"\n")
        yield from (line for line in lines if line.strip())
    if buf.strip():
        yield buf


class StatsFollower(CancellableStream):
    """Iterate for a StatsSample about every second, then one StatsEnded when the container stops,
    is removed or the engine goes away or stops answering (``engine_lost``). ``close()`` from any
    thread ends it at once, also while the engine has not answered yet."""

    def __init__(self, engine: Engine, container_id: str, idle_timeout: float = IDLE_TIMEOUT):
        super().__init__()
        self.engine = engine
        self.container_id = container_id
        self.idle_timeout = idle_timeout

    def _ended(self) -> StatsEnded:
        if self.stalled:
            return StatsEnded(
                f"Docker Engine at {self.engine.url} stopped answering: no sample for {self.idle_timeout:g} s and "
                "the engine did not answer a ping (frozen or overloaded?).", engine_lost=True)
        try:
            state, code = container_state(self.engine, self.container_id)
        except EngineError as exc:
            return StatsEnded(str(exc), engine_lost=exc.connection_lost)
        return StatsEnded(ended_message(state, code, self.engine.url), state, code)

    def _failed(self, exc: EngineError) -> StatsEnded:
        return self._ended() if self.stalled else StatsEnded(str(exc), engine_lost=exc.connection_lost)

    def __iter__(self) -> Iterator[StatsSample | StatsEnded]:
        self._watch(self.engine, self.idle_timeout, f"stats-watchdog-{self.container_id[:12]}")
        try:
            yield from self._follow()
        finally:
            self._end_watch()

    def _follow(self) -> Iterator[StatsSample | StatsEnded]:
        try:
            api, res, _read, _chunked = open_stream(self.engine, "/containers/{0}/stats", self.container_id,
                                                    {"stream": "true"}, holder=self)
        except EngineError as exc:
            if not self.closed:
                yield self._ended() if exc.kind == "not_found" else self._failed(exc)
            return
        previous: StatsSample | None = None
        try:
            if not self._hold(res):
                if not self.closed:  # stalled before the first sample
                    yield self._ended()
                return
            for line in _lines(res):
                self._heard()
                if self.closed:
                    return
                try:
                    raw = json.loads(line)
                except ValueError as exc:  # the engine's answer is wrong, not our code
                    raise EngineError(f"Docker Engine at {self.engine.url} sent a stats line that is not JSON: "
                                      f"{exc}") from None
                if is_stopped_sample(raw):
                    state, code = container_state(self.engine, self.container_id)
                    if state not in ("running", "paused", "restarting"):
                        yield StatsEnded(ended_message(state, code), state, code)
                        return
                    continue
                previous = to_sample(raw, previous)
                yield previous
            if not self.closed:
                yield self._ended()
        except EngineError as exc:
            if not self.closed:
                yield self._failed(exc)
        except Exception as exc:  # whatever a cut (close() or the watchdog) made the read raise, first
            if self.closed:
                return
            if not self.stalled and not is_engine_fault(exc):  # a bug: to the crash reporter
                raise
            yield self._failed(translate(exc, self.engine.url))
        finally:
            self._let_go()
            shutdown_response(api, res)
