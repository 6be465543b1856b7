"""Bring your own model on the Build page (issue 14): a model file dropped on the page chooses the
template and fills the form; the image it builds answers; a pickle that would run code is refused
until the user trusts it by name, and the app itself never runs it."""

from __future__ import annotations

import io
import json
import os
import pickle
import time
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from sklearn.datasets import load_digits

from tests.support.build_page import build_window_fixture, tags_fixture  # noqa: F401  (register fixtures)
from tests.support.labels import RUN_ID, TEST_LABEL
from tests.support.model_files import (
    TEST_ROWS,
    save_column_onnx,
    save_joblib,
    save_malicious,
    save_onnx,
    save_skops,
    save_table_onnx,
    table_model,
)
from tests.support.templates import http, run_container, wait_for

LEFT = Qt.MouseButton.LeftButton


def drop(page, path) -> None:
    """A drag-enter and a drop of the file's URL, as a file manager sends them, given to the page's drop
    filter (QApplication.sendEvent of a drop without a real drag does not reach it offscreen)."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    assert page.acceptDrops()
    with warnings.catch_warnings():  # PySide6 marks the QPoint form deprecated; the QPointF one is not bound
        warnings.simplefilter("ignore", DeprecationWarning)
        enter = QDragEnterEvent(QPoint(20, 20), Qt.DropAction.CopyAction, mime, LEFT, Qt.KeyboardModifier.NoModifier)
    assert page.model_drop.eventFilter(page, enter) and enter.isAccepted()
    event = QDropEvent(QPointF(20, 20), Qt.DropAction.CopyAction, mime, LEFT, Qt.KeyboardModifier.NoModifier)
    assert page.model_drop.eventFilter(page, event) and event.isAccepted()


def read(qtbot, page, path) -> None:
    drop(page, path)
    qtbot.waitUntil(lambda: page.model_drop.stream is None, timeout=60000)


def build(qtbot, page) -> object:
    assert page.build_button.isEnabled(), page.build_button.toolTip()
    with qtbot.waitSignal(page.buildFinished, timeout=400000) as finished:
        qtbot.mouseClick(page.build_button, LEFT)
    outcome = finished.args[0]
    assert outcome.status == "succeeded", page.status.text() + "\n" + "\n".join(page.log.texts[-20:])
    return outcome


def digit_png(row: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.round(row.reshape(8, 8) * 255 / 16).astype(np.uint8), "L").save(buf, "PNG")
    return buf.getvalue()


def accuracy(docker_api, tag: str, name: str) -> float:
    cid, ports = run_container(docker_api, tag, {TEST_LABEL: RUN_ID}, name, ports={8080: 0})
    try:
        base = f"http://127.0.0.1:{ports[8080]}"
        wait_for(f"{base}/health", docker_api, cid, timeout=90)
        digits = load_digits()

        def ask(i):
            status, body = http("POST", f"{base}/predict", digit_png(digits.data[i]), {"Content-Type": "image/png"})
            assert status == 200, body
            return body["predictions"][0]["label"] == str(digits.target[i])

        with ThreadPoolExecutor(8) as pool:
            return sum(pool.map(ask, TEST_ROWS)) / len(TEST_ROWS)
    finally:
        docker_api.remove_container(cid, force=True)


@pytest.mark.parametrize(
    ("save", "template", "fmt"),
    [(save_onnx, "onnx-image", "onnx"), (save_joblib, "sklearn-image", "joblib"),
     (save_skops, "sklearn-image", "skops")],
)
def test_dropped_digits_model_picks_its_template_builds_and_answers(
    window, qtbot, docker_api, tags, tmp_path, unique_name, save, template, fmt
):
    page = window.build_page
    page.set_template("python-app")
    path = save(tmp_path)
    read(qtbot, page, path)
    md = page.model_drop
    assert md.info is not None and md.info.format == fmt, md.summary.text()
    assert page.template.name == template
    values = page.template.clean_build(page.form.build_values())
    assert (values["model"], values["width"], values["height"], values["channels"]) == (str(path), 8, 8, 1)
    assert values["name"] == "digits" and values["tag"] == "aics/digits:latest"
    assert "8x8 grey picture" in md.hints.text() and md.hints.isVisible()
    assert not md.trust.isVisible()
    if fmt != "onnx":
        assert "known safe: " in md.globals.text() and "sklearn.svm._classes.SVC" in md.globals.text()
    # What the hint asks for: load_digits' scale and polarity.
    tag = tags(fmt)
    page.form.set_values({"input_max": 16.0, "polarity": "light-on-dark", "tag": tag,
                          "labels_extra": f"{TEST_LABEL}={RUN_ID}"})
    build(qtbot, page)
    assert page.history.records[0].trusted == ""
    assert accuracy(docker_api, tag, unique_name(fmt)) >= 0.90


def test_malicious_pickle_is_refused_until_trusted_and_never_runs_here(window, qtbot, docker_api, tags, tmp_path):
    page = window.build_page
    marker = tmp_path / "marker-made-by-the-pickle"
    path = save_malicious(tmp_path, marker, "digits.pkl")
    read(qtbot, page, path)
    md = page.model_drop
    system = f"{os.system.__module__}.system"
    assert page.template.name == "sklearn-image" and page.form.build_values()["model"] == str(path)
    assert f"dangerous</b>: {system} (called)" in md.globals.text()
    assert md.trust.isVisible() and not md.trust.isChecked() and system in md.trust.text()
    assert not page.build_button.isEnabled()
    assert system in page.reason.text() and "I trust this file" in page.reason.text()
    tag = tags("trusted")
    page.form.set_values({"tag": tag, "labels_extra": f"{TEST_LABEL}={RUN_ID}"})
    assert not page.build_button.isEnabled()
    qtbot.mouseClick(md.trust, LEFT, pos=QPoint(8, md.trust.height() // 2))
    assert md.trust.isChecked() and page.build_button.isEnabled(), page.build_button.toolTip()
    build(qtbot, page)
    record = page.history.records[0]
    assert system in record.trusted
    qtbot.waitUntil(lambda: page.store.path.exists() and system in page.store.path.read_text(), timeout=10000)
    stored = json.loads(page.store.path.read_text())["builds"][0]
    assert stored["tag"] == tag and system in stored["trusted"]
    # The file reached the image as bytes; nothing in this process unpickled it.
    assert docker_api.inspect_image(tag)["Config"]["Labels"][TEST_LABEL] == RUN_ID
    assert not marker.exists()
    # Another model: the trust does not carry over.
    read(qtbot, page, save_malicious(tmp_path, marker, "other.pkl"))
    assert not md.trust.isChecked() and not page.build_button.isEnabled()
    assert not marker.exists()


def test_files_that_lie_are_named_and_block_nothing_else(window, qtbot, tmp_path):
    page = window.build_page
    page.set_template("python-app")
    fake = tmp_path / "model.onnx"
    fake.write_text("I am a text file\n")
    read(qtbot, page, fake)
    md = page.model_drop
    assert md.info is None and "is a text file, not a model" in md.summary.text()
    assert md.summary.property("role") == "error"
    assert page.template.name == "python-app"
    (tmp_path / "empty").mkdir()
    read(qtbot, page, tmp_path / "empty")
    assert "empty folder" in md.summary.text()


def test_a_model_chosen_in_the_form_is_scanned_too(window, qtbot, tmp_path):
    page = window.build_page
    page.set_template("sklearn-image")
    path = save_malicious(tmp_path, tmp_path / "marker", "chosen.joblib")
    page.form.set_values({"model": str(path)})
    qtbot.waitUntil(lambda: page.model_drop.info is not None, timeout=30000)
    assert page.model_drop.info.needs_trust and not page.build_button.isEnabled()
    assert page.template.name == "sklearn-image"  # a model chosen by hand keeps the template


def test_a_100_mb_pickle_is_scanned_off_the_ui_thread_with_progress(window, qtbot, tmp_path):
    page = window.build_page
    path = tmp_path / "big.pkl"
    with open(path, "wb") as f:  # many arrays: the scan walks ~2,000 opcodes a MB
        pickle.dump({f"w{i}": np.full(50_000, i, dtype=np.float64) for i in range(250)}, f, protocol=4)
    assert path.stat().st_size > 100_000_000
    seen = []
    ticks = []
    timer_start = time.perf_counter()
    page.model_drop.progress.valueChanged.connect(seen.append)
    drop(page, path)
    assert page.model_drop.progress.isVisible()

    def alive():
        ticks.append(time.perf_counter())
        return page.model_drop.stream is None

    qtbot.waitUntil(alive, timeout=60000)
    seconds = time.perf_counter() - timer_start
    info = page.model_drop.info
    assert info is not None and info.scan.safe and info.scan.complete
    assert len(seen) >= 5 and seen == sorted(seen), seen
    gaps = [b - a for a, b in zip(ticks, ticks[1:], strict=False)]
    assert max(gaps, default=0) < 0.5, (max(gaps), seconds)  # the UI thread kept turning
    print(f"100 MB pickle: scanned in {info.scan.seconds:.2f} s, UI waited {seconds:.2f} s, longest gap "
          f"{max(gaps, default=0) * 1000:.0f} ms")


def choose_in_dialog(qtbot, page, button: str, path) -> None:
    """Click the button, then choose `path` in the real (non-native) dialog it opens and accept it."""
    from PySide6.QtWidgets import QFileDialog, QPushButton

    md = page.model_drop
    qtbot.mouseClick(page.findChild(QPushButton, button), LEFT)
    dlg = md.dialog
    assert isinstance(dlg, QFileDialog) and dlg.isVisible()
    dlg.setDirectory(str(path.parent))
    dlg.selectFile(str(path))
    dlg.accept()
    qtbot.waitUntil(lambda: md.stream is None and (md.info is not None or md.error is not None), timeout=30000)


def test_open_model_folder_takes_a_saved_model_folder_as_a_drop_does(window, qtbot, tmp_path):
    from PySide6.QtWidgets import QFileDialog

    page = window.build_page
    page.set_template("python-app")
    md = page.model_drop
    folder = tmp_path / "My Net"
    folder.mkdir()
    (folder / "saved_model.pb").write_bytes(b"\x08\x01")
    (folder / "variables").mkdir()
    (folder / "labels.txt").write_text("cat\ndog\n")

    choose_in_dialog(qtbot, page, "openModelFolder", folder)
    assert md.dialog.fileMode() == QFileDialog.FileMode.Directory
    assert md.error is None and md.info.format == "savedmodel" and md.info.path == str(folder)
    assert page.template.name == "tensorflow-image"
    values = page.form.build_values()
    assert values["model"] == str(folder) and values["name"] == "my-net" and values["labels"] == str(folder / "labels.txt")

    # The file dialog: saved_model.pb stands for its folder; the model filter offers it.
    page.set_template("python-app")
    choose_in_dialog(qtbot, page, "openModel", folder / "saved_model.pb")
    assert md.dialog.fileMode() == QFileDialog.FileMode.ExistingFile
    assert "saved_model.pb" in md.dialog.nameFilters()[0]
    assert md.info.path == str(folder) and page.template.name == "tensorflow-image"

    # A folder that is no SavedModel: a sentence, and the form is left as it was.
    page.set_template("python-app")
    plain = tmp_path / "pictures"
    plain.mkdir()
    (plain / "a.png").write_bytes(b"\x89PNG")
    choose_in_dialog(qtbot, page, "openModelFolder", plain)
    assert md.info is None and "pictures is a folder without saved_model.pb" in md.summary.text()
    assert md.summary.property("role") == "error" and page.template.name == "python-app"


def test_dropped_onnx_model_of_table_rows_picks_onnx_tabular_with_its_features(window, qtbot, tmp_path):
    page = window.build_page
    page.set_template("python-app")
    names = table_model("classifier")[2]
    path = save_table_onnx(tmp_path, "classifier", "Iris Flowers.onnx", metadata={"features": ",".join(names)})
    (tmp_path / "labels.txt").write_text("setosa\nversicolor\nvirginica\n")
    read(qtbot, page, path)
    md = page.model_drop
    assert md.info is not None and md.info.format == "onnx", md.summary.text()
    assert page.template.name == "onnx-tabular" and "input X float32 [N, 4]" in md.summary.text()
    values = page.template.clean_build(page.form.build_values())
    assert values["model"] == str(path) and values["task"] == "tabular-classification"
    assert values["features"] == names and values["labels"] == str(tmp_path / "labels.txt")
    assert values["name"] == "iris-flowers" and values["tag"] == "aics/iris-flowers:latest"
    assert not md.hints.isVisible() and md.problems() == [] and page.build_button.isEnabled()

    # A regressor without names: regression, and as many features as the graph takes, named x0, x1, ...
    path = save_table_onnx(tmp_path, "regressor")
    read(qtbot, page, path)
    values = page.template.clean_build(page.form.build_values())
    assert page.template.name == "onnx-tabular" and values["task"] == "tabular-regression"
    assert values["features"] == [f"x{i}" for i in range(10)] and values["model"] == str(path)
    assert md.hints.isVisible() and "takes 10 values a row" in md.hints.text()

    # One input per column (skl2onnx from a DataFrame): the inputs' names are the features, nothing to check.
    path = save_column_onnx(tmp_path, "regressor")
    read(qtbot, page, path)
    values = page.template.clean_build(page.form.build_values())
    assert page.template.name == "onnx-tabular" and "one input per column, 10 columns" in md.summary.text()
    assert values["features"] == table_model("regressor")[2] and values["task"] == "tabular-regression"
    assert not md.hints.isVisible() and md.problems() == [] and page.build_button.isEnabled()


def test_trusting_a_skops_file_fills_the_types_the_image_will_load(window, qtbot, tags, tmp_path):
    """The tick on a .skops file also puts its refused types into Trusted model types (the build writes them
    beside the model, tests/engine/test_serving_hardening.py builds one), and the build history keeps them."""
    from tests.unit.test_skops_trust import clipped

    page = window.build_page
    md = page.model_drop
    read(qtbot, page, clipped(tmp_path))
    assert md.info.format == "skops" and md.info.needs_trust and page.template.name == "sklearn-regression"
    assert "numpy.clip" in md.trust.text() and not page.build_button.isEnabled()
    assert page.form.build_values()["trusted_types"] == ""
    md.trust.setChecked(True)
    assert page.form.build_values()["trusted_types"] == "numpy.clip"
    md.trust.setChecked(False)
    assert page.form.build_values()["trusted_types"] == "" and not page.build_button.isEnabled()
    md.trust.setChecked(True)
    page.form.set_values({"tag": tags("skops-trust"), "labels_extra": f"{TEST_LABEL}={RUN_ID}"})
    qtbot.waitUntil(page.build_button.isEnabled, timeout=10000)
    qtbot.mouseClick(page.build_button, LEFT)
    record = page.record
    assert record.trusted_types == ["numpy.clip"] and "numpy.clip" in record.trusted
    assert record.to_json()["trusted_types"] == ["numpy.clip"]
    page.cancel_build()
    qtbot.waitUntil(lambda: page.runner is None, timeout=60000)

    # Another model: the tick and the types it filled go with the old one.
    read(qtbot, page, save_joblib(tmp_path))
    assert not md.trust.isChecked() and "trusted_types" in page.form.build_values()
    assert page.form.build_values()["trusted_types"] == ""


def _free_size_picture_model(path) -> None:
    """A picture graph [N, 3, height, width] whose size the file leaves free (a fully convolutional net)."""
    from onnx import TensorProto, helper, save

    x = helper.make_tensor_value_info("pixels", TensorProto.FLOAT, ["batch", 3, "height", "width"])
    y = helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["batch", 3])
    nodes = [helper.make_node("GlobalAveragePool", ["pixels"], ["pooled"]),
             helper.make_node("Flatten", ["pooled"], ["flat"]), helper.make_node("Softmax", ["flat"], ["probs"])]
    save(helper.make_model(helper.make_graph(nodes, "g", [x], [y]), opset_imports=[helper.make_opsetid("", 17)]),
         str(path))


def test_a_second_model_leaves_nothing_of_the_first_in_the_form(window, qtbot, tmp_path):
    """Each field a drop fills and the new model does not goes back to the template's default (the first
    model's labels file, picture size, feature names); what the user typed in fields no drop fills stays."""
    from tests.unit.test_model_detect import _nchw_model

    page = window.build_page
    md = page.model_drop
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    iris = save_table_onnx(first, "classifier", "iris.onnx", metadata={"features": "a,b,c,d"})
    (first / "labels.txt").write_text("setosa\nversicolor\nvirginica\n")
    read(qtbot, page, iris)
    assert page.template.name == "onnx-tabular" and page.form.build_values()["labels"] == str(first / "labels.txt")
    page.form.set_values({"version": "2.1.0", "max_body_mb": 7, "labels_extra": "team=tables"})

    read(qtbot, page, save_table_onnx(second, "regressor", "diabetes.onnx"))
    values = page.template.clean_build(page.form.build_values())
    assert page.template.name == "onnx-tabular" and md.info.path == str(second / "diabetes.onnx")
    assert values["labels"] == "" and values["task"] == "tabular-regression"
    assert values["features"] == [f"x{i}" for i in range(10)]
    assert values["name"] == "diabetes" and values["tag"] == "aics/diabetes:latest"
    assert (values["version"], values["max_body_mb"], values["labels_extra"]) == ("2.1.0", 7, {"team": "tables"})

    # Pictures: a 28x28 model with labels, another template between, then a model whose size is free.
    _nchw_model(first / "net.onnx", None)
    read(qtbot, page, first / "net.onnx")
    values = page.template.clean_build(page.form.build_values())
    assert page.template.name == "onnx-image" and (values["height"], values["width"], values["channels"]) == (28, 28, 1)
    assert values["labels"] == str(first / "labels.txt")
    page.set_template("python-app")  # the page keeps onnx-image's edits and restores them when it comes back
    _free_size_picture_model(second / "fcn.onnx")
    read(qtbot, page, second / "fcn.onnx")
    values = page.template.clean_build(page.form.build_values())
    defaults = page.template.defaults()
    assert page.template.name == "onnx-image" and values["model"] == str(second / "fcn.onnx")
    assert (values["height"], values["width"], values["channels"]) == (
        defaults["height"], defaults["width"], defaults["channels"])
    assert values["labels"] == "" and "check Input width, height and channels" in md.hints.text()


