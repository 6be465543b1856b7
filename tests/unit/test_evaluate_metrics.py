"""gui.evaluate: figures equal scikit-learn's on the same answers; data discovery; class matching; the
load sweep's bounds; the CLI path imports no Qt and no scikit-learn."""

from __future__ import annotations

import json
import math
import random
import subprocess
import sys
import threading
import time

import pytest
from sklearn import metrics as sk

from gui.evaluate import (
    Answer,
    DatasetError,
    LevelResult,
    LoadSweep,
    Scoreboard,
    load_dataset,
    match_labels,
    metrics,
)
from gui.evaluate.compare import Comparison


def _pairs(seed: int, n: int = 300, k: int = 10, names=None):
    rnd = random.Random(seed)
    names = names or [str(i) for i in range(k)]
    truth = [rnd.choice(names) for _ in range(n)]
    pred = [t if rnd.random() < 0.7 else rnd.choice(names + ["extra"]) for t in truth]
    return truth, pred


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_classification_report_equals_sklearn(seed):
    names = ["cat", "dog", "10", "2", "Zebra"] if seed == 2 else None
    truth, pred = _pairs(seed, names=names)
    ours = metrics.classification_report(truth, pred)
    theirs = sk.classification_report(truth, pred, output_dict=True, zero_division=0)
    assert ours.keys() == theirs.keys()
    assert ours["accuracy"] == pytest.approx(theirs["accuracy"], abs=1e-12)
    for label, row in theirs.items():
        if label == "accuracy":
            continue
        for key, value in row.items():
            assert ours[label][key] == pytest.approx(value, abs=1e-12), (label, key)
    labels = metrics.unique_labels(truth, pred)
    from sklearn.utils.multiclass import unique_labels

    assert labels == list(unique_labels(truth, pred))
    assert metrics.confusion_matrix(truth, pred) == sk.confusion_matrix(truth, pred).tolist()
    assert metrics.accuracy_score(truth, pred) == pytest.approx(sk.accuracy_score(truth, pred))


def test_class_never_predicted_or_never_true_scores_zero_as_sklearn():
    truth, pred = ["a", "a", "b", "b"], ["a", "c", "a", "a"]
    ours = metrics.classification_report(truth, pred)
    theirs = sk.classification_report(truth, pred, output_dict=True, zero_division=0)
    for label in ("a", "b", "c", "macro avg", "weighted avg"):
        for key in ("precision", "recall", "f1-score", "support"):
            assert ours[label][key] == pytest.approx(theirs[label][key])


def test_scoreboard_from_streamed_answers_equals_sklearn():
    truth, pred = _pairs(5, n=500)
    board = Scoreboard()
    for i, (t, p) in enumerate(zip(truth, pred, strict=True)):
        board.add(Answer(i, f"{i}.png", t, p, score=random.random(), ms=float(i % 17)))
    board.add(Answer(999, "broken.png", "3", error="the picture cannot be read", kind="picture"))
    assert board.failed == 1 and board.answered == 500
    assert board.accuracy == pytest.approx(sk.accuracy_score(truth, pred))
    labels, matrix = board.matrix()
    assert matrix == sk.confusion_matrix(truth, pred, labels=labels).tolist()
    theirs = sk.classification_report(truth, pred, output_dict=True, zero_division=0)
    assert board.report()["macro avg"]["f1-score"] == pytest.approx(theirs["macro avg"]["f1-score"])
    lat = board.latency()
    import numpy as np

    ms = [float(i % 17) for i in range(500)]
    for q in (50, 95, 99):
        assert lat[f"p{q}"] == pytest.approx(float(np.percentile(ms, q)))
    # asked again while more answers land (the window's refresh keeps its round trips sorted in between)
    for i in range(500, 800):
        board.add(Answer(i, f"{i}.png", "1", "1", ms=float((i * 7919) % 1000) / 3))
        if i % 97 == 0:
            board.latency()
    ms += [float((i * 7919) % 1000) / 3 for i in range(500, 800)]
    lat = board.latency()
    for q in (50, 95, 99):
        assert lat[f"p{q}"] == pytest.approx(float(np.percentile(ms, q)))
    assert lat["count"] == 800 and lat["max"] == max(ms) and lat["mean"] == pytest.approx(float(np.mean(ms)))
    cell = board.in_cell(labels[0], labels[1])
    assert len(cell) == matrix[0][1]
    mistakes = board.mistakes(5)
    assert all(not m.right for m in mistakes)
    assert [m.score for m in mistakes] == sorted((m.score for m in mistakes), reverse=True)
    json.dumps(board.summary())


