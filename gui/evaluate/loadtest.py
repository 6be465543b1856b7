"""Load test: a concurrency sweep against one target, bounded in time and in requests per level.

``LoadSweep`` is an iterable for the UI's ``Stream`` and the command line: for each level (1, 2, 4, 8,
16 clients by default) it runs that many workers for ``seconds`` or ``max_requests`` requests, whichever
comes first, yielding a ``LevelProgress`` about four times a second and a ``LevelResult`` when the level
ends. Requests go only to the client it was given. ``close()`` stops at once from any thread: no new
request starts, the iteration ends, and requests in flight end within the client's timeout.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from gui.evaluate import metrics
from gui.predict import PredictError, PredictionClient

DEFAULT_LEVELS = (1, 2, 4, 8, 16)
DEFAULT_SECONDS = 5.0
DEFAULT_MAX_REQUESTS = 5000  # per level
TICK = 0.25


@dataclass(frozen=True)
class LevelProgress:
    concurrency: int
    elapsed: float
    requests: int
    errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.elapsed if self.elapsed > 0 else 0.0


@dataclass(frozen=True)
class LevelResult:
    """One level's figures: answered requests per second, latency percentiles (ms), errors."""

    concurrency: int
    seconds: float
    requests: int
    errors: int
    rps: float
    p50: float | None
    p95: float | None
    p99: float | None
    error_samples: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict:
        return {"concurrency": self.concurrency, "seconds": round(self.seconds, 3),
                "requests": self.requests, "errors": self.errors, "rps": round(self.rps, 2),
                "p50_ms": _round(self.p50), "p95_ms": _round(self.p95), "p99_ms": _round(self.p99),
                "error_samples": list(self.error_samples)}


CSV_COLUMNS = ("concurrency", "seconds", "requests", "errors", "rps", "p50_ms", "p95_ms", "p99_ms")


def _round(v: float | None) -> float | None:
    return None if v is None else round(v, 3)


def picture_request(client: PredictionClient, payloads: Sequence[bytes]) -> Callable[[int], None]:
    """A request function sending picture ``n % len(payloads)`` to ``client``."""
    if not payloads:
        raise ValueError("no pictures to send")
    return lambda n: client.predict_image(payloads[n % len(payloads)], top_k=1)


class LoadSweep:
    def __init__(self, request: Callable[[int], object], levels: Sequence[int] = DEFAULT_LEVELS,
                 seconds: float = DEFAULT_SECONDS, max_requests: int = DEFAULT_MAX_REQUESTS):
        if not levels or any(int(n) < 1 for n in levels):
            raise ValueError("concurrency levels must be whole numbers of at least 1")
        if seconds <= 0 or max_requests < 1:
            raise ValueError("each level needs a positive duration and request count")
        self.request = request
        self.levels = [int(n) for n in levels]
        self.seconds = float(seconds)
        self.max_requests = int(max_requests)
        self.results: list[LevelResult] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def close(self) -> None:
        self._stop.set()

    def alive_threads(self) -> list[threading.Thread]:
        return [t for t in self._threads if t.is_alive()]

    def join(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
        return not self.alive_threads()

    def __iter__(self) -> Iterator[LevelProgress | LevelResult]:
        serial = itertools.count()
        for level in self.levels:
            if self._stop.is_set():
                return
            yield from self._level(level, serial)

    def _level(self, level: int, serial) -> Iterator[LevelProgress | LevelResult]:
        lock = threading.Lock()
        ms: list[float] = []
        errors: list[str] = []
        started = [0]
        end = threading.Event()
        t0 = time.perf_counter()
        deadline = t0 + self.seconds

        def work() -> None:
            while not (self._stop.is_set() or end.is_set()) and time.perf_counter() < deadline:
                with lock:
                    if started[0] >= self.max_requests:
                        return
                    started[0] += 1
                    n = next(serial)
                a = time.perf_counter()
                try:
                    self.request(n)
                except PredictError as exc:
                    with lock:
                        errors.append(exc.message)
                    continue
                except Exception as exc:  # counted, not raised: the sweep goes on
                    with lock:
                        errors.append(f"{type(exc).__name__}: {exc}")
                    continue
                with lock:
                    ms.append((time.perf_counter() - a) * 1000.0)

        threads = [threading.Thread(target=work, daemon=True, name=f"loadtest-{level}-{i}")
                   for i in range(level)]
        self._threads = threads
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads) and not self._stop.is_set():
            self._stop.wait(TICK)
            with lock:
                done, failed = len(ms), len(errors)
            yield LevelProgress(level, time.perf_counter() - t0, done, failed)
        end.set()
        if self._stop.is_set():
            return
        seconds = time.perf_counter() - t0
        with lock:
            done, failed = list(ms), list(errors)
        result = LevelResult(level, seconds, len(done), len(failed), len(done) / seconds if seconds else 0.0,
                             metrics.percentile(done, 50), metrics.percentile(done, 95),
                             metrics.percentile(done, 99), tuple(dict.fromkeys(failed))[:5])
        self.results.append(result)
        yield result


def write_levels_csv(path: str, results: Sequence[LevelResult]) -> int:
    """One row per level (``CSV_COLUMNS``); returns the row count."""
    import csv

    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(CSV_COLUMNS)
        for r in results:
            d = r.as_dict()
            w.writerow([d[c] for c in CSV_COLUMNS])
    return len(results)
