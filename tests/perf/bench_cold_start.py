"""Cold start as a user sees it: spawn the app, time until both lists show the engine's contents.

Sets up 100 distinct images and 300 containers (50 running) on the real engine, spawns
`python -m gui --quit-when-loaded` five times and prints one JSON object: the median time from
spawn to loaded, and the child's peak RSS (ru_maxrss). Everything it makes carries the label
`ai-container-studio.bench` and is removed at the end (unless --keep).

    .venv/bin/python tests/perf/bench_cold_start.py [--runs 5] [--keep]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

import docker  # noqa: E402

from gui.engine import resolve_engine  # noqa: E402
from tests.support.busybox import build_busybox  # noqa: E402

LABEL = "ai-container-studio.bench"


def setup(api, n_images: int, n_containers: int, n_running: int) -> None:
    base = build_busybox(api)
    have = {t for i in api.images(filters={"label": LABEL}) for t in (i.get("RepoTags") or [])}

    def build(i: int) -> None:
        tag = f"aics-bench/img:{i}"
        if tag in have:
            return
        df = f"FROM {base}\nLABEL {LABEL}=1 bench.n={i}\n".encode()
        tar = io.BytesIO()
        import tarfile

        with tarfile.open(fileobj=tar, mode="w") as t:
            info = tarfile.TarInfo("Dockerfile")
            info.size = len(df)
            t.addfile(info, io.BytesIO(df))
        for chunk in api.build(fileobj=io.BytesIO(tar.getvalue()), custom_context=True, tag=tag,
                               rm=True, decode=True):
            if "error" in chunk:
                raise RuntimeError(chunk["error"])

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(build, range(n_images)))
    existing = api.containers(all=True, filters={"label": LABEL})
    running = sum(1 for c in existing if c["State"] == "running")

    def create(i: int) -> None:
        c = api.create_container(base, ["sleep", "3600"], name=f"aics-bench-{i}", labels={LABEL: "1"})
        if i < n_running - running:
            api.start(c["Id"])

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(create, range(len(existing), n_containers)))


def teardown(api) -> None:
    flt = {"label": LABEL}
    for c in api.containers(all=True, filters=flt):
        api.remove_container(c["Id"], force=True)
    for i in api.images(filters=flt):
        api.remove_image(i["Id"], force=True)


def drop_page_cache() -> None:
    os.sync()
    with open("/proc/sys/vm/drop_caches", "w") as fh:
        fh.write("3\n")


def one_run(engine_url: str, drop_caches: bool = False) -> dict:
    if drop_caches:
        drop_page_cache()
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "gui", "--engine", engine_url, "--quit-when-loaded"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT, env=env)
    line = proc.stdout.readline()
    loaded = time.perf_counter() - t0
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    exited = time.perf_counter() - t0
    if not line.startswith("loaded"):
        raise RuntimeError(f"the app did not report loaded (exit {proc.returncode})")
    counts = dict(kv.split("=") for kv in line.split()[2:])
    return {"loaded_s": loaded, "exit_s": exited, "peak_rss_mb": usage.ru_maxrss / 1024,
            "images_shown": int(counts["images"]), "containers_shown": int(counts["containers"])}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--images", type=int, default=100)
    p.add_argument("--containers", type=int, default=300)
    p.add_argument("--running", type=int, default=50)
    p.add_argument("--keep", action="store_true", help="keep the bench images and containers")
    p.add_argument("--drop-caches", action="store_true",
                   help="drop the page cache before each run (root): a start right after boot")
    args = p.parse_args()
    url = resolve_engine().url
    api = docker.APIClient(base_url=url, version="auto", timeout=300)
    t = time.perf_counter()
    setup(api, args.images, args.containers, args.running)
    setup_s = time.perf_counter() - t
    try:
        one_run(url)  # a first start, not counted: compiles .pyc files
        runs = [one_run(url, args.drop_caches) for _ in range(args.runs)]
    finally:
        if not args.keep:
            teardown(api)
    info = api.version()
    print(json.dumps({
        "benchmark": "cold_start",
        "engine": f"{url} Docker {info['Version']}",
        "images_on_engine": args.images, "containers_on_engine": args.containers, "running": args.running,
        "runs": args.runs, "page_cache": "dropped before each run" if args.drop_caches else "warm",
        "median_loaded_s": round(statistics.median(r["loaded_s"] for r in runs), 3),
        "max_loaded_s": round(max(r["loaded_s"] for r in runs), 3),
        "median_exit_s": round(statistics.median(r["exit_s"] for r in runs), 3),
        "median_peak_rss_mb": round(statistics.median(r["peak_rss_mb"] for r in runs), 1),
        "max_peak_rss_mb": round(max(r["peak_rss_mb"] for r in runs), 1),
        "images_shown": runs[-1]["images_shown"], "containers_shown": runs[-1]["containers_shown"],
        "setup_s": round(setup_s, 1),
        "targets": {"loaded_s": 1.0, "peak_rss_mb": 150},
    }))


if __name__ == "__main__":
    main()