def test_regression_scores_equal_sklearn():
    rnd = random.Random(3)
    truth = [rnd.uniform(-5, 50) for _ in range(200)]
    pred = [t + rnd.gauss(0, 3) for t in truth]
    r = metrics.regression_scores(truth, pred)
    assert r["mae"] == pytest.approx(sk.mean_absolute_error(truth, pred))
    assert r["rmse"] == pytest.approx(math.sqrt(sk.mean_squared_error(truth, pred)))
    assert r["r2"] == pytest.approx(sk.r2_score(truth, pred))
    assert metrics.r2_score([2, 2, 2], [2, 2, 2]) == sk.r2_score([2, 2, 2], [2, 2, 2])
    assert metrics.r2_score([2, 2, 2], [1, 2, 2]) == sk.r2_score([2, 2, 2], [1, 2, 2])


def test_folder_layout_csv_and_bad_input(tmp_path):
    for label in ("cat", "dog"):
        (tmp_path / "set" / label).mkdir(parents=True)
        for n in range(3):
            (tmp_path / "set" / label / f"{n}.png").write_bytes(b"x")
    (tmp_path / "set" / "notes.txt").write_text("hi")
    (tmp_path / "set" / "empty").mkdir()
    data = load_dataset(str(tmp_path / "set"))
    assert data.kind == "pictures" and data.classes == ("cat", "dog") and len(data.items) == 6
    assert any("notes.txt" in s for s in data.skipped) and any("empty" in s for s in data.skipped)

    flat = tmp_path / "flat"
    flat.mkdir()
    (flat / "a.png").write_bytes(b"x")
    with pytest.raises(DatasetError, match="no class folders"):
        load_dataset(str(flat))

    csv_path = tmp_path / "list.csv"
    csv_path.write_text("path,label\nset/cat/0.png,cat\nmissing.png,dog\n")
    data = load_dataset(str(csv_path))
    assert [i.problem for i in data.items][0] == ""
    assert "missing.png does not exist" in data.items[1].problem

    rows = tmp_path / "rows.csv"
    rows.write_text("a,b,target\n1,2,0\n3,x,1\n5,6,1\n")
    data = load_dataset(str(rows))
    assert data.kind == "rows" and data.features == ("a", "b")
    assert data.items[0].row == (1.0, 2.0) and "not a number" in data.items[1].problem


def test_class_names_are_matched_before_the_run():
    m = match_labels(["Golden_Retriever", "03-cat", "dog", "unicorn"], ["golden retriever", "cat", "dog", "fish"])
    assert m.mapping == {"Golden_Retriever": "golden retriever", "03-cat": "cat", "dog": "dog"}
    assert m.unmatched == ("unicorn",) and m.unused == ("fish",)
    assert "unicorn" in m.describe()
    assert match_labels(["0", "1"], [str(i) for i in range(10)]).exact


def test_comparison_states_which_is_better_and_on_how_many():
    c = Comparison(["good", "bad"])
    for i in range(10):
        c.add(Answer(i, f"{i}", "1", "1", target=0))
        c.add(Answer(i, f"{i}", "1", "1" if i < 3 else "2", target=1))
    c.add(Answer(10, "10", "1", error="timeout", kind="timeout", target=1))
    c.add(Answer(10, "10", "1", "1", target=0))
    assert len(c.disagreements()) == 7
    assert c.agreement()[0][1] == pytest.approx(0.3)
    assert "good is better" in c.verdict() and "10 pictures" in c.verdict()


def test_load_sweep_is_bounded_and_stops_at_once():
    calls = []

    def request(n):
        calls.append(n)
        time.sleep(0.002)

    sweep = LoadSweep(request, levels=(1, 3), seconds=5.0, max_requests=40)
    results = [s for s in sweep if isinstance(s, LevelResult)]
    assert [r.requests for r in results] == [40, 40] and len(calls) == 80
    assert all(r.rps > 0 and r.p50 is not None for r in results)

    slow = LoadSweep(lambda n: time.sleep(0.01), levels=(4, 8), seconds=30.0, max_requests=100000)
    t0 = time.monotonic()
    for step in slow:
        if step.elapsed > 0.3:
            slow.close()
    assert time.monotonic() - t0 < 1.5
    assert slow.join(1.0) and not slow.alive_threads()
    assert not [t for t in threading.enumerate() if t.name.startswith("loadtest-")]


