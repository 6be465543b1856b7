"""The pipeline command line on real containers: evaluate (figures equal scikit-learn's on the same
answers, the threshold's exit code, the report), predict, bench, bad input, and a quick start without Qt."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sklearn import metrics as sk

from tests.engine.evaluate_support import (  # noqa: F401  (fixtures)
    bad_server_fixture,
    digits_folder_fixture,
    litert_server_fixture,
    sklearn_server_fixture,
)

pytestmark = [pytest.mark.engine, pytest.mark.timeout(1800)]  # the first run builds the demo images
ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("QT_QPA_PLATFORM", None)  # no display needed, and none is asked for
    return subprocess.run([sys.executable, "-m", "gui", *args], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=ROOT)


def answers_csv(path: str) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_evaluate_container_by_name_equals_sklearn_and_writes_the_report(sklearn_server, digits_folder,
                                                                        tmp_path):
    report = tmp_path / "report.html"
    run = cli("evaluate", "--target", sklearn_server["name"], str(digits_folder["folder"]),
              "--min-accuracy", "0.9", "--report", str(report))
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)
    assert doc["items"] == 297 and doc["failed"] == 0 and doc["passed"] is True
    assert doc["target"]["container_id"] == sklearn_server["id"] and doc["target"]["protocol"] == "studio-v1"
    rows = answers_csv(str(tmp_path / "report.csv"))
    assert len(rows) == 297
    truth = [r["truth"] for r in rows]
    pred = [r["predicted"] for r in rows]
    # the truth is the folder's class, as the fixture wrote it
    expected = {os.path.relpath(p, digits_folder["folder"]): str(t) for p, t in digits_folder["items"]}
    assert {r["name"]: r["truth"] for r in rows} == expected
    assert doc["accuracy"] == pytest.approx(sk.accuracy_score(truth, pred))
    theirs = sk.classification_report(truth, pred, output_dict=True, zero_division=0)
    for label in [str(i) for i in range(10)] + ["macro avg", "weighted avg"]:
        for key in ("precision", "recall", "f1-score", "support"):
            assert doc["report"][label][key] == pytest.approx(theirs[label][key]), (label, key)
    labels = doc["confusion"]["labels"]
    assert doc["confusion"]["matrix"] == sk.confusion_matrix(truth, pred, labels=labels).tolist()
    assert all(doc["latency_ms"][k] > 0 for k in ("p50", "p95", "p99"))
    page = report.read_text()
    assert "data:image/png;base64," in page and sklearn_server["name"] in page and "Confusion matrix" in page
    assert json.loads((tmp_path / "report.json").read_text())["accuracy"] == doc["accuracy"]
    assert doc["timing"]["first_request_unix"] > 0


def test_bad_model_fails_the_pipeline_with_the_figure(bad_server, digits_folder):
    run = cli("evaluate", "--target", bad_server["name"], str(digits_folder["folder"]), "--min-accuracy", "0.9")
    assert run.returncode == 1, run.stderr
    doc = json.loads(run.stdout)
    assert doc["accuracy"] < 0.5 and doc["passed"] is False
    assert f"accuracy {doc['accuracy']:.2%} is below the required 90.00%" in run.stderr


def test_litert_by_url_protocol_detected(litert_server, digits_folder):
    run = cli("evaluate", "--target", litert_server["url"], str(digits_folder["folder"]), "--min-accuracy", "0.9")
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)
    assert doc["target"]["protocol"] == "studio-v1" and doc["answered"] == 297


def test_predict_gives_json_lines_and_bench_gives_throughput_per_level(litert_server, digits_folder):
    files = [p for p, _ in digits_folder["items"][:5]]
    run = cli("predict", "--target", litert_server["name"], *files, "--top-k", "2")
    assert run.returncode == 0, run.stderr
    lines = [json.loads(x) for x in run.stdout.splitlines()]
    assert [x["file"] for x in lines] == files and all(len(x["labels"]) == 2 for x in lines)

    run = cli("bench", "--target", litert_server["name"], "--concurrency", "1,2,4", "--seconds", "1",
              "--pictures", str(digits_folder["folder"]))
    assert run.returncode == 0, run.stderr
    levels = json.loads(run.stdout)["levels"]
    assert [lv["concurrency"] for lv in levels] == [1, 2, 4]
    assert all(lv["requests"] > 0 and lv["rps"] > 0 and lv["errors"] == 0 for lv in levels), levels


def test_bad_input_is_reported_per_item_and_the_run_goes_on(sklearn_server, digits_folder, tmp_path):
    flat = tmp_path / "flat"
    flat.mkdir()
    (flat / "a.png").write_bytes(b"x")
    run = cli("evaluate", "--target", sklearn_server["name"], str(flat))
    assert run.returncode == 3 and "no class folders" in run.stderr

    broken = tmp_path / "broken.png"
    broken.write_text("this is no picture")
    listing = tmp_path / "list.csv"
    good = digits_folder["items"][:20]
    rows = ["path,label"] + [f"{p},{t}" for p, t in good] + ["gone.png,3", f"{broken},4"]
    listing.write_text("\n".join(rows) + "\n")
    run = cli("evaluate", "--target", sklearn_server["name"], str(listing))
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)
    assert doc["items"] == 22 and doc["answered"] == 20 and doc["failed"] == 2
    errors = {e["name"]: e["error"] for e in doc["errors"]}
    assert "does not exist" in errors["gone.png"] and errors[str(broken)]
    assert "gone.png" in run.stderr

    run = cli("evaluate", "--target", "no-such-container-here", str(digits_folder["folder"]))
    assert run.returncode == 3 and "no container named" in run.stderr


def test_start_up_to_first_request_is_quick_and_loads_no_qt(litert_server, digits_folder):
    """Spawn to the first request sent to the model's server, by URL and by container name."""
    for target in (litert_server["url"], litert_server["name"]):
        best = None
        for _ in range(3):
            t0 = time.time()
            run = cli("evaluate", "--target", target, str(digits_folder["folder"]))
            assert run.returncode == 0, run.stderr
            seconds = json.loads(run.stdout)["timing"]["first_request_unix"] - t0
            best = seconds if best is None else min(best, seconds)
        assert best < 0.5, (target, best)
    code = ("import sys; sys.argv=['ai-container-studio','evaluate','--target','x','y'];"
            "import gui.cli, gui.evaluate.targets, gui.evaluate.report, gui.engine;"
            "print(sorted(m for m in sys.modules if m.startswith(('PySide6','shiboken6','qasync'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"