def test_a_model_dropped_while_another_is_scanned_replaces_it(window, qtbot, tmp_path):
    """The scan of the first file stops (its generator is running on the worker: stopping it must not close
    it from the UI thread) and the form describes the second; nothing of the stopped scan arrives after."""
    page = window.build_page
    md = page.model_drop
    big = tmp_path / "big.pkl"
    with open(big, "wb") as f:
        pickle.dump({f"w{i}": np.full(50_000, i, dtype=np.float64) for i in range(250)}, f, protocol=4)
    iris = save_table_onnx(tmp_path, "classifier", "iris.onnx")
    opened = []

    def on_progress(value: int) -> None:  # the first tick of the scan: the worker is scanning on
        if value > 0 and not opened:
            opened.append(value)
            assert md.reading == str(big)
            md.open_model(str(iris))

    md.progress.valueChanged.connect(on_progress)
    try:
        drop(page, big)
        qtbot.waitUntil(lambda: md.stream is None and bool(opened), timeout=60000)  # a slot's exception fails the test
    finally:
        md.progress.valueChanged.disconnect(on_progress)
    assert md.info is not None and md.info.path == str(iris) and md.error is None
    assert page.template.name == "onnx-tabular" and page.form.build_values()["model"] == str(iris)
    qtbot.wait(300)
    assert md.info.path == str(iris) and not md.progress.isVisible() and md.stream is None
