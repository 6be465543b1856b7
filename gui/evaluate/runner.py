"""Send labelled items to one or more models, a few requests in flight per model; answers stream back.

``PredictionRun`` is an iterable of ``Answer`` records for the UI's ``Stream`` and for the command line.
Its workers are plain daemon threads that take the next item from a shared counter, so nothing is read
ahead: 10,000 pictures cost 10,000 small records, not 10,000 files in memory. ``close()`` (from any
thread) stops the iteration at once; requests in flight end within the client's timeout and their
answers are dropped. A picture that cannot be read or that the server refuses is one Answer with an
``error``: the run goes on.
"""

from __future__ import annotations

import itertools
import os
import queue
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from gui.evaluate.dataset import LabelledItem
from gui.evaluate.matching import LabelMatch
from gui.predict import PredictError, PredictionClient
from gui.predict.sources import PictureSource, read_source

DEFAULT_CONCURRENCY = 4
ROWS_PER_REQUEST = 64


@dataclass(frozen=True, slots=True)
class Answer:
    """One item's answer from one target. ``truth`` and ``predicted`` are in the model's label space
    (``truth`` after class matching); ``value`` is a regressor's number. ``error`` is set when there is
    no answer (``kind`` as PredictError's: picture, http, timeout, connection, answer, input)."""

    index: int
    name: str
    truth: str
    predicted: str | None = None
    score: float | None = None
    ms: float | None = None
    error: str = ""
    kind: str = ""
    value: float | None = None
    target: int = 0
    path: str = ""

    @property
    def ok(self) -> bool:
        return not self.error

    @property
    def right(self) -> bool:
        return self.ok and self.predicted == self.truth


def lower_priority(nice: int) -> bool:
    """Run the calling thread ``nice`` steps below its priority now (Linux only: nice is a per-thread
    attribute there; elsewhere a thread id is no process id to setpriority). True when done.

    In the window, 4 request threads at 500 answers/s (reading, scaling and sending pictures, parsing
    answers) with the serving container busy too took the CPU from the UI thread on 2 cores: it waited
    20-50 ms in the run queue at a time. Niced, the UI thread gets the CPU first when it wakes."""
    if sys.platform != "linux" or nice <= 0:
        return False
    tid = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + nice))
    except OSError:
        return False
    return True


def answer_text(value) -> str:
    """A tabular model's answer as a label: 3.0 -> "3", "cat" -> "cat"."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def truth_text(label: str) -> str:
    """A CSV's label as a model would answer it: "3.0" -> "3"."""
    try:
        number = float(label)
    except ValueError:
        return label
    return str(int(number)) if number.is_integer() else label


