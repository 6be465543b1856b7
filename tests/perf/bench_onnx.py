"""onnx-image against tensorflow-image's LiteRT variant on the real engine, side by side in one run;
and the model scan's time on 100 MB pickles. Prints one JSON object.

Builds the LiteRT digits demo (a small CNN trained at build time) and the onnx-image template serving a
scikit-learn SVC on the same load_digits rows 0-1499, converted with skl2onnx (tests/support/model_files.py);
the package layers come from the cache images when they exist. Then, for each image:
- size (`docker image inspect` .Size); the goal: ONNX <= LiteRT + 10 %;
- time from `docker run` to the first 200 from /health (polled every 10 ms; median of --runs);
- pictures/s with 8 clients, each sending PNG pictures of rows 1500-1796 over keep-alive connections
  for --seconds, and the accuracy on those rows.
Scan: gui.models.scan_pickle on a 100 MB pickle of arrays (how models are made) and on a 100 MB pickle
of small objects (the scan's worst case: one opcode every few bytes).
Everything it makes carries the label `ai-container-studio.bench` and is removed at the end.

    .venv/bin/python tests/perf/bench_onnx.py [--runs 5] [--seconds 10] [--scan-mb 100] [--litert-model F.tflite]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import io
import json
import os
import pickle
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

import docker  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

from gui.builder import assemble_context, get_template  # noqa: E402
from gui.engine import resolve_engine  # noqa: E402
from gui.models import scan_pickle  # noqa: E402
from tests.support.labels import RUN_ID, TEST_LABEL  # noqa: E402
from tests.support.model_files import TEST_ROWS, save_onnx  # noqa: E402
from tests.support.model_images import build_model_image  # noqa: E402
from tests.support.templates import free_port  # noqa: E402
from tests.support.tensorflow_builds import build_context, build_variant, remove_leftovers  # noqa: E402

LABEL = "ai-container-studio.bench"
LABELS = {LABEL: "onnx"}
MB = 1000 * 1000


def start(image: str) -> tuple[str, int, float]:
    port = free_port()
    name = f"aics-bench-onnx-{port}"
    t0 = time.perf_counter()
    subprocess.run(["docker", "run", "-d", "--name", name, "--label", f"{LABEL}=onnx", "--label",
                    f"{TEST_LABEL}={RUN_ID}", "-p", f"127.0.0.1:{port}:8080", image],
                   check=True, stdout=subprocess.DEVNULL)
    deadline = t0 + 120
    while time.perf_counter() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as resp:
                if resp.status == 200:
                    return name, port, time.perf_counter() - t0
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.01)
    subprocess.run(["docker", "rm", "-f", name], check=False, stdout=subprocess.DEVNULL)
    raise RuntimeError(f"{image} did not become healthy in 120 s")


def stop(name: str) -> None:
    subprocess.run(["docker", "rm", "-f", name], check=False, stdout=subprocess.DEVNULL)


def pictures() -> list[tuple[bytes, str]]:
    digits = load_digits()
    out = []
    for i in TEST_ROWS:
        buf = io.BytesIO()
        Image.fromarray(np.round(digits.data[i].reshape(8, 8) * 255 / 16).astype(np.uint8), "L").save(buf, "PNG")
        out.append((buf.getvalue(), str(digits.target[i])))
    return out


def load(port: int, seconds: float, clients: int = 8) -> dict:
    """Pictures/s with `clients` keep-alive clients for `seconds`; accuracy over one pass of the rows."""
    pics = pictures()
    right = 0
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for body, label in pics:
        conn.request("POST", "/predict", body, {"Content-Type": "image/png"})
        right += json.loads(conn.getresponse().read())["predictions"][0]["label"] == label
    conn.close()
    counts = [0] * clients
    errors = [0] * clients
    end = time.perf_counter() + seconds

    def client(k: int) -> None:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        i = k
        while time.perf_counter() < end:
            body, _ = pics[i % len(pics)]
            c.request("POST", "/predict", body, {"Content-Type": "image/png"})
            resp = c.getresponse()
            resp.read()
            if resp.status == 200:
                counts[k] += 1
            else:
                errors[k] += 1
            i += clients
        c.close()

    t0 = time.perf_counter()
    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    return {"pictures_per_s": round(sum(counts) / elapsed, 1), "errors": sum(errors),
            "accuracy_rows_1500_1796": round(right / len(pics), 4)}


def scan_figures(tmp: Path, mb: float = 100) -> dict:
    out = {}
    arrays = tmp / "arrays.pkl"
    with open(arrays, "wb") as f:  # 250 arrays of 400 kB per 100 MB
        pickle.dump({f"w{i}": np.random.default_rng(i).random(50_000) for i in range(max(1, round(2.5 * mb)))},
                    f, protocol=4)
    small = tmp / "objects.pkl"
    with open(small, "wb") as f:  # ~100 MB of small floats and strings in lists: an opcode every ~9 bytes
        pickle.dump([[float(j) + i for j in range(1000)] for i in range(max(1, round(110 * mb)))], f, protocol=4)
    for name, path in (("arrays", arrays), ("small_objects", small)):
        report = scan_pickle(path)
        assert report.safe, report.risk()
        out[name] = {"mb": round(path.stat().st_size / MB, 1), "scan_s": round(report.seconds, 3)}
        path.unlink()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--scan-mb", type=float, default=100, help="size of each pickle the scan reads")
    parser.add_argument("--litert-model", default="", help="a .tflite digits model to serve on LiteRT instead "
                        "of the demo (whose build trains a CNN for minutes)")
    args = parser.parse_args()
    api = docker.APIClient(base_url=resolve_engine().url, version="auto", timeout=600)
    tmp = Path(tempfile.mkdtemp(prefix="bench-onnx-"))
    builds, tags = [], []
    result: dict = {"benchmark": "onnx", "load_average_before": [round(x, 2) for x in os.getloadavg()]}
    try:
        lite_tag = "aics-bench/onnx-vs-litert:litert"
        if args.litert_model:
            if not args.litert_model.endswith(".tflite"):
                parser.error("--litert-model takes a .tflite file")
            t0 = time.monotonic()
            build = build_model_image(args.litert_model, tmp / "litert", lite_tag, LABELS)
            seconds = time.monotonic() - t0
        else:
            build, _, seconds = build_variant({"runtime": "litert"}, tmp / "litert", lite_tag, LABELS)
        builds.append(build)
        tags.append(lite_tag)
        result["litert_build_s"] = round(seconds, 1)
        onnx_tag = "aics-bench/onnx-vs-litert:onnx"
        t = get_template("onnx-image")
        assemble_context(t, {**t.defaults(), "model": str(save_onnx(tmp)), "input_max": 16.0,
                             "polarity": "light-on-dark", "name": "digits"}, tmp / "onnx")
        build, _, seconds = build_context(tmp / "onnx", onnx_tag, LABELS)
        builds.append(build)
        tags.append(onnx_tag)
        result["onnx_build_s"] = round(seconds, 1)
        lite, onnx = api.inspect_image(lite_tag)["Size"], api.inspect_image(onnx_tag)["Size"]
        result.update({"litert_image_mb": round(lite / MB, 1), "onnx_image_mb": round(onnx / MB, 1),
                       "onnx_to_litert_ratio": round(onnx / lite, 3)})
        for kind, tag in (("litert", lite_tag), ("onnx", onnx_tag)):
            times = []
            for _ in range(args.runs):
                name, _port, seconds = start(tag)
                stop(name)
                times.append(seconds)
            result[f"{kind}_time_to_healthy_s"] = {"median": round(statistics.median(times), 3),
                                                   "runs": [round(x, 3) for x in times]}
        for kind, tag in (("litert", lite_tag), ("onnx", onnx_tag)):
            name, port, _ = start(tag)
            try:
                result[f"{kind}_8_clients"] = load(port, args.seconds)
            finally:
                stop(name)
        result["scan_100mb_pickle"] = scan_figures(tmp, args.scan_mb)  # its "mb" says how big they were
    finally:
        for tag in tags:
            with contextlib.suppress(Exception):
                api.remove_image(tag, force=True)
        for build in builds:
            remove_leftovers(build)
        shutil.rmtree(tmp, ignore_errors=True)
    result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    result["cpus"] = os.cpu_count()
    result["targets_met"] = {
        "onnx_le_litert_plus_10_percent": result["onnx_to_litert_ratio"] <= 1.10,
        "onnx_accuracy_ge_90_percent": result["onnx_8_clients"]["accuracy_rows_1500_1796"] >= 0.90,
    }
    print(json.dumps(result, indent=2))
    return 0 if all(result["targets_met"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
