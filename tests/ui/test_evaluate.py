"""Evaluate, Compare and Load test from the Predict page, on real containers over real HTTP."""

from __future__ import annotations

import shutil
import time

import pytest
from PySide6.QtCore import Qt
from sklearn import metrics as sk

from tests.engine.evaluate_support import (  # noqa: F401  (fixtures)
    bad_server_fixture,
    digits_folder_fixture,
    litert_server_fixture,
    sklearn_server_fixture,
)
from tests.support.predict_page import predict_window_fixture, wait_target  # noqa: F401

pytestmark = [pytest.mark.engine, pytest.mark.timeout(1800)]  # the first run builds the demo images


def _finished(qtbot, dialog, timeout=120000) -> None:
    qtbot.waitUntil(lambda: not dialog.running, timeout=timeout)
    qtbot.waitUntil(lambda: not dialog.threads_alive(), timeout=15000)


def test_evaluate_from_the_window_equals_sklearn(qtbot, predict_window, sklearn_server, digits_folder, tmp_path):
    w = predict_window()
    page = w.predict_page
    wait_target(qtbot, page, sklearn_server["id"])
    dlg = page.open_evaluate()
    dlg.load(str(digits_folder["folder"]))
    qtbot.waitUntil(dlg.start_button.isEnabled, timeout=10000)
    assert "All 10 classes are labels of the model" in dlg.match_label.text()
    dlg.start()
    _finished(qtbot, dlg)
    board = dlg.board
    assert len(board.answers) == 297 and board.failed == 0
    truth = [a.truth for a in board.answers]
    pred = [a.predicted for a in board.answers]
    assert board.accuracy == pytest.approx(sk.accuracy_score(truth, pred)) and board.accuracy > 0.9
    theirs = sk.classification_report(truth, pred, output_dict=True, zero_division=0)
    assert dlg.report.rowCount() == 12
    assert dlg.report.rows[0] == ["0", f"{theirs['0']['precision']:.3f}", f"{theirs['0']['recall']:.3f}",
                                  f"{theirs['0']['f1-score']:.3f}", str(int(theirs["0"]["support"]))]
    assert f"Accuracy {board.accuracy:.1%}" in dlg.figures.text()
    assert "p50" in dlg.latency.text() and "p99" in dlg.latency.text()
    assert dlg.confusion.matrix == sk.confusion_matrix(truth, pred, labels=dlg.confusion.labels).tolist()
    # the surest mistakes are shown; a click on an off-diagonal cell with pictures lists them
    assert dlg.pictures.count() == min(24, len(board.mistakes(24)))
    cells = [(r, c) for r in range(10) for c in range(10) if r != c and dlg.confusion.matrix[r][c]]
    r, c = cells[0] if cells else (0, 0)
    index = dlg.confusion.index(r, c)
    rect = dlg.matrix_view.visualRect(index)
    qtbot.mouseClick(dlg.matrix_view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert dlg.pictures.count() == dlg.confusion.matrix[r][c]
    assert dlg.confusion.data(index, Qt.ItemDataRole.BackgroundRole) is not None
    report = tmp_path / "window.html"
    dlg.export(str(report))
    qtbot.waitUntil(lambda: (tmp_path / "window.csv").exists(), timeout=10000)
    text = report.read_text()
    assert "data:image/png;base64," in text and sklearn_server["name"] in text
    qtbot.waitUntil(lambda: not dlg.pictures.busy(), timeout=10000)
    dlg.close()


def test_unmatched_classes_and_bad_input_are_shown_before_the_run(qtbot, predict_window, sklearn_server,
                                                                  digits_folder, tmp_path):
    w = predict_window()
    page = w.predict_page
    wait_target(qtbot, page, sklearn_server["id"])
    dlg = page.open_evaluate()
    flat = tmp_path / "flat"
    flat.mkdir()
    (flat / "a.png").write_bytes(b"x")
    dlg.load(str(flat))
    qtbot.waitUntil(lambda: "no class folders" in dlg.data_label.text(), timeout=10000)
    assert not dlg.start_button.isEnabled()

    data = tmp_path / "data"
    shutil.copytree(digits_folder["folder"] / "3", data / "3")
    (data / "unicorn").mkdir()
    (data / "unicorn" / "fake.png").write_text("not a picture")
    dlg.load(str(data))
    qtbot.waitUntil(dlg.start_button.isEnabled, timeout=10000)
    assert "unicorn" in dlg.match_label.text() and "count as wrong" in dlg.match_label.text()
    dlg.start()
    _finished(qtbot, dlg)
    assert dlg.board.failed == 1 and dlg.board.answered == len(list((data / "3").iterdir()))
    assert "1 failed" in dlg.figures.text()
    dlg.close()


def test_compare_shows_where_the_models_disagree(qtbot, predict_window, sklearn_server, bad_server, digits_folder):
    w = predict_window()
    page = w.predict_page
    wait_target(qtbot, page, sklearn_server["id"])
    qtbot.waitUntil(lambda: any(t.name == bad_server["name"] for t in page.picker.targets), timeout=15000)
    dlg = page.open_compare()
    dlg.choose([sklearn_server["name"], bad_server["name"]])
    dlg.load(str(digits_folder["folder"]))
    qtbot.waitUntil(dlg.start_button.isEnabled, timeout=10000)
    dlg.start()
    qtbot.waitUntil(lambda: dlg.run is not None, timeout=20000)
    _finished(qtbot, dlg)
    c = dlg.comparison
    assert len(c.common()) == 297
    assert len(c.disagreements()) > 100
    assert dlg.pictures.count() == min(60, len(c.disagreements()))
    assert dlg.verdict.text().startswith(f"{sklearn_server['name']} is better") and "297 pictures" in dlg.verdict.text()
    assert dlg.agreement.rowCount() == 2 and dlg.per_target.rowCount() == 2
    dlg.close()


def test_load_test_sweeps_the_litert_container_and_cancels_at_once(qtbot, predict_window, litert_server,
                                                                   digits_folder):
    w = predict_window()
    page = w.predict_page
    wait_target(qtbot, page, litert_server["id"])
    dlg = page.open_load_test()
    dlg.levels.setText("1, 2, 4")
    dlg.seconds.setValue(1.0)
    dlg.folder = str(digits_folder["folder"])
    dlg.start()
    qtbot.waitUntil(lambda: dlg.stream is not None, timeout=10000)
    _finished(qtbot, dlg, timeout=30000)
    assert [r.concurrency for r in dlg.results] == [1, 2, 4]
    assert all(r.rps > 0 and r.requests > 0 and r.errors == 0 for r in dlg.results)
    assert dlg.table.rowCount() == 3 and dlg.plot.p95

    dlg.levels.setText("4, 8")
    dlg.seconds.setValue(60.0)
    dlg.start()
    qtbot.waitUntil(lambda: bool(dlg.running and dlg.plot.rps), timeout=10000)
    t0 = time.monotonic()
    dlg.cancel()
    qtbot.waitUntil(lambda: not dlg.threads_alive(), timeout=5000)
    assert time.monotonic() - t0 < 5
    assert "Cancelled" in dlg.status.text() or not dlg.results
    dlg.close()


def test_a_dropped_folder_is_read_as_labelled_data(qtbot, predict_window, sklearn_server, digits_folder):
    from PySide6.QtCore import QMimeData, QUrl

    from tests.support.predict_page import drop_mime

    w = predict_window()
    page = w.predict_page
    wait_target(qtbot, page, sklearn_server["id"])
    dlg = page.open_evaluate()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(digits_folder["folder"]))])
    assert drop_mime(dlg, mime)
    qtbot.waitUntil(dlg.start_button.isEnabled, timeout=10000)
    assert dlg.data_label.text().startswith("297 pictures in 10 classes")
    dlg.close()
