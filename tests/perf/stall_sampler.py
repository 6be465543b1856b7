"""StallSampler: where the UI thread was while it missed its 5 ms timer, so a stall can be blamed.

A 5 ms QTimer on the UI thread calls ``tick()``. A watcher thread looks every 5 ms; while the last tick
is more than ``threshold_ms`` old it samples the UI thread's stack (``sys._current_frames``). A stall
whose samples sit in the app's code is the app's; one whose samples sit in the event loop's wait
(``exec``, ``processEvents``) means the thread was ready but did not run: other processes on the CPUs,
or another thread holding the GIL. On Linux each gap is also split by the UI thread's own scheduler
counters (/proc/thread-self/schedstat): time it ran, time it was runnable but waited for a CPU, and the
rest, when it was blocked (Python's lock, a mutex) or idle in the event loop's wait.
"""

from __future__ import annotations

import collections
import os
import sys
import threading
import time

from PySide6.QtCore import QTimer


class StallSampler:
    def __init__(self, threshold_ms: float = 30.0, root: str = ""):
        self.threshold = threshold_ms / 1000
        self.root = root
        self.ui = threading.get_ident()
        self.last = time.perf_counter()
        self.worst = 0.0
        self.gaps: list[tuple[float, float, float, float]] = []  # (gap, ran, waited for a CPU, began), seconds
        self.started = self.last
        self._sched = _schedstat()
        self.where: collections.Counter = collections.Counter()
        self.samples = 0
        self._stop = threading.Event()
        self.timer = QTimer()
        self.timer.setInterval(5)
        self.timer.timeout.connect(self.tick)

    def tick(self) -> None:
        now = time.perf_counter()
        sched = _schedstat()
        gap = now - self.last
        self.worst = max(self.worst, gap)
        if gap >= self.threshold and sched and self._sched:
            self.gaps.append((gap, (sched[0] - self._sched[0]) / 1e9, (sched[1] - self._sched[1]) / 1e9,
                              self.last - self.started))
        self._sched = sched
        self.last = now

    def start(self) -> None:
        self.worst, self.last = 0.0, time.perf_counter()
        self.started = self.last
        self.where.clear()
        self.gaps = []
        self._sched = _schedstat()
        self.samples = 0
        self._stop.clear()
        self.timer.start()
        threading.Thread(target=self._watch, daemon=True).start()

    def stop(self) -> float:
        """Stops; returns the longest gap between two ticks in ms."""
        self.timer.stop()
        self._stop.set()
        return self.worst * 1000

    def _watch(self) -> None:
        while not self._stop.wait(0.005):
            if time.perf_counter() - self.last < self.threshold:
                continue
            frame = sys._current_frames().get(self.ui)
            if frame is not None:
                self.samples += 1
                self.where[self._place(frame)] += 1

    def _place(self, frame) -> str:
        """The innermost frame in the app's code (``root``), else the innermost frame at all."""
        inner = f"{os.path.basename(frame.f_code.co_filename)}:{frame.f_code.co_name}"
        f = frame
        while f is not None:
            if self.root and f.f_code.co_filename.startswith(self.root):
                rel = os.path.relpath(f.f_code.co_filename, os.path.dirname(self.root))
                return f"{rel}:{f.f_lineno} {f.f_code.co_name} (innermost: {inner})"
            f = f.f_back
        return f"{inner} (no app code on the stack)"

    def report(self, top: int = 6) -> dict:
        """Samples (5 ms each) taken while the UI thread was late, by place; the longest gaps, each split by
        the scheduler's counters, with when it began (ms after ``start()``)."""
        gaps = sorted(self.gaps, reverse=True)[:top]
        return {"late_samples": self.samples, "sample_ms": 5,
                "where": [{"samples": n, "place": p} for p, n in self.where.most_common(top)],
                "longest_gaps_ms": [{"gap": round(g * 1000, 1), "ran": round(r * 1000, 1),
                                     "waited_for_cpu": round(w * 1000, 1),
                                     "blocked_or_idle": round((g - r - w) * 1000, 1),
                                     "began_ms": round(b * 1000, 1)} for g, r, w, b in gaps]}


def _schedstat() -> tuple[int, int] | None:
    """The calling thread's (ns on a CPU, ns runnable but waiting for one), or None off Linux."""
    try:
        with open("/proc/thread-self/schedstat") as f:
            ran, waited, _ = f.read().split()
        return int(ran), int(waited)
    except (OSError, ValueError):
        return None
