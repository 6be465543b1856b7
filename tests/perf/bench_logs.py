"""Logs under load: a container writes 1,000,000 lines after the LogsView began following it.

Prints one JSON object: lines the view received (its counter), the longest lag of the view
behind the stream (from reading a batch off the engine's socket to the view holding it, and from
the engine's own timestamp of the newest line to the view holding it), the longest UI stall
(a 5 ms QTimer in the UI thread records its largest gap), the app's peak RSS, and durations.

    .venv/bin/python tests/perf/bench_logs.py [--lines 1000000]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import threading
import time
from datetime import datetime, timezone

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

import docker  # noqa: E402
from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from gui.engine import Engine, container_info, resolve_engine  # noqa: E402
from gui.qt.containers.logs import LogsView  # noqa: E402
from tests.support.busybox import build_busybox  # noqa: E402

LABEL = "ai-container-studio.bench"


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def stamp_seconds(stamp: str) -> float:
    head, _, frac = stamp.rstrip("Z").partition(".")
    dt = datetime.strptime(head, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    return dt.timestamp() + float("0." + (frac or "0"))


def wait_until(predicate, timeout: float) -> bool:
    """Run the Qt event loop until ``predicate()`` or ``timeout`` seconds.

    (A tight loop of ``processEvents()`` crashes PySide6 6.12 with "deallocating None".)
    """
    loop = QEventLoop()
    deadline = time.monotonic() + timeout
    check = QTimer(interval=10)
    check.timeout.connect(lambda: loop.quit() if predicate() or time.monotonic() > deadline else None)
    check.start()
    if not predicate():
        loop.exec()
    check.stop()
    return bool(predicate())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--timeout", type=float, default=180)
    args = ap.parse_args()

    target = resolve_engine()
    api = docker.APIClient(base_url=target.url, version="auto", timeout=120)
    image = build_busybox(api)
    # The container waits for a file the benchmark creates once the view follows it.
    c = api.create_container(image, ["sh", "-c", f"while [ ! -e /go ]; do sleep 0.05; done; seq 1 {args.lines}"],
                             labels={LABEL: "logs"}, name=f"aics-bench-logs-{os.getpid()}")
    cid = c["Id"]
    api.start(cid)
    _app = QApplication.instance() or QApplication([])  # kept alive for the run
    engine = Engine(target)
    summary = api.containers(all=True, filters={"id": cid})[0]
    view = LogsView(engine, container_info(summary))
    view.resize(1000, 700)
    view.show()

    stats = {"lag": 0.0, "e2e_lag": 0.0, "stall": 0.0, "rss": rss_mb(), "first": None, "last": None}
    clock = QElapsedTimer()
    clock.start()
    last_tick = [clock.elapsed()]

    def tick() -> None:
        now = clock.elapsed()
        stats["stall"] = max(stats["stall"], (now - last_tick[0]) / 1000)
        last_tick[0] = now

    ticker = QTimer(interval=5)
    ticker.timeout.connect(tick)

    def shown(total: int, lag: float) -> None:
        now = time.time()
        if stats["first"] is None:
            stats["first"] = now
        stats["last"] = now
        stats["lag"] = max(stats["lag"], lag)
        stamp = view.lines.stamps[-1] if view.lines.stamps else ""
        if stamp:
            stats["e2e_lag"] = max(stats["e2e_lag"], now - stamp_seconds(stamp))
        stats["rss"] = max(stats["rss"], rss_mb())

    view.linesShown.connect(shown)
    try:
        # Let the view attach and settle, then start the writer.
        wait_until(lambda: view.state.text() == "Following…", 5)
        settle = time.monotonic() + 1.0
        wait_until(lambda: time.monotonic() > settle, 2)
        ticker.start()
        last_tick[0] = clock.elapsed()
        started = time.time()
        # Off the UI thread, so the benchmark's own engine call is no stall of the app's.
        threading.Thread(target=lambda: api.exec_start(api.exec_create(cid, ["touch", "/go"])["Id"]),
                         daemon=True).start()
        wait_until(lambda: view.received >= args.lines, args.timeout)
        done = time.time()
        ticker.stop()
        stats["rss"] = max(stats["rss"], rss_mb())
        view.close()
        wait_until(lambda: not view.worker.is_alive(), 3)
        closed_ok = not view.worker.is_alive()
        result = {
            "lines_written": args.lines,
            "lines_received": view.received,
            "counter_label": view.count.text(),
            "lines_held": len(view.lines.texts),
            "lines_dropped": view.lines.dropped,
            "max_lag_ms": round(stats["lag"] * 1000, 1),
            "max_lag_from_engine_timestamp_ms": round(stats["e2e_lag"] * 1000, 1),
            "longest_ui_stall_ms": round(stats["stall"] * 1000, 1),
            "rss_mb": round(stats["rss"], 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "seconds_to_all_lines": round(done - started, 2),
            "stream_closed_on_close": closed_ok,
            "targets": {"max_lag_ms": 250, "longest_ui_stall_ms": 50, "rss_mb": 300},
        }
        print(json.dumps(result))
    finally:
        api.remove_container(cid, force=True)


if __name__ == "__main__":
    main()
