"""Cold start as a user sees it: spawn the app, time until the shown list has painted the engine's
contents, against a floor measured in the same run.

Sets up --images distinct images and --containers containers (--running running) on the real engine,
starts its own Xvfb and runs every program on it with the xcb platform, as on a desktop (--platform
offscreen to skip X). Then, --runs times, alternately:
  - the app: `python -m gui --quit-when-loaded`, which reports after the first paint of the shown
    list's viewport once both lists hold the engine's contents (gui/qt/shell/loaded_probe.py);
  - the floor: tests/perf/cold_start_floor.py, a bare PySide6 window making the same two list calls
    and stopping at the same point.
The clock runs in this process from spawn to the child's report line. The app's bytecode is compiled
first, as an install does. No run is left uncounted (the first one is also reported on its own). With --page-cache both (the default) the runs are done
twice: with a warm page cache, then with the page cache dropped before every spawn (root).
Prints one JSON object: medians, the app/floor ratio per page-cache mode, the child's peak RSS, and
the load average. Everything it makes carries the labels `ai-container-studio.bench` and
`ai-container-studio.test=<run id>` and is removed at the end (unless --keep).

    .venv/bin/python tests/perf/bench_cold_start.py [--runs 5] [--page-cache warm|dropped|both] [--keep]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import select
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

import docker  # noqa: E402

from gui.engine import resolve_engine  # noqa: E402
from tests.support.busybox import SLEEPER, build_busybox  # noqa: E402
from tests.support.labels import RUN_ID, TEST_LABEL  # noqa: E402

LABEL = "ai-container-studio.bench"
FLOOR = os.path.join(ROOT, "tests", "perf", "cold_start_floor.py")
RUN_TIMEOUT_S = 60


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def setup(api, n_images: int, n_containers: int, n_running: int) -> None:
    base = build_busybox(api)

    def build(i: int) -> None:
        df = f"FROM {base}\nLABEL {LABEL}=1 {TEST_LABEL}={RUN_ID} bench.n={i}\n".encode()
        tar = io.BytesIO()
        with tarfile.open(fileobj=tar, mode="w") as t:
            info = tarfile.TarInfo("Dockerfile")
            info.size = len(df)
            t.addfile(info, io.BytesIO(df))
        for chunk in api.build(fileobj=io.BytesIO(tar.getvalue()), custom_context=True,
                               tag=f"aics-bench/img-{RUN_ID}:{i}", rm=True, decode=True):
            if "error" in chunk:
                raise RuntimeError(chunk["error"])

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(build, range(n_images)))

    def create(i: int) -> None:
        c = api.create_container(base, list(SLEEPER), name=f"aics-bench-{RUN_ID}-{i}",
                                 labels={LABEL: "1", TEST_LABEL: RUN_ID})
        if i < n_running:
            api.start(c["Id"])

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(create, range(n_containers)))


def teardown(api) -> None:
    flt = {"label": f"{TEST_LABEL}={RUN_ID}"}
    for c in api.containers(all=True, filters=flt):
        api.remove_container(c["Id"], force=True)
    for i in api.images(filters=flt):
        api.remove_image(i["Id"], force=True)


def drop_page_cache() -> None:
    os.sync()
    with open("/proc/sys/vm/drop_caches", "w") as fh:
        fh.write("3\n")


def start_xvfb() -> tuple[subprocess.Popen, str]:
    """An Xvfb of our own; returns it and its DISPLAY."""
    if not shutil.which("Xvfb"):
        raise RuntimeError("Xvfb is not installed (apt-get install xvfb), or use --platform offscreen")
    r, w = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(w), "-screen", "0", "1920x1080x24", "-nolisten", "tcp"],
                            pass_fds=(w,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(w)
    with os.fdopen(r) as fh:
        number = fh.readline().strip()
    if not number:
        proc.kill()
        raise RuntimeError("Xvfb did not start")
    return proc, f":{number}"


def one_run(cmd: list[str], env: dict, drop_caches: bool) -> dict:
    if drop_caches:
        drop_page_cache()
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env)
    ready, _, _ = select.select([proc.stdout], [], [], RUN_TIMEOUT_S)
    line = proc.stdout.readline() if ready else ""
    loaded = time.perf_counter() - t0
    if not ready:
        proc.kill()
        raise RuntimeError(f"{cmd[1:3]} reported nothing in {RUN_TIMEOUT_S} s: {proc.stderr.read()[-1500:]}")
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if not line.startswith("loaded"):
        raise RuntimeError(f"{cmd[1:3]} did not report loaded (exit {proc.returncode}): {proc.stderr.read()[-1500:]}")
    counts = dict(kv.split("=") for kv in line.split()[2:])
    return {"loaded_s": loaded, "peak_rss_mb": usage.ru_maxrss / 1024,
            "images_shown": int(counts["images"]), "containers_shown": int(counts["containers"])}


def summary(runs: list[dict]) -> dict:
    times = [r["loaded_s"] for r in runs]
    return {"median_s": round(statistics.median(times), 3), "min_s": round(min(times), 3),
            "max_s": round(max(times), 3), "first_s": round(times[0], 3), "runs_s": [round(t, 3) for t in times],
            "median_peak_rss_mb": round(statistics.median(r["peak_rss_mb"] for r in runs), 1),
            "images_shown": runs[-1]["images_shown"], "containers_shown": runs[-1]["containers_shown"]}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--runs", type=int, default=5, help="runs of the app and of the floor, per page-cache mode")
    p.add_argument("--images", type=int, default=100)
    p.add_argument("--containers", type=int, default=300)
    p.add_argument("--running", type=int, default=50)
    p.add_argument("--page-cache", choices=("warm", "dropped", "both"), default="both",
                   help="dropped: drop the page cache before each spawn (root), a start right after boot")
    p.add_argument("--platform", choices=("xcb", "offscreen"), default="xcb")
    p.add_argument("--keep", action="store_true", help="keep the bench images and containers")
    args = p.parse_args()
    load_before = load()
    url = resolve_engine().url
    api = docker.APIClient(base_url=url, version="auto", timeout=300)
    t = time.perf_counter()
    xvfb = None
    state = tempfile.mkdtemp(prefix="aics-bench-state-")  # no saved window state or last engine
    env = {**os.environ, "QT_QPA_PLATFORM": args.platform, "XDG_STATE_HOME": state,
           "XDG_CONFIG_HOME": state}
    # Bytecode as an install has it (pip compiles on install): without it every start compiles the
    # app's ~150 modules, which a bare floor script never pays (PYTHONDONTWRITEBYTECODE is common in CI).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run([sys.executable, "-m", "compileall", "-q", os.path.join(ROOT, "gui"), FLOOR], env=env,
                   check=True, stdout=subprocess.DEVNULL)
    modes = ["warm", "dropped"] if args.page_cache == "both" else [args.page_cache]
    if "dropped" in modes and not os.access("/proc/sys/vm/drop_caches", os.W_OK):
        modes.remove("dropped")
    results: dict = {}
    try:
        setup(api, args.images, args.containers, args.running)
        setup_s = time.perf_counter() - t
        engine_images = len(api.images())
        engine_containers = len(api.containers(all=True))
        if args.platform == "xcb":
            xvfb, env["DISPLAY"] = start_xvfb()
        programs = {"app": [sys.executable, "-m", "gui", "--engine", url, "--quit-when-loaded"],
                    "floor": [sys.executable, FLOOR, "--engine", url]}
        for mode in modes:
            runs: dict[str, list[dict]] = {"app": [], "floor": []}
            for i in range(args.runs):
                order = ("app", "floor") if i % 2 == 0 else ("floor", "app")
                for name in order:
                    runs[name].append(one_run(programs[name], env, mode == "dropped"))
            app, floor = summary(runs["app"]), summary(runs["floor"])
            results[mode] = {"app": app, "floor": floor,
                             "app_to_floor": round(app["median_s"] / floor["median_s"], 2),
                             "load_average_after": load()}
    finally:
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait(5)
        shutil.rmtree(state, ignore_errors=True)
        if not args.keep:
            teardown(api)
    info = api.version()
    print(json.dumps({
        "benchmark": "cold_start",
        "method": "spawn -> the child's report after the first paint of the shown list with both lists "
                  "loaded; app and floor alternate; every run counted",
        "engine": f"{url} Docker {info['Version']}", "platform": args.platform,
        "images_on_engine": engine_images, "containers_on_engine": engine_containers,
        "running": args.running, "runs": args.runs, "setup_s": round(setup_s, 1), "bytecode": "precompiled",
        "page_cache_modes": modes, **results,
        "load_average_before": load_before, "cpus": os.cpu_count(),
        "targets": {"app_to_floor": 1.2, "peak_rss_mb": 150},
    }))


if __name__ == "__main__":
    main()
