"""Many containers: event-to-row latency, UI stalls while they churn, and idle CPU.

On the real engine: creates 500 labelled busybox containers (100 of them running), opens the
real main window in this process (offscreen), then
  1. starts and stops containers from another thread (like a terminal would) and times each
     change from the end of the engine call to the row showing the new state;
  2. records the longest gap of a 5 ms QTimer on the UI thread while that churn runs;
  3. leaves the app idle for 20 s with 100 running containers and measures its CPU use.
Prints one JSON object. Everything is labelled `ai-container-studio.bench` and removed after.

    .venv/bin/python tests/perf/bench_containers.py [--containers 500] [--running 100] [--ops 200]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

import docker  # noqa: E402
from PySide6.QtCore import QElapsedTimer, QTimer  # noqa: E402

from gui.app import create_window, ensure_app  # noqa: E402
from gui.engine import resolve_engine  # noqa: E402
from tests.support.busybox import SLEEPER, build_busybox  # noqa: E402

LABEL = "ai-container-studio.bench"


class StallMeter:
    """Longest gap between ticks of a 5 ms timer on the UI thread."""

    def __init__(self):
        self.timer = QTimer()
        self.timer.setInterval(5)
        self.clock = QElapsedTimer()
        self.worst = 0.0
        self.timer.timeout.connect(self._tick)

    def start(self):
        self.worst = 0.0
        self.clock.start()
        self.timer.start()

    def _tick(self):
        gap = self.clock.restart()
        self.worst = max(self.worst, gap - 5)

    def stop(self) -> float:
        self.timer.stop()
        return self.worst


def spin(app, seconds: float, until=None) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        if until is not None and until():
            return True
        time.sleep(0.001)
    return until() if until else True


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--containers", type=int, default=500)
    p.add_argument("--running", type=int, default=100)
    p.add_argument("--ops", type=int, default=200)
    p.add_argument("--idle-seconds", type=float, default=20)
    args = p.parse_args()
    url = resolve_engine().url
    api = docker.APIClient(base_url=url, version="auto", timeout=300)
    base = build_busybox(api)
    t = time.perf_counter()

    def create(i: int) -> str:
        c = api.create_container(base, list(SLEEPER), name=f"aics-bench-c{i}", labels={LABEL: "1"})
        if i < args.running:
            api.start(c["Id"])
        return c["Id"]

    with ThreadPoolExecutor(4) as pool:
        ids = list(pool.map(create, range(args.containers)))
    setup_s = time.perf_counter() - t
    try:
        app = ensure_app()
        w = create_window(url)
        w.show()
        t0 = time.perf_counter()
        spin(app, 30, lambda: w.containers_model.rowCount() >= args.containers)
        load_s = time.perf_counter() - t0
        model = w.containers_model

        # 1 + 2: churn from another thread, latency per change, UI stall meanwhile.
        stopped = ids[args.running:]
        latencies: list[float] = []
        pending: dict[str, tuple[str, float]] = {}
        lock = threading.Lock()

        def on_change(*_a):
            now = time.perf_counter()
            with lock:
                for cid, (want, since) in list(pending.items()):
                    rec = model.record(cid)
                    if rec is not None and rec.state == want:
                        latencies.append(now - since)
                        del pending[cid]

        model.dataChanged.connect(on_change)
        churn_api = docker.APIClient(base_url=url, version="auto", timeout=60)

        def churn():
            for n in range(args.ops):
                cid = stopped[n % len(stopped)]
                started = (n // len(stopped)) % 2 == 0
                if started:
                    churn_api.start(cid)
                else:
                    churn_api.stop(cid, timeout=0)
                with lock:
                    pending[cid] = ("running" if started else "exited", time.perf_counter())
                time.sleep(0.01)

        meter = StallMeter()
        meter.start()
        th = threading.Thread(target=churn)
        th.start()
        while th.is_alive():
            spin(app, 0.05)
        spin(app, 5, lambda: not pending)
        worst_stall = meter.stop()
        model.dataChanged.disconnect(on_change)
        for cid in stopped[: args.ops]:
            try:
                churn_api.stop(cid, timeout=0)
            except Exception:
                pass
        spin(app, 2)

        # 3: idle CPU with the running containers.
        r0 = resource.getrusage(resource.RUSAGE_SELF)
        w0 = time.perf_counter()
        QTimer.singleShot(int(args.idle_seconds * 1000), app.quit)
        app.exec()  # Qt's own loop: it sleeps until something happens
        r1 = resource.getrusage(resource.RUSAGE_SELF)
        idle_cpu = (r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime) / (time.perf_counter() - w0)
        running_now = sum(1 for r in model.records() if r.state == "running")
        w.close()
        print(json.dumps({
            "benchmark": "containers",
            "containers": args.containers, "running_at_idle": running_now, "changes": args.ops,
            "changes_seen": len(latencies), "changes_missed": len(pending),
            "setup_s": round(setup_s, 1), "list_loaded_s": round(load_s, 3),
            "event_to_row_median_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
            "event_to_row_p95_ms": round(sorted(latencies)[int(len(latencies) * 0.95) - 1] * 1000, 1)
            if latencies else None,
            "longest_ui_stall_ms": round(worst_stall, 1),
            "idle_cpu_percent": round(idle_cpu * 100, 2), "idle_seconds": args.idle_seconds,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "targets": {"event_to_row_median_ms": 100, "longest_ui_stall_ms": 50, "idle_cpu_percent": 1},
        }))
    finally:
        def rm(cid):
            try:
                api.remove_container(cid, force=True)
            except Exception:
                pass

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(rm, ids))


if __name__ == "__main__":
    main()
    sys.stdout.flush()
    os._exit(0)  # skip interpreter teardown: PySide6 may crash while garbage-collecting at exit