def test_cli_path_imports_no_qt_and_no_sklearn():
    code = ("import sys; sys.argv=['ai-container-studio', 'evaluate', '--help'];"
            "import gui.app, gui.cli, gui.evaluate, gui.evaluate.report, gui.evaluate.targets;"
            "bad=[m for m in sys.modules if m.split('.')[0] in ('PySide6','qasync','sklearn','shiboken6')];"
            "print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
    run = subprocess.run([sys.executable, "-m", "gui", "evaluate", "--target", "127.0.0.1:9", "/nonexistent"],
                         capture_output=True, text=True)
    assert run.returncode == 3, run.stderr
    assert "does not exist" in run.stderr


class _FakeClient:
    """Stands in for a PredictionClient at its boundary (the engine tests use real servers)."""

    url = "http://fake"
    protocol = "studio-v1"

    def __init__(self, delay: float = 0.0, regression: bool = False):
        self.delay = delay
        self.regression = regression

    def predict_rows(self, rows):
        time.sleep(self.delay)
        return [sum(r) * 1.5 if self.regression else float(int(r[0]) % 2) for r in rows]

    def predict_image(self, data, top_k=1):
        from gui.predict import Prediction

        time.sleep(self.delay)
        return Prediction(labels=(str(len(data) % 2),), scores=(0.9,), round_trip_ms=self.delay * 1000)


def test_table_rows_are_scored_as_classes_or_numbers(tmp_path):
    from gui.evaluate import PredictionRun

    rows = tmp_path / "rows.csv"
    rows.write_text("a,b,label\n" + "".join(f"{n},{n + 1},{n % 2}\n" for n in range(150)) + "x,1,0\n")
    data = load_dataset(str(rows))
    board = Scoreboard()
    board.extend(PredictionRun([_FakeClient()], data.items, concurrency=3))
    assert board.answered == 150 and board.failed == 1 and board.accuracy == 1.0

    reg = tmp_path / "reg.csv"
    reg.write_text("a,b,target\n" + "".join(f"{n},{n},{n * 3 + (n % 3)}\n" for n in range(100)))
    data = load_dataset(str(reg))
    board = Scoreboard(regression=True)
    board.extend(PredictionRun([_FakeClient(regression=True)], data.items, regression=True))
    truth = [float(i.label) for i in data.items]
    pred = [sum(i.row) * 1.5 for i in data.items]
    scores = board.summary()["regression"]
    assert scores["mae"] == pytest.approx(sk.mean_absolute_error(truth, pred))
    assert scores["r2"] == pytest.approx(sk.r2_score(truth, pred))


def test_a_cancelled_run_stops_at_once_and_leaves_no_thread(tmp_path):
    from gui.evaluate import LabelledItem, PredictionRun

    pic = tmp_path / "p.png"
    pic.write_bytes(b"\x89PNG....")
    items = [LabelledItem(name=f"{n}", label="0", path=str(pic)) for n in range(5000)]
    run = PredictionRun([_FakeClient(delay=0.01)], items, concurrency=8)
    got = 0
    t0 = time.monotonic()
    for _ in run:
        got += 1
        if got == 50:
            run.close()
    assert time.monotonic() - t0 < 2 and got < 200
    assert run.join(1.0) and not run.alive_threads()


@pytest.mark.skipif(sys.platform != "linux", reason="nice is a per-thread attribute on Linux only")
def test_niced_run_lowers_only_its_request_threads(tmp_path):
    """The window's Evaluate runs its request threads below the UI thread's priority (the CLI does not)."""
    import os

    from gui.evaluate import LabelledItem, PredictionRun

    class Recording(_FakeClient):
        def __init__(self):
            super().__init__()
            self.nice = set()

        def predict_image(self, data, top_k=1):
            self.nice.add(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
            return super().predict_image(data, top_k)

    pic = tmp_path / "p.png"
    pic.write_bytes(b"\x89PNG....")
    items = [LabelledItem(name=f"{n}", label="0", path=str(pic)) for n in range(40)]
    base = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    for nice, expected in ((0, base), (5, min(19, base + 5))):
        client = Recording()
        assert len(list(PredictionRun([client], items, concurrency=3, nice=nice))) == 40
        assert client.nice == {expected}, (nice, client.nice)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == base  # the caller's own stays