class PredictionRun:
    """Iterate for Answers of every item from every client (``target`` = the client's index).

    ``regression`` makes table rows answer numbers (``value``) rather than labels. ``nice`` > 0 runs the
    request threads that much below the caller's priority (Linux; the window's Evaluate: see
    ``lower_priority``); the command line and the load test keep 0.
    """

    def __init__(self, clients: Sequence[PredictionClient], items: Sequence[LabelledItem],
                 match: LabelMatch | None = None, concurrency: int = DEFAULT_CONCURRENCY,
                 regression: bool = False, name: str = "evaluate", nice: int = 0):
        self.clients = list(clients)
        self.items = list(items)
        self.match = match
        self.concurrency = max(1, int(concurrency))
        self.regression = regression
        self.name = name
        self.nice = nice
        self.started_at: float | None = None
        self.first_request_at: float | None = None
        self._stop = threading.Event()
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    @property
    def total(self) -> int:
        return len(self.items) * len(self.clients)

    def truth_of(self, item: LabelledItem) -> str:
        label = truth_text(item.label) if item.row is not None else item.label
        return self.match.label_of(label) if self.match is not None else label

    def close(self) -> None:
        """Stop: no more requests start, the iteration ends at once."""
        self._stop.set()

    @property
    def closed(self) -> bool:
        return self._stop.is_set()

    def alive_threads(self) -> list[threading.Thread]:
        return [t for t in self._threads if t.is_alive()]

    def join(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for the workers to end; True when none is left."""
        deadline = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
        return not self.alive_threads()

    def __iter__(self) -> Iterator[Answer]:
        self.started_at = time.perf_counter()
        units = self._units()
        expected = sum(len(indexes) for _, _, indexes in units)  # answers: a chunk of rows gives many
        counter = itertools.count()
        for target in range(len(self.clients)):
            for n in range(self.concurrency):
                t = threading.Thread(target=self._work, args=(units, counter), daemon=True,
                                     name=f"{self.name}-{target}-{n}")
                self._threads.append(t)
        for t in self._threads[: min(len(self._threads), max(1, len(units)))]:
            t.start()
        self._threads = [t for t in self._threads if t.ident is not None]
        received = 0
        while received < expected and not self._stop.is_set():
            try:
                batch = self._queue.get(timeout=0.1)
            except queue.Empty:
                if not self.alive_threads() and self._queue.empty():
                    break
                continue
            for answer in batch:
                received += 1
                yield answer
        self._stop.set()

    # -- workers ------------------------------------------------------------------------------------
    def _units(self) -> list[tuple[int, int, list[int]]]:
        """(target, first item, item indexes): pictures one by one, table rows in chunks."""
        pictures = [i for i, item in enumerate(self.items) if item.row is None or item.problem]
        rows = [i for i, item in enumerate(self.items) if item.row is not None and not item.problem]
        out = []
        for target in range(len(self.clients)):
            out += [(target, i, [i]) for i in pictures]
            for start in range(0, len(rows), ROWS_PER_REQUEST):
                chunk = rows[start:start + ROWS_PER_REQUEST]
                out.append((target, chunk[0], chunk))
        out.sort(key=lambda u: (u[1], u[0]))  # item-major: every target gets an item at about one time
        return out

    def _work(self, units, counter) -> None:
        if self.nice > 0:
            lower_priority(self.nice)
        while not self._stop.is_set():
            with self._lock:
                n = next(counter)
            if n >= len(units):
                return
            target, _, indexes = units[n]
            answers = self._ask(target, indexes)
            if not self._stop.is_set():
                self._queue.put(answers)

    def _ask(self, target: int, indexes: list[int]) -> list[Answer]:
        client = self.clients[target]
        items = [self.items[i] for i in indexes]
        base = [dict(index=i, name=it.name, truth=self.truth_of(it), target=target, path=it.path)
                for i, it in zip(indexes, items, strict=True)]
        if items[0].problem:
            return [Answer(**base[0], error=items[0].problem, kind="input")]
        try:
            if items[0].row is not None:
                return self._ask_rows(client, items, base)
            data = read_source(PictureSource(name=items[0].name, path=items[0].path))
            if self.first_request_at is None:
                self.first_request_at = time.perf_counter()
            p = client.predict_image(data, top_k=1)
        except PredictError as exc:
            return [Answer(**b, error=exc.message, kind=exc.kind) for b in base]
        except Exception as exc:  # a bug must not stop the run: the item says what happened
            return [Answer(**b, error=f"unexpected error: {type(exc).__name__}: {exc}", kind="answer")
                    for b in base]
        return [Answer(**base[0], predicted=p.top_label, score=p.scores[0] if p.scores else None,
                       ms=p.round_trip_ms)]

    def _ask_rows(self, client, items, base) -> list[Answer]:
        if self.first_request_at is None:
            self.first_request_at = time.perf_counter()
        start = time.perf_counter()
        values = client.predict_rows([it.row for it in items])
        ms = (time.perf_counter() - start) * 1000.0
        out = []
        for b, v in zip(base, values, strict=True):
            if self.regression:
                try:
                    out.append(Answer(**b, value=float(v), ms=ms))
                except (TypeError, ValueError):
                    out.append(Answer(**b, error=f"the model answered {v!r}, not a number", kind="answer"))
            else:
                out.append(Answer(**b, predicted=answer_text(v), ms=ms))
        return out
