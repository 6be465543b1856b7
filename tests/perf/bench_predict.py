"""The Predict page under load, on the real engine. Prints one JSON object.

The pictures are photo-like and all different (tests/perf/photos.py: 1-12 megapixels, JPEG, PNG and
WebP, made here and cached), sent to the demo digits model: its answers mean nothing for them, the
work around them (reading, thumbnails, upload, decoding and resizing in the server, the cards) is
what is measured.
- drop_to_painted: one picture at a time (a different one each drop) dropped on a running LiteRT
  digits container (tensorflow-image template; the sklearn-image one when that template is missing or
  not in --models): from the drop event to the card's score bars painted, median and p90 of --drops
  drops (target < 50 ms).
- batch: --batch pictures dropped at once: all answered, throughput, and the longest UI stall (a 5 ms
  QTimer records its largest gap from the drag entering the panel to the last answer; target < 50 ms;
  the drag's data is made before, as the file manager would), with where the UI
  thread was while late (tests/perf/stall_sampler.py), and the same measured for 3 s before the drop
  with the page idle (what the machine's load alone costs). Beside it the floor (tests/perf/drop_floor.py):
  a bare PySide6 window taking the same drag and drop after the same idle, before and after the batch,
  and the ratio of the batch's stall to their mean.
- servers: requests/s and p99 latency of POST /predict under 8 concurrent clients (threads, one HTTP session
  each) with a 2 MP photo, for every serving image in --models.
- docker_run: `docker run --rm <image> predict picture` once per picture (the way the article this project
  started from does it), for the image the page used and for the full-TensorFlow one, over --runs
  different pictures: median, and its ratio to drop_to_painted.
Everything carries the labels ai-container-studio.bench and ai-container-studio.test=<run id> and is
removed at the end (cache images stay).

    .venv/bin/python tests/perf/bench_predict.py [--drops 50] [--batch 200] [--runs 3]
        [--models litert,tensorflow,sklearn-image,sklearn-regression]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

import docker  # noqa: E402
import requests  # noqa: E402
from PIL import Image  # noqa: E402
from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from gui.builder import get_template  # noqa: E402
from gui.engine import resolve_engine  # noqa: E402
from tests.perf.drop_floor import floor_stall  # noqa: E402
from tests.perf.photos import describe, photo_set  # noqa: E402
from tests.perf.stall_sampler import StallSampler  # noqa: E402
from tests.support.labels import RUN_ID, TEST_LABEL  # noqa: E402
from tests.support.predict_page import build_image, drag_enter, drop, drop_files, files_mime, start_server  # noqa: E402

LABEL = "ai-container-studio.bench"
LABELS = {LABEL: "predict", TEST_LABEL: RUN_ID}
MODELS = ("litert", "tensorflow", "sklearn-image", "sklearn-regression")


LEFTOVER_BUILDS: list = []


def pump(app, until, timeout: float) -> bool:
    """Run Qt's own event loop until ``until()`` or ``timeout`` seconds, checking every 10 ms.

    (Not a loop of processEvents() and sleep: that loop and a predicate over 200 cards every 0.5 ms
    were work on the UI thread the stall meter then blamed on the app.)
    """
    loop = QEventLoop()
    deadline = time.perf_counter() + timeout
    check = QTimer(interval=10)
    check.timeout.connect(lambda: loop.quit() if until() or time.perf_counter() > deadline else None)
    check.start()
    if not until():
        loop.exec()
    check.stop()
    return bool(until())


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def pixels(path: Path) -> int:
    with Image.open(path) as img:
        return img.width * img.height


def docker_run_per_picture(image: str, pictures: list[Path]) -> dict:
    """`docker run --rm <image> predict <picture>` once per picture: seconds each, median."""
    runs, out, error = [], "", None
    for pic in pictures:
        t0 = time.perf_counter()
        proc = subprocess.run(["docker", "run", "--rm", "--label", f"{LABEL}=predict", "--label",
                               f"{TEST_LABEL}={RUN_ID}", "-v", f"{pic}:/data/{pic.name}:ro", image,
                               "predict", f"/data/{pic.name}"], capture_output=True, text=True, timeout=300)
        runs.append(time.perf_counter() - t0)
        out = proc.stdout.strip()[:200]
        if proc.returncode != 0:
            error = proc.stderr[-500:]
            break
    return {"image": image, "runs": len(runs), "median_s": round(statistics.median(runs), 2),
            "runs_s": [round(r, 2) for r in runs], "last_output": out, **({"error": error} if error else {})}


def percentile(values, q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def build_servers(tmp: Path, models: list[str]) -> dict[str, str]:
    """Serving images to measure: name -> tag (only templates that exist here)."""
    tags: dict[str, str] = {}
    try:
        get_template("tensorflow-image")
        from tests.support.tensorflow_builds import build_variant

        for runtime in ("litert", "tensorflow"):
            if runtime not in models:
                continue
            tag = f"aicsbench-predict-{runtime}:latest"
            build, _lines, _s = build_variant({"runtime": runtime}, tmp / runtime, tag, LABELS)
            LEFTOVER_BUILDS.append(build)
            tags[runtime] = tag
    except (KeyError, LookupError, ImportError) as exc:
        tags["_tensorflow_problem"] = f"tensorflow-image template not available: {exc}"
    for template in ("sklearn-image", "sklearn-regression"):
        if template in models:
            tags[template] = build_image(template, tmp / template, LABELS)
    return tags


def server_load(url: str, body: bytes, content_type: str, clients: int = 8, seconds: float = 5.0) -> dict:
    """Requests/s and latency percentiles of POST /predict with ``clients`` threads for ``seconds``."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def client() -> None:
        s = requests.Session()
        s.trust_env = False
        mine = []
        while time.perf_counter() < stop:
            t0 = time.perf_counter()
            r = s.post(url + "/predict", data=body, headers={"Content-Type": content_type}, timeout=30)
            mine.append((time.perf_counter() - t0) * 1000)
            if r.status_code != 200:
                errors[0] += 1
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    return {"clients": clients, "requests": len(latencies), "errors": errors[0],
            "requests_per_s": round(len(latencies) / elapsed, 1),
            "p50_ms": round(percentile(latencies, 0.5), 2), "p99_ms": round(percentile(latencies, 0.99), 2)}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--drops", type=int, default=50)
    ap.add_argument("--batch", type=int, default=200)
    ap.add_argument("--runs", type=int, default=3, help="pictures run with `docker run` per image")
    ap.add_argument("--pictures", type=int, default=0, help="different pictures made (default: enough for "
                    "the batch and the drops, each its own)")
    ap.add_argument("--models", default=",".join(MODELS), help="serving images to build and measure")
    ap.add_argument("--server-seconds", type=float, default=5.0)
    args = ap.parse_args()
    models = [m for m in args.models.split(",") if m]
    if not {"litert", "sklearn-image"} & set(models):
        ap.error("--models needs litert or sklearn-image (the page's model)")
    api = docker.APIClient(base_url=resolve_engine().url, version="auto", timeout=300)
    tmp = Path(tempfile.mkdtemp(prefix="bench-predict-"))
    out: dict = {"benchmark": "predict", "machine": {"cpus": os.cpu_count()}, "load_average_before": load()}
    containers: list[str] = []
    try:
        t0 = time.perf_counter()
        photos = photo_set(args.pictures or max(args.batch, args.drops + 2, args.runs, 1))
        out["pictures"] = describe(photos)
        out["pictures_seconds"] = round(time.perf_counter() - t0, 1)
        t0 = time.perf_counter()
        tags = build_servers(tmp, models)
        out["build_seconds"] = round(time.perf_counter() - t0, 1)
        servers = {}
        for name, tag in tags.items():
            if name.startswith("_"):
                continue
            cid, url = start_server(api, tag, LABELS, f"aicsbench-predict-{name}-{os.getpid()}")
            containers.append(cid)
            servers[name] = (cid, url)
        ui_model = "litert" if "litert" in servers else "sklearn-image"
        out["ui_model"] = ui_model

        batch = [photos[i % len(photos)] for i in range(args.batch)]

        app = QApplication.instance() or QApplication([])
        from gui.app import create_window

        w = create_window(None)
        w.resize(1200, 800)
        w.show()
        w.pages.setCurrentWidget(w.predict_page)
        page = w.predict_page
        cid = servers[ui_model][0]
        key = f"container:{cid}"
        assert pump(app, lambda: page.picker.combo.findData(key) >= 0, 20), "the picker never found the container"
        page.picker.select(key)
        assert pump(app, lambda: page.meta is not None and page.spec.container_id == cid, 30), \
            page.picker.status.text()

        # 1. one picture at a time, a different one each drop
        latencies, failed = [], []
        for i in range(args.drops + 2):
            page.clear()
            pump(app, lambda: False, 0.02)
            assert drop_files(page.panel, [photos[i % len(photos)]])
            card = list(page.cards.values())[-1]
            assert pump(app, lambda c=card: c.bars.painted_at is not None or c.state == "failed", 30), "no answer"
            if card.state != "done":
                failed.append(f"{photos[i % len(photos)].name}: {card.error}")
                continue
            if i >= 2:  # the first drops warm up connections and threads
                latencies.append((card.bars.painted_at - page.panel.drop_times[-1]) * 1000)
        med = statistics.median(latencies) if latencies else float("nan")
        out["drop_to_painted_ms"] = {"median": round(med, 2), "p90": round(percentile(latencies, 0.9), 2),
                                     "min": round(min(latencies), 2), "max": round(max(latencies), 2),
                                     "drops": len(latencies), "failed": failed[:5], "target_ms": 50}

        # 2. --batch pictures at once, with a 5 ms timer measuring the UI's longest stall
        page.clear()
        pump(app, lambda: False, 0.1)
        mime = files_mime(batch)  # the file manager's side of the drag: before the clock
        size = w.size()
        floors = [floor_stall(mime, size.width(), size.height())]  # a bare window, the same drag and drop
        sampler = StallSampler(threshold_ms=30, root=os.path.join(ROOT, "gui"))
        sampler.start()  # first the same seconds with the page idle: what the machine alone costs
        pump(app, lambda: False, 3.0)
        idle_stall = sampler.stop()
        idle_where = sampler.report(3)
        sampler.start()
        assert drag_enter(page.panel, mime)
        pump(app, lambda: False, 0.1)  # the pointer crosses the panel (a person's drag takes longer)
        start = time.perf_counter()
        assert drop(page.panel, mime)
        done = pump(app, lambda: len(page.cards) == len(batch) and page.counts()["waiting"] == 0, 120)
        elapsed = time.perf_counter() - start
        batch_stall = sampler.stop()
        counts = page.counts()
        floors.append(floor_stall(mime, size.width(), size.height()))
        floor = statistics.mean(floors)
        out["batch"] = {"pictures": len(batch), "all_answered": done and counts["done"] == len(batch),
                        "answered": counts["done"], "failed": counts["failed"],
                        "seconds": round(elapsed, 2), "pictures_per_s": round(len(batch) / elapsed, 1),
                        "longest_ui_stall_ms": round(batch_stall, 1), "stall_target_ms": 50,
                        "floor_stall_ms": [round(f, 1) for f in floors],
                        "drop_began_ms": round((start - sampler.started) * 1000, 1),  # after the drag's entry
                        "stall_to_floor": round(batch_stall / floor, 2) if floor else None,
                        "while_late": sampler.report(),
                        "idle_page_3s": {"longest_ui_stall_ms": round(idle_stall, 1), "while_late": idle_where}}
        w.close()
        app.processEvents()

        # 3. the servers under 8 concurrent clients
        two_mp = next((p for p in photos if p.suffix == ".jpg" and 1.5e6 < pixels(p) < 2.5e6), photos[0])
        picture = two_mp.read_bytes()
        ptype = {".jpg": "image/jpeg", ".png": "image/png", ".webp": "image/webp"}[two_mp.suffix]
        row = json.dumps({"instances": [[0.03, 0.05, 0.06, 0.02, -0.04, -0.03, -0.04, 0.0, 0.02, -0.02]]}).encode()
        out["servers"] = {"picture": two_mp.name}
        for name, (_cid, url) in servers.items():
            body, ctype = (row, "application/json") if name == "sklearn-regression" else (picture, ptype)
            server_load(url, body, ctype, seconds=min(1.0, args.server_seconds))  # warm up
            out["servers"][name] = server_load(url, body, ctype, seconds=args.server_seconds)

        # 4. docker run --rm <image> predict picture, once per picture, for the page's image and full TensorFlow
        out["docker_run_per_picture"] = {}
        for name in dict.fromkeys((ui_model, "tensorflow")):
            if name not in tags:
                out["docker_run_per_picture"][name] = {"measured": False,
                                                       "why": tags.get("_tensorflow_problem") or "not in --models"}
                continue
            run = docker_run_per_picture(tags[name], photos[: max(1, args.runs)])
            run["ratio_to_drop"] = round(run["median_s"] * 1000 / med) if latencies else None
            out["docker_run_per_picture"][name] = run
    finally:
        for cid in containers:
            with contextlib.suppress(Exception):
                api.remove_container(cid, force=True, v=True)
        for tag in ("aicsbench-predict-litert:latest", "aicsbench-predict-tensorflow:latest",
                    f"aicstest-predict-sklearn-image:{RUN_ID}", f"aicstest-predict-sklearn-regression:{RUN_ID}"):
            with contextlib.suppress(Exception):
                api.remove_image(tag, force=True)
        if LEFTOVER_BUILDS:
            from tests.support.tensorflow_builds import remove_leftovers

            for build in LEFTOVER_BUILDS:
                remove_leftovers(build)  # the converter stage's untagged image
    out["load_average_after"] = load()
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
