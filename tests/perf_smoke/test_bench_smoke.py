"""Smoke runs of every benchmark in tests/perf: tiny arguments, one subprocess each, so none can rot.

Each must exit 0 and print one JSON object with the keys its report is read for. The figures
themselves are not checked here (a busy CI machine would make that flaky): the benchmarks measure,
these tests only keep them runnable. They need the engine (skip without one, fail under
REQUIRE_ENGINE=1); each benchmark labels and removes what it makes.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import docker
import pytest

from gui.engine import resolve_engine

ROOT = Path(__file__).resolve().parents[2]
PERF = ROOT / "tests" / "perf"


def run_bench(name: str, *args: str, timeout: float = 120) -> dict:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "QT_API": "pyside6"}
    proc = subprocess.Popen([sys.executable, "-X", "faulthandler", str(PERF / name), *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGABRT)  # faulthandler prints where every thread was
        out, err = proc.communicate(timeout=30)
        pytest.fail(f"{name} took over {timeout} s:\n{err[-6000:]}", pytrace=False)
    assert proc.returncode == 0, f"{name} exited {proc.returncode}:\n{err[-3000:]}"
    text = out.strip()
    try:
        report = json.loads(text)
    except json.JSONDecodeError:
        pytest.fail(f"{name} did not print one JSON object:\n{text[-2000:]}", pytrace=False)
    assert isinstance(report, dict)
    return report


def has_keys(report: dict, *paths: str) -> None:
    for path in paths:
        node = report
        for part in path.split("."):
            assert isinstance(node, dict) and part in node, f"no {path} in {json.dumps(report)[:1500]}"
            node = node[part]


def image_exists(tag: str) -> bool:
    api = docker.APIClient(base_url=resolve_engine().url, version="auto", timeout=30)
    try:
        api.inspect_image(tag)
        return True
    except docker.errors.ImageNotFound:
        return False
    finally:
        api.close()


def test_containers(engine_required):
    # 3 slots x (create, start, stop, start, stop, remove)
    r = run_bench("bench_containers.py", "--containers", "5", "--running", "2", "--ops", "18", "--slots", "3",
                  "--interval", "0.02", "--idle-seconds", "0.5")
    has_keys(r, "event_to_painted_row_ms.median", "by_op_ms.create", "by_op_ms.remove", "longest_ui_stall_ms",
             "idle_cpu_percent", "load_average.before")
    assert r["changes_seen"] + r["changes_missed"] == 18
    assert {op: r["by_op_ms"][op]["n"] + r["missed_by_op"][op] for op in r["missed_by_op"]} == \
        {"create": 3, "start": 6, "stop": 6, "remove": 3}
    assert r["running_at_idle"] == 2


def test_logs(engine_required):
    if not image_exists("python:3.11-slim"):
        pytest.skip("python:3.11-slim is not on this engine (the log writer's image)")
    r = run_bench("bench_logs.py", "--lines", "1000", "--timeout", "60")
    has_keys(r, "lag_ms.median", "lag_ms.max", "longest_ui_stall_ms", "load_average.before")
    assert r["lines_received"] == 1000
    assert r["unreadable_stamps"] == 0


def test_cold_start(engine_required):
    platform = "xcb" if shutil.which("Xvfb") else "offscreen"
    r = run_bench("bench_cold_start.py", "--runs", "1", "--images", "2", "--containers", "3", "--running", "1",
                  "--page-cache", "warm", "--platform", platform)
    has_keys(r, "warm.app.median_s", "warm.floor.median_s", "warm.app_to_floor", "load_average_before")
    assert r["warm"]["app"]["containers_shown"] >= 3  # ours (other runs may add theirs)


def test_build_log(engine_required):
    if not image_exists("python:3.11-slim"):
        pytest.skip("python:3.11-slim is not on this engine")
    r = run_bench("bench_build_log.py", "--lines", "1000")
    has_keys(r, "max_ui_stall_ms", "load_average_1min")
    assert r["status"] == "succeeded" and r["numeric_lines"] == 1000


def test_predict(engine_required):
    r = run_bench("bench_predict.py", "--drops", "1", "--batch", "3", "--runs", "1", "--pictures", "3",
                  "--models", "sklearn-image", "--server-seconds", "0.5", timeout=240)
    has_keys(r, "drop_to_painted_ms.median", "batch.longest_ui_stall_ms", "batch.while_late.where",
             "batch.idle_page_3s", "servers.sklearn-image.p99_ms",
             "docker_run_per_picture.sklearn-image.median_s", "pictures.formats", "load_average_before")
    assert r["batch"]["all_answered"], r["batch"]


def test_litert_arguments():
    """Its real run builds TensorFlow images (minutes): here only that it starts and parses."""
    proc = subprocess.run([sys.executable, str(PERF / "bench_litert.py"), "--help"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "--runs" in proc.stdout
