"""Scale-out figures on a real two-node swarm (tests/support/swarm.py: two dockerds in network namespaces).

  1. throughput: --pictures digit pictures (LiteRT digits server, host-mode ports) sent by --clients
     threads through the studio's replica client to 1, 2 and 4 replicas over the 2 nodes; pictures/s and
     p50/p99 of each, and their ratios to 1 replica in the same run;
  2. failover: 4 replicas, a batch of --failover-pictures; the worker's dockerd and its tasks are killed
     after a quarter is answered: the longest gap between two answers, pictures lost, retries, and how
     long until the manager runs 4 tasks again;
  3. the Cluster page: the service scaled --scales times by the engine API while the real window shows
     it; from the engine's event reaching the window (and from the API call) to the service's row showing
     the new count, and the longest UI stall meanwhile (a 5 ms timer on the UI thread).
Prints one JSON object with the load average (this machine has 2 cores: the client, both daemons and
every replica share them). Everything is torn down after; the main engine's swarm is never touched.

    .venv/bin/python tests/perf/bench_swarm.py [--pictures 400] [--clients 8] [--scales 10]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

import docker  # noqa: E402

from gui.engine import Engine, resolve_engine  # noqa: E402
from gui.engine.endpoint import EngineTarget  # noqa: E402
from gui.engine.service_spec import ServiceSpec  # noqa: E402
from gui.engine.services import create_service, list_tasks, remove_service, scale_service  # noqa: E402
from gui.engine.swarm import list_nodes  # noqa: E402
from gui.predict.replicas import service_client  # noqa: E402
from tests.support.labels import RUN_ID, TEST_LABEL  # noqa: E402

LABELS = {TEST_LABEL: RUN_ID, "ai-container-studio.bench": "swarm"}


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def wait(what: str, check, timeout: float = 120, step: float = 0.2):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = check()
        if got:
            return got
        time.sleep(step)
    raise RuntimeError(f"{what}: not within {timeout} s")


def running(engine, sid) -> list:
    return [t for t in list_tasks(engine, sid) if t.state == "running" and t.desired_state == "running"]


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return round(s[min(len(s) - 1, int(q * len(s)))], 1)


def batch(client, pics: list[bytes], clients: int, on_answer=None) -> dict:
    times: list[float] = []
    stamps: list[float] = []
    lock = threading.Lock()

    def ask(data: bytes):
        t0 = time.perf_counter()
        p = client.predict_image(data)
        with lock:
            times.append((time.perf_counter() - t0) * 1000)
            stamps.append(time.monotonic())
            n = len(stamps)
        if on_answer is not None:
            on_answer(n)
        return p

    t0 = time.monotonic()
    with ThreadPoolExecutor(clients) as pool:
        answers = list(pool.map(ask, pics))
    wall = time.monotonic() - t0
    stamps.sort()
    gaps = [b - a for a, b in zip(stamps, stamps[1:], strict=False)]
    return {"answered": sum(1 for a in answers if a.top_label), "seconds": round(wall, 2),
            "pictures_per_s": round(len(pics) / wall, 1), "p50_ms": pct(times, 0.5), "p99_ms": pct(times, 0.99),
            "longest_gap_s": round(max(gaps), 3) if gaps else 0.0,
            "by_replica": dict(sorted(client.answered_by.items())), "retries": client.retries}


def throughput(manager, images, args, pics) -> dict:
    sid = create_service(manager, ServiceSpec(name=f"bench-{RUN_ID}-tp", image=images["v1"], replicas=1))
    out = {}
    try:
        for n in (1, 2, 4):
            scale_service(manager, sid, n)
            wait(f"{n} running", lambda n=n: len(running(manager, sid)) == n, 120)
            time.sleep(1)  # let the last replica finish warming up
            client = service_client(manager, sid, "bench", timeout=30)
            try:
                client.predict_image(pics[0])  # connections and model warm
                client.answered_by.clear()
                out[n] = batch(client, pics, args.clients)
                out[n]["nodes"] = sorted({t.node for t in running(manager, sid)})
            finally:
                client.close()
    finally:
        remove_service(manager, sid)
    base = out[1]
    for n in (2, 4):
        out[n]["throughput_ratio"] = round(out[n]["pictures_per_s"] / base["pictures_per_s"], 2)
        out[n]["p50_ratio"] = round(out[n]["p50_ms"] / base["p50_ms"], 2)
        out[n]["p99_ratio"] = round(out[n]["p99_ms"] / base["p99_ms"], 2)
    return {f"replicas_{n}": v for n, v in out.items()}


def failover(manager, swarm, images, args, pics) -> dict:
    sid = create_service(manager, ServiceSpec(name=f"bench-{RUN_ID}-fo", image=images["v1"], replicas=4))
    try:
        wait("4 over both nodes", lambda: len(r := running(manager, sid)) == 4 and len({t.node for t in r}) == 2)
        client = service_client(manager, sid, "bench", timeout=5)
        killed_at: list[float] = []
        quarter = len(pics) // 4

        def on_answer(n: int) -> None:
            if n == quarter:
                killed_at.append(time.monotonic())
                threading.Thread(target=swarm.worker.kill, daemon=True).start()

        try:
            result = batch(client, pics, args.clients, on_answer)
        finally:
            client.close()
        wait("worker down", lambda: next(n for n in list_nodes(manager) if n.hostname == "aics-worker").status
             == "down", 60, 0.1)
        down_s = time.monotonic() - killed_at[0]
        wait("4 on the manager", lambda: len(r := running(manager, sid)) == 4
             and {t.node for t in r} == {"aics-manager"}, 120, 0.2)
        rescheduled_s = time.monotonic() - killed_at[0]
        return {"pictures": len(pics), "answered": result["answered"], "lost": len(pics) - result["answered"],
                "retries": result["retries"], "longest_gap_s": result["longest_gap_s"],
                "pictures_per_s": result["pictures_per_s"], "node_down_after_s": round(down_s, 1),
                "four_running_again_after_s": round(rescheduled_s, 1)}
    finally:
        swarm.worker.restart()
        wait("worker back", lambda: next(n for n in list_nodes(manager) if n.hostname == "aics-worker").status
             == "ready", 60)
        remove_service(manager, sid)


def event_to_row(swarm, images, args) -> dict:
    from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer

    from gui.app import create_window, ensure_app

    app = ensure_app()
    manager = Engine(EngineTarget(swarm.manager.url, "bench"))
    name = f"bench-{RUN_ID}-ev"
    sid = create_service(manager, ServiceSpec(name=name, image=images["v1"], replicas=0))
    w = create_window(swarm.manager.url)
    w.resize(1280, 860)
    w.show()

    def spin(cond, timeout: float) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
            if cond():
                return True
        return cond()

    try:
        page = w.cluster_page
        w.pages.setCurrentWidget(page)
        if not spin(lambda: page.select_service(name), 20):
            raise RuntimeError("the service never showed")
        clock = QElapsedTimer()
        longest = [0]
        ticker = QTimer()
        ticker.setInterval(5)
        ticker.timeout.connect(lambda: longest.__setitem__(0, max(longest[0], clock.restart())))
        seen_event: list[float] = []
        page_event = page._on_event

        def on_event(ev):  # when the window learns of the change
            if ev.type == "service" and not seen_event:
                seen_event.append(time.monotonic())
            page_event(ev)

        w.session.engineEvent.disconnect(page._on_event)
        w.session.engineEvent.connect(on_event)
        from_event, from_call = [], []
        clock.start()
        ticker.start()
        spin(lambda: False, 3.0)  # the same window idle first: what this machine's load alone costs the UI
        idle_stall = longest[0]
        longest[0] = 0
        for i in range(args.scales):
            want = (i % 3) + 1
            seen_event.clear()
            called = time.monotonic()
            scale_service(manager, sid, want)  # off the UI thread's view: the engine's event drives the row
            ok = spin(lambda want=want: (s := page.services.record(sid)) is not None and s.desired == want, 10)
            shown = time.monotonic()
            if not ok or not seen_event:
                raise RuntimeError(f"scale {i}: the row did not follow")
            from_event.append((shown - seen_event[0]) * 1000)
            from_call.append((shown - called) * 1000)
            spin(lambda: False, 0.3)
        ticker.stop()
        return {"scales": args.scales, "event_to_row_median_ms": round(statistics.median(from_event), 1),
                "event_to_row_max_ms": round(max(from_event), 1),
                "api_call_to_row_median_ms": round(statistics.median(from_call), 1),
                "longest_ui_stall_ms": longest[0], "idle_window_longest_stall_ms": idle_stall}
    finally:
        w.close()
        remove_service(manager, sid)
        manager.close()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pictures", type=int, default=400)
    ap.add_argument("--failover-pictures", type=int, default=200)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--scales", type=int, default=10)
    ap.add_argument("--reuse", default="", help="a kept swarm's JSON (tests/support/swarm.py describe())")
    ap.add_argument("--parts", default="throughput,failover,cluster_page", help="which parts to run")
    args = ap.parse_args()

    from tests.support.swarm import TwoNodeSwarm
    from tests.support.swarm_fixtures import build_swarm_images, digit_pngs, remove_swarm_images

    api = docker.APIClient(base_url=resolve_engine().url, version="auto", timeout=300)
    swarm = refs = build = None
    t0 = time.monotonic()
    try:
        if args.reuse:
            kept = json.loads(Path(args.reuse).read_text())
            swarm, images = TwoNodeSwarm.attach(kept), kept["images"]
        else:
            with tempfile.TemporaryDirectory(prefix="aics-bench-swarm-") as tmp:
                refs, build = build_swarm_images(api, LABELS, Path(tmp))
            images = refs
            swarm = TwoNodeSwarm().start()
            swarm.form()
            swarm.load_images(api, [refs["v1"]])
        setup_s = time.monotonic() - t0
        manager = Engine(EngineTarget(swarm.manager.url, "bench"))
        pics = digit_pngs(args.pictures)
        parts = args.parts.split(",")
        result = {"setup_s": round(setup_s, 1), "load_before": load()}
        if "throughput" in parts:
            result["throughput"] = throughput(manager, images, args, pics)
        if "failover" in parts:
            result["failover"] = failover(manager, swarm, images, args, pics[: args.failover_pictures])
        if "cluster_page" in parts:
            result["cluster_page"] = event_to_row(swarm, images, args)
        result.update({
            "load_after": load(),
            "cpus": os.cpu_count(),
            "targets": {"failover_lost": 0, "event_to_row_median_ms": 200, "longest_ui_stall_ms": 50},
        })
        manager.close()
        print(json.dumps(result))
        return 0
    finally:
        if swarm is not None and not args.reuse:
            swarm.destroy()
        if refs is not None:
            remove_swarm_images(api, refs, build)
        api.close()


if __name__ == "__main__":
    sys.exit(main())
