"""Many containers: engine-event-to-painted-row latency, UI stalls while they churn, and idle CPU.

On the real engine: creates --containers labelled busybox containers (--running of them running),
opens the real main window in this process (offscreen unless QT_QPA_PLATFORM says otherwise), then
  1. churns --slots containers from another thread, like a terminal would: each slot goes through
     create, start, stop, start, stop, remove, so starts and stops alternate and rows appear and go.
     Each change is timed from the engine's own time of its event (`timeNano` of create, start,
     die, destroy, read from a `docker events` stream of the benchmark's own) to the end of the
     first paint of the containers view's viewport at which the model shows it (the row there
     with the new state, or gone). The churned rows are the newest, so they sit on screen at the
     top of the list (sorted by Created); a change no paint showed within --timeout is "missed";
  2. records the longest gap of a 5 ms QTimer on the UI thread while that churn runs;
  3. leaves the app idle for --idle-seconds with the running containers and measures its CPU use.
Prints one JSON object, with the load average before and after (other processes show up as
latency and stalls). Everything carries the label `ai-container-studio.test=<run id>` and is
removed after.

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
os.environ.setdefault("QT_API", "pyside6")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

import docker  # noqa: E402
from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer  # noqa: E402

from gui.app import create_window, ensure_app  # noqa: E402
from gui.engine import resolve_engine  # noqa: E402
from tests.perf.paint_probe import PaintProbe  # noqa: E402
from tests.support.busybox import SLEEPER, build_busybox  # noqa: E402
from tests.support.labels import RUN_ID, TEST_LABEL  # noqa: E402

LABEL = "ai-container-studio.bench"
CHURN = "ai-container-studio.bench-churn"
LABELS = {LABEL: "containers", TEST_LABEL: RUN_ID}
# One slot's life: starts and stops alternate; the row is created and removed.
CYCLE = ("create", "start", "stop", "start", "stop", "remove")
# The event that says the operation happened, and the state the row must then show (None: gone).
EVENT = {"create": ("create", "created"), "start": ("start", "running"), "stop": ("die", "exited"),
         "remove": ("destroy", None)}


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def stats_ms(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    s = sorted(values)
    return {"n": len(s), "median": round(statistics.median(s) * 1000, 1),
            "p95": round(s[min(len(s) - 1, int(len(s) * 0.95))] * 1000, 1), "max": round(s[-1] * 1000, 1)}


class StallMeter:
    """Longest gap between ticks of a 5 ms timer on the UI thread, beyond its 5 ms."""

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
        self.worst = max(self.worst, self.clock.restart() - 5)

    def stop(self) -> float:
        self.timer.stop()
        return self.worst


def wait_until(predicate, timeout: float) -> bool:
    """Run the Qt event loop until ``predicate()`` or ``timeout`` seconds."""
    loop = QEventLoop()
    deadline = time.monotonic() + timeout
    check = QTimer(interval=10)
    check.timeout.connect(lambda: loop.quit() if predicate() or time.monotonic() > deadline else None)
    check.start()
    if not predicate():
        loop.exec()
    check.stop()
    return bool(predicate())


class Changes:
    """Changes in flight: registered before the engine call, given their event time by the event
    thread, and their paint time by the view's paint probe (whichever comes first)."""

    def __init__(self, model):
        self.model = model
        self.lock = threading.Lock()
        self.pending: dict[str, dict] = {}  # container id (or slot name until created) -> change
        self.done: dict[str, list[float]] = {op: [] for op in EVENT}
        self.missed: list[str] = []

    def expect(self, key: str, op: str) -> dict:
        action, want = EVENT[op]
        change = {"op": op, "action": action, "want": want, "event_t": None, "painted_t": None,
                  "since": time.monotonic()}
        with self.lock:
            self.pending[key] = change
        return change

    def rekey(self, old: str, new: str) -> None:
        with self.lock:
            if old in self.pending:
                self.pending[new] = self.pending.pop(old)

    def on_event(self, ev: dict) -> None:
        cid = ev.get("id") or (ev.get("Actor") or {}).get("ID")
        name = ((ev.get("Actor") or {}).get("Attributes") or {}).get("name", "")
        with self.lock:
            change = self.pending.get(cid) or self.pending.get(name)
            if change is None or change["event_t"] is not None or ev.get("Action") != change["action"]:
                return
            change["event_t"] = ev["timeNano"] / 1e9
            self._settle(cid if cid in self.pending else name)

    def on_painted(self, t: float) -> None:
        with self.lock:
            for key, change in list(self.pending.items()):
                if change["painted_t"] is not None:
                    continue
                rec = self.model.record(key)
                shown = rec is None if change["want"] is None else (rec is not None and rec.state == change["want"])
                if shown:
                    change["painted_t"] = t
                    self._settle(key)

    def _settle(self, key: str) -> None:
        change = self.pending[key]
        if change["event_t"] is not None and change["painted_t"] is not None:
            self.done[change["op"]].append(change["painted_t"] - change["event_t"])
            del self.pending[key]

    def expire(self, timeout: float) -> None:
        now = time.monotonic()
        with self.lock:
            for key, change in list(self.pending.items()):
                if now - change["since"] > timeout:
                    self.missed.append(change["op"])
                    del self.pending[key]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--containers", type=int, default=500)
    p.add_argument("--running", type=int, default=100)
    p.add_argument("--ops", type=int, default=200)
    p.add_argument("--slots", type=int, default=12, help="containers churned (their rows stay on screen)")
    p.add_argument("--interval", type=float, default=0.05, help="seconds between two operations")
    p.add_argument("--timeout", type=float, default=5.0, help="seconds after which a change counts as missed")
    p.add_argument("--idle-seconds", type=float, default=20)
    args = p.parse_args()
    load_before = load()
    url = resolve_engine().url
    api = docker.APIClient(base_url=url, version="auto", timeout=300)
    base = build_busybox(api)
    t = time.perf_counter()
    running = min(args.running, args.containers)

    def create(i: int) -> str:
        c = api.create_container(base, list(SLEEPER), name=f"aics-bench-{RUN_ID}-c{i}", labels=LABELS)
        if i < running:
            api.start(c["Id"])
        return c["Id"]

    with ThreadPoolExecutor(4) as pool:
        ids = list(pool.map(create, range(args.containers)))
    setup_s = time.perf_counter() - t
    events = None
    try:
        app = ensure_app()
        w = create_window(url)
        w.resize(1280, 860)
        w.show()
        t0 = time.perf_counter()
        wait_until(lambda: w.containers_model.rowCount() >= args.containers, 60)
        load_s = time.perf_counter() - t0
        model = w.containers_model
        wait_until(lambda: False, 0.5)  # settle

        # 1 + 2: churn from another thread; latency from the engine's event to the painted row.
        changes = Changes(model)
        probe = PaintProbe(w.containers_view.viewport(), changes.on_painted)
        events_api = docker.APIClient(base_url=url, version="auto", timeout=None)
        events = events_api.events(decode=True, filters={"type": "container", "label": f"{CHURN}={RUN_ID}"})
        listening = threading.Event()

        def follow() -> None:
            listening.set()
            try:
                for ev in events:
                    changes.on_event(ev)
            except Exception:
                pass  # closed at the end

        threading.Thread(target=follow, daemon=True).start()
        listening.wait(5)
        churn_api = docker.APIClient(base_url=url, version="auto", timeout=60)
        slots: list[dict] = [{"id": None, "step": 0, "n": 0} for _ in range(args.slots)]
        errors: list[str] = []

        def churn() -> None:
            for n in range(args.ops):
                slot = slots[n % len(slots)]
                op = CYCLE[slot["step"] % len(CYCLE)]
                slot["step"] += 1
                try:
                    if op == "create":
                        slot["n"] += 1
                        name = f"aics-bench-{RUN_ID}-s{n % len(slots)}-{slot['n']}"
                        changes.expect(name, op)
                        cid = churn_api.create_container(base, list(SLEEPER), name=name,
                                                         labels={**LABELS, CHURN: RUN_ID})["Id"]
                        slot["id"] = cid
                        changes.rekey(name, cid)
                    else:
                        changes.expect(slot["id"], op)
                        if op == "start":
                            churn_api.start(slot["id"])
                        elif op == "stop":
                            churn_api.stop(slot["id"], timeout=0)
                        else:
                            churn_api.remove_container(slot["id"], force=True)
                            slot["id"] = None
                except docker.errors.APIError as exc:
                    errors.append(f"{op}: {exc}")
                changes.expire(args.timeout)
                time.sleep(args.interval)

        meter = StallMeter()
        meter.start()
        th = threading.Thread(target=churn)
        th.start()
        while th.is_alive():
            wait_until(lambda: not th.is_alive(), 0.1)
        wait_until(lambda: (changes.expire(args.timeout), not changes.pending)[1], args.timeout + 1)
        worst_stall = meter.stop()
        changes.expire(0)
        probe.remove()
        for slot in slots:
            if slot["id"]:
                try:
                    churn_api.remove_container(slot["id"], force=True)
                except docker.errors.APIError:
                    pass
        wait_until(lambda: False, 2)

        # 3: idle CPU with the running containers.
        r0 = resource.getrusage(resource.RUSAGE_SELF)
        w0 = time.perf_counter()
        QTimer.singleShot(int(args.idle_seconds * 1000), app.quit)
        app.exec()  # Qt's own loop: it sleeps until something happens
        r1 = resource.getrusage(resource.RUSAGE_SELF)
        idle_cpu = (r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime) / (time.perf_counter() - w0)
        running_now = sum(1 for r in model.records() if r.state == "running" and r.label_map.get(TEST_LABEL) == RUN_ID)
        w.close()
        everything = [x for v in changes.done.values() for x in v]
        print(json.dumps({
            "benchmark": "containers",
            "method": "engine event timeNano -> end of the first viewport paint showing the change",
            "containers": args.containers, "running_at_idle": running_now, "changes": args.ops,
            "slots": args.slots, "interval_s": args.interval,
            "changes_seen": len(everything), "changes_missed": len(changes.missed),
            "missed_by_op": {op: changes.missed.count(op) for op in EVENT}, "engine_errors": errors[:5],
            "setup_s": round(setup_s, 1), "list_loaded_s": round(load_s, 3),
            "event_to_painted_row_ms": stats_ms(everything),
            "by_op_ms": {op: stats_ms(v) for op, v in changes.done.items()},
            "viewport_paints": probe.paints,
            "longest_ui_stall_ms": round(worst_stall, 1),
            "idle_cpu_percent": round(idle_cpu * 100, 2), "idle_seconds": args.idle_seconds,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "load_average": {"before": load_before, "after": load()}, "cpus": os.cpu_count(),
            "targets": {"event_to_painted_row_median_ms": 100, "longest_ui_stall_ms": 50, "idle_cpu_percent": 1},
        }))
    finally:
        if events is not None:
            events.close()
        leftovers = [c["Id"] for c in api.containers(all=True, filters={"label": f"{TEST_LABEL}={RUN_ID}"})]

        def rm(cid):
            try:
                api.remove_container(cid, force=True)
            except Exception:
                pass

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(rm, set(ids) | set(leftovers)))


if __name__ == "__main__":
    main()
    sys.stdout.flush()
    os._exit(0)  # skip interpreter teardown: PySide6 may crash while garbage-collecting at exit
