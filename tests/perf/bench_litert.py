"""tensorflow-image: LiteRT against full TensorFlow on the real engine. Prints one JSON object.

Builds both demo variants on the stand-in base (the package layers come from the cache images
aics-cache/tensorflow-image-tf and -litert when they exist), then measures:
- image sizes (`docker image inspect` .Size) and their ratio;
- time from `docker run` to the first 200 from /health, polled every 10 ms (median of --runs);
- the rebuild after editing the server code and replacing the model (a user .tflite for LiteRT, a user
  .keras for TensorFlow): seconds, and the " ---> Using cache" lines (every package step must be one).
Targets: LiteRT <= 450 MB and <= 1/4 of full TensorFlow, LiteRT time to healthy < 1 s, rebuild < 15 s.
Everything it makes carries the label `ai-container-studio.bench` and is removed at the end, with the
untagged first-stage images; the cache images stay.

    .venv/bin/python tests/perf/bench_litert.py [--runs 5]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

import docker  # noqa: E402

from gui.engine import resolve_engine  # noqa: E402
from gui.engine.build import CACHE_HIT  # noqa: E402
from tests.support.labels import RUN_ID, TEST_LABEL  # noqa: E402
from tests.support.templates import free_port  # noqa: E402
from tests.support.tensorflow_builds import (  # noqa: E402
    TRAIN_OTHER,
    build_context,
    build_variant,
    copy_from_image,
    package_steps,
    remove_leftovers,
)

LABEL = "ai-container-studio.bench"
LABELS = {LABEL: "litert", TEST_LABEL: RUN_ID}
MB = 1000 * 1000


def time_to_healthy(image: str) -> float:
    """Seconds from spawning `docker run` to the first 200 from /health (polled every 10 ms)."""
    port = free_port()
    name = f"aics-bench-litert-{port}"
    t0 = time.perf_counter()
    subprocess.run(
        [
            "docker",
            "run",
            "-d",
            "--name",
            name,
            "--label",
            f"{LABEL}=litert",
            "--label",
            f"{TEST_LABEL}={RUN_ID}",
            "-p",
            f"127.0.0.1:{port}:8080",
            image,
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = t0 + 120
        while time.perf_counter() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as resp:
                    if resp.status == 200:
                        return time.perf_counter() - t0
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.01)
        raise RuntimeError(f"{image} did not become healthy in 120 s")
    finally:
        subprocess.run(["docker", "rm", "-f", name], check=False, stdout=subprocess.DEVNULL)


def rebuild(context: Path, new_model: Path, tag: str) -> dict:
    """Edit the server code and replace the model in a built context, rebuild, report time and cache hits."""
    server = context / "serving" / "server.py"
    server.write_text(server.read_text() + f"\n# edited by bench_litert {time.time()}\n")
    target = next((context / "model").glob("model.*"))
    shutil.copyfile(new_model, target)
    build, lines, seconds = build_context(context, tag, LABELS)
    texts = [line.text for line in lines]
    packages = package_steps(build)
    return {
        "seconds": round(seconds, 2),
        "using_cache_lines": texts.count(CACHE_HIT),
        "package_steps_cached": {k: s.cached for k, s in packages.items()},
        "model_and_server_rebuilt": all(
            not s.cached
            for s in build.steps
            if s.instruction.split()[:2] in (["COPY", "model/"], ["COPY", "serving/"])
        ),
        "_build": build,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    api = docker.APIClient(base_url=resolve_engine().url, version="auto", timeout=600)
    disk_before = api.df()["LayersSize"]
    tmp = Path(tempfile.mkdtemp(prefix="bench-litert-"))
    builds, tags = [], []
    result: dict = {"benchmark": "litert", "load_average_before": [round(x, 2) for x in os.getloadavg()]}
    try:
        for runtime in ("tensorflow", "litert"):
            tag = f"aics-bench/tensorflow-image-{runtime}:latest"
            build, _, seconds = build_variant({"runtime": runtime}, tmp / runtime, tag, LABELS)
            builds.append(build)
            tags.append(tag)
            result[f"{runtime}_build_s"] = round(seconds, 1)
        full = api.inspect_image(tags[0])["Size"]
        lite = api.inspect_image(tags[1])["Size"]
        result.update(
            {
                "tensorflow_image_mb": round(full / MB, 1),
                "litert_image_mb": round(lite / MB, 1),
                "litert_to_tensorflow_ratio": round(lite / full, 3),
            }
        )
        for runtime, tag in zip(("tensorflow", "litert"), tags, strict=True):
            times = [time_to_healthy(tag) for _ in range(args.runs)]
            result[f"{runtime}_time_to_healthy_s"] = {
                "median": round(statistics.median(times), 3),
                "runs": [round(t, 3) for t in times],
            }

        # Rebuilds: a user's model first (the build that is then edited), then server edit + new model.
        demo = copy_from_image(api, tags[0], "/opt/aics/model", tmp / "demo", LABELS)
        other = copy_from_image(api, tags[0], "/tmp/other", tmp, LABELS, script=TRAIN_OTHER)
        for runtime, model in (("litert", "model.tflite"), ("tensorflow", "model.keras")):
            ctx = tmp / f"user-{runtime}"
            tag = f"aics-bench/tensorflow-image-user-{runtime}:latest"
            build, _, _ = build_variant({"runtime": runtime, "model": str(demo / model)}, ctx, tag, LABELS)
            builds.append(build)
            tags.append(tag)
            edit_tag = f"aics-bench/tensorflow-image-user-{runtime}:edited"
            info = rebuild(ctx, other / model, edit_tag)
            builds.append(info.pop("_build"))
            tags.append(edit_tag)
            result[f"{runtime}_rebuild"] = info
    finally:
        for tag in tags:
            with contextlib.suppress(Exception):
                api.remove_image(tag, force=True)
        for build in builds:
            remove_leftovers(build)
        shutil.rmtree(tmp, ignore_errors=True)
    result["disk_layers_mb"] = {
        "before": round(disk_before / MB),
        "after": round(api.df()["LayersSize"] / MB),
    }
    result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    lite_rebuild = result["litert_rebuild"]
    result["targets_met"] = {
        "litert_size_le_450mb": result["litert_image_mb"] <= 450,
        "litert_le_quarter_of_tensorflow": result["litert_to_tensorflow_ratio"] <= 0.25,
        "litert_time_to_healthy_lt_1s": result["litert_time_to_healthy_s"]["median"] < 1.0,
        "litert_rebuild_lt_15s_from_package_cache": lite_rebuild["seconds"] < 15
        and all(lite_rebuild["package_steps_cached"].values()),
    }
    print(json.dumps(result, indent=2))
    return 0 if all(result["targets_met"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
