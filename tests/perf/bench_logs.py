"""Logs under load: a container writes --lines log lines after the LogsView began following it.

The writer (python:3.11-slim) writes lines of 80-200 characters, some with ANSI colours (levels), as
fast as it can or --rate a second, each starting with the wall-clock time at which it was written
(`time.time()`, microseconds).
The container and this process share the host's clock, so each line's lag is measured from the
moment the container wrote it to the end of the first paint of the log view's viewport after the
line reached the view: the engine, the stream, the app's batching and the paint all count.
(Lines are sampled evenly when there are more than 100,000; the first line of every paint is
always measured, as the oldest it brings.)

Prints one JSON object: lines received (the view's counter), the per-line lag (median, p95, p99,
max), the longest UI stall (a 5 ms QTimer in the UI thread records its largest gap), the app's
RSS, durations and the load average.

    .venv/bin/python tests/perf/bench_logs.py [--lines 1000000]
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

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

import docker  # noqa: E402
from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from gui.engine import Engine, container_info, resolve_engine  # noqa: E402
from gui.qt.containers.logs import LogsView  # noqa: E402
from tests.perf.paint_probe import PaintProbe  # noqa: E402
from tests.support.labels import RUN_ID, TEST_LABEL  # noqa: E402

LABEL = "ai-container-studio.bench"
WRITER_IMAGE = "python:3.11-slim"
# Runs in the container: waits for /go, then writes the lines as fast as it can, one write each.
WRITER = r"""
import os, random, sys, time
n, rate = int(sys.argv[1]), float(sys.argv[2])
rnd = random.Random(11)
words = ("request served connection pool worker model tensor batch epoch loss accuracy cache "
         "layer download upload token session user GET POST /predict /health latency queue retry "
         "checkpoint gradient shard replica timeout bytes ms ok").split()
levels = ("\x1b[32mINFO\x1b[0m", "INFO", "INFO", "DEBUG", "\x1b[33mWARNING\x1b[0m", "\x1b[31mERROR\x1b[0m")
bodies = []
for _ in range(2000):
    want = rnd.randint(80, 200) - 18  # the stamp and its space
    head = f"{rnd.choice(levels)} {rnd.choice(('app.server', 'app.worker', 'uvicorn.access', 'trainer'))}: "
    text = head
    while len(text) < want:
        text += rnd.choice(words) + (" " if rnd.random() < 0.8 else f"={rnd.randint(0, 99999)} ")
    bodies.append(text[:want])
while not os.path.exists("/go"):
    time.sleep(0.01)
out = sys.stdout
t0 = time.time()
for i in range(n):
    if rate and i % 100 == 0:
        ahead = t0 + i / rate - time.time()
        if ahead > 0:
            time.sleep(ahead)
    out.write(f"{time.time():.6f} {bodies[i % 2000]}\n")
"""


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


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


def written_at(text: str) -> float | None:
    try:
        return float(text[:17])
    except ValueError:
        return None


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--rate", type=float, default=0, help="lines per second the container writes (0: as fast "
                    "as it can)")
    ap.add_argument("--timeout", type=float, default=180)
    args = ap.parse_args()
    load_before = load()

    target = resolve_engine()
    api = docker.APIClient(base_url=target.url, version="auto", timeout=120)
    api.inspect_image(WRITER_IMAGE)  # local only: no registry here
    c = api.create_container(WRITER_IMAGE, ["python", "-u", "-c", WRITER, str(args.lines), str(args.rate)],
                             labels={LABEL: "logs", TEST_LABEL: RUN_ID}, name=f"aics-bench-logs-{RUN_ID}")
    cid = c["Id"]
    api.start(cid)
    _app = QApplication.instance() or QApplication([])  # kept alive for the run
    engine = Engine(target)
    summary = api.containers(all=True, filters={"id": cid})[0]
    view = LogsView(engine, container_info(summary))
    view.resize(1000, 700)
    view.show()

    stride = max(1, args.lines // 100_000)
    lags: list[float] = []
    worst = {"lag": 0.0, "stall": 0.0, "rss": rss_mb(), "painted_end": 0, "unreadable": 0}
    clock = QElapsedTimer()
    clock.start()
    last_tick = [clock.elapsed()]

    def tick() -> None:
        now = clock.elapsed()
        worst["stall"] = max(worst["stall"], (now - last_tick[0]) / 1000)
        last_tick[0] = now

    ticker = QTimer(interval=5)
    ticker.timeout.connect(tick)
    measuring = [False]

    def on_painted(t: float) -> None:
        lines = view.lines
        start, end = max(worst["painted_end"], lines.first), lines.end
        worst["painted_end"] = end
        if not measuring[0] or end <= start:
            return
        texts = lines.texts
        rows = range(start - lines.first, end - lines.first)
        picked = [rows[0], *rows[1::stride]] if stride > 1 else rows
        for i in picked:
            w = written_at(texts[i])
            if w is None:
                worst["unreadable"] += 1
                continue
            lag = t - w
            lags.append(lag)
            worst["lag"] = max(worst["lag"], lag)

    probe = PaintProbe(view.lines.viewport(), on_painted)
    try:
        # Let the view attach and settle, then start the writer.
        wait_until(lambda: view.state.text() == "Following…", 5)
        settle = time.monotonic() + 1.0
        wait_until(lambda: time.monotonic() > settle, 2)
        before = view.received
        measuring[0] = True
        ticker.start()
        last_tick[0] = clock.elapsed()
        started = time.time()
        # Off the UI thread, so the benchmark's own engine call is no stall of the app's.
        threading.Thread(target=lambda: api.exec_start(api.exec_create(cid, ["touch", "/go"])["Id"]),
                         daemon=True).start()
        wait_until(lambda: view.received - before >= args.lines and worst["painted_end"] >= view.lines.end,
                   args.timeout)
        done = time.time()
        ticker.stop()
        probe.remove()
        worst["rss"] = max(worst["rss"], rss_mb())
        view.close()
        wait_until(lambda: not view.worker.is_alive(), 3)
        closed_ok = not view.worker.is_alive()
        s = sorted(lags)

        def pct(q: float) -> float | None:
            return round(s[min(len(s) - 1, int(len(s) * q))] * 1000, 1) if s else None

        result = {
            "benchmark": "logs",
            "method": "per line: the wall-clock stamp the container wrote into it -> end of the log "
                      "viewport's first paint after the view held it",
            "lines_written": args.lines, "write_rate_per_s": args.rate or "as fast as it can",
            "lines_received": view.received - before,
            "counter_label": view.count.text(),
            "lines_held": len(view.lines.texts),
            "lines_dropped": view.lines.dropped,
            "lines_measured": len(lags), "unreadable_stamps": worst["unreadable"],
            "viewport_paints": probe.paints,
            "lag_ms": {"median": round(statistics.median(s) * 1000, 1) if s else None,
                       "p95": pct(0.95), "p99": pct(0.99), "max": round(worst["lag"] * 1000, 1)},
            "longest_ui_stall_ms": round(worst["stall"] * 1000, 1),
            "rss_mb": round(worst["rss"], 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "seconds_to_all_lines_painted": round(done - started, 2),
            "stream_closed_on_close": closed_ok,
            "load_average": {"before": load_before, "after": load()}, "cpus": os.cpu_count(),
            "targets": {"lag_ms_p99": 250, "longest_ui_stall_ms": 50, "rss_mb": 300},
        }
        print(json.dumps(result))
    finally:
        api.remove_container(cid, force=True)


if __name__ == "__main__":
    main()
