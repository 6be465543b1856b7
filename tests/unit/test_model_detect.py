"""gui.models.detect: real model files recognised by content, the template and form they choose, and
files that lie. The ONNX reader is checked against the `onnx` package's own parser."""

from __future__ import annotations

import json
import re
import zipfile

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from gui.models import NotAModel, inspect_model
from gui.models.onnx_graph import read_onnx
from tests.support.model_files import (
    IRIS_COLUMNS,
    save_column_onnx,
    save_joblib,
    save_malicious,
    save_onnx,
    save_pickle,
    save_skops,
    save_table_onnx,
    table_model,
)

DIGITS = tuple(str(i) for i in range(10))


def test_skl2onnx_digits_fills_the_onnx_image_form(tmp_path):
    path = save_onnx(tmp_path)
    info = inspect_model(path)
    assert (info.format, info.template, info.task) == ("onnx", "onnx-image", "image-classification")
    assert info.input_shape == (64,) and info.input_type == "float32"
    assert info.values == {"model": str(path), "height": 8, "width": 8, "channels": 1}
    assert info.labels == DIGITS and not info.needs_trust and info.scan is None
    assert "8x8 grey picture" in info.hints[0]
    assert "skl2onnx" in info.summary and "10 classes" in info.summary


def test_onnx_reader_agrees_with_the_onnx_package(tmp_path):
    for zipmap in (True, False):
        path = save_onnx(tmp_path, f"d{zipmap}.onnx", zipmap=zipmap)
        ours = read_onnx(path.read_bytes())
        theirs = onnx.load(str(path))
        assert ours.ir_version == theirs.ir_version
        assert ours.opsets == {(o.domain or "ai.onnx"): o.version for o in theirs.opset_import}
        assert [t.name for t in ours.inputs] == [i.name for i in theirs.graph.input]
        assert [t.name for t in ours.outputs] == [o.name for o in theirs.graph.output]
        dims = [d.dim_value or d.dim_param or None for d in theirs.graph.input[0].type.tensor_type.shape.dim]
        assert list(ours.inputs[0].shape) == dims


def _nchw_model(path, labels: str | None) -> None:
    """A tiny PyTorch-style graph: [N, 1, 28, 28] -> Flatten -> MatMul -> Softmax, 3 classes."""
    x = helper.make_tensor_value_info("pixels", TensorProto.FLOAT, ["batch", 1, 28, 28])
    y = helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["batch", 3])
    w = helper.make_tensor("w", TensorProto.FLOAT, [784, 3], np.zeros(784 * 3, dtype=np.float32))
    nodes = [helper.make_node("Flatten", ["pixels"], ["flat"]), helper.make_node("MatMul", ["flat", "w"], ["z"]),
             helper.make_node("Softmax", ["z"], ["probs"])]
    model = helper.make_model(helper.make_graph(nodes, "g", [x], [y], [w]), producer_name="pytorch",
                              opset_imports=[helper.make_opsetid("", 17)])
    if labels is not None:
        helper.set_model_props(model, {"labels": labels})
    onnx.save(model, str(path))


def test_an_nchw_picture_model_with_labels_in_its_metadata(tmp_path):
    path = tmp_path / "net.onnx"
    _nchw_model(path, "cat,dog,bird")
    info = inspect_model(path)
    assert info.template == "onnx-image" and info.input_shape == (1, 28, 28)
    assert info.values == {"model": str(path), "height": 28, "width": 28, "channels": 1}
    assert info.labels == ("cat", "dog", "bird") and info.hints == ()


def test_labels_txt_beside_the_model_fills_the_labels_field(tmp_path):
    path = tmp_path / "net.onnx"
    _nchw_model(path, None)
    assert any("labels.txt" in h for h in inspect_model(path).hints)
    (tmp_path / "labels.txt").write_text("a\nb\n\nc\n")
    info = inspect_model(path)
    assert info.values["labels"] == str(tmp_path / "labels.txt") and info.labels == ("a", "b", "c")


def test_pickles_joblib_and_skops_choose_sklearn_image(tmp_path):
    for save, fmt in ((save_pickle, "pickle"), (save_joblib, "joblib"), (save_skops, "skops")):
        path = save(tmp_path)
        info = inspect_model(path)
        assert (info.format, info.template) == (fmt, "sklearn-image"), fmt
        assert info.values == {"model": str(path), "height": 8, "width": 8, "channels": 1}, fmt
        assert info.scan is not None and info.scan.safe and not info.needs_trust, (fmt, info.scan.offending)
        assert "SVC" in info.summary and "64 input values" in info.summary


def test_a_regressor_chooses_sklearn_regression(tmp_path):
    import joblib
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import Ridge

    data = load_diabetes()
    path = tmp_path / "ridge.joblib"
    joblib.dump(Ridge().fit(data.data, data.target), path)
    info = inspect_model(path)
    assert (info.template, info.task) == ("sklearn-regression", "tabular-regression")
    assert "10 values a row" in info.hints[0]


def test_a_malicious_pickle_needs_trust_whatever_its_name(tmp_path):
    marker = tmp_path / "marker"
    for name in ("model.pkl", "model.joblib", "model.onnx"):
        info = inspect_model(save_malicious(tmp_path, marker, name))
        assert info.format == "pickle" and info.needs_trust, name
        assert "system" in info.risk()
    assert not marker.exists()


def test_a_skops_file_naming_an_unknown_type_needs_trust(tmp_path):
    path = tmp_path / "evil.skops"
    schema = {"__class__": "Runner", "__module__": "evilpkg.tools", "__loader__": "ObjectNode", "content": {
        "hook": {"__class__": "eval", "__module__": "builtins", "__loader__": "TypeNode"}}, "protocol": 2}
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("schema.json", json.dumps(schema))
    info = inspect_model(path)
    assert info.format == "skops" and info.needs_trust
    assert {g.qualname: g.verdict for g in info.scan.offending} == {"builtins.eval": "dangerous",
                                                                     "evilpkg.tools.Runner": "unknown"}


KERAS_CONFIG = {
    "module": "keras", "class_name": "Sequential", "config": {"name": "cnn", "layers": [
        {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [None, 8, 8, 1]}},
        {"module": "keras.layers", "class_name": "Conv2D", "config": {"filters": 8}},
        {"module": "keras.layers", "class_name": "Flatten", "config": {}},
        {"module": "keras.layers", "class_name": "Dense", "config": {"units": 10},
         "registered_name": None}]},  # as Keras 3 writes built-in layers
    "build_config": {"input_shape": [None, 8, 8, 1]},
}


def _keras_file(path, config) -> None:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("metadata.json", json.dumps({"keras_version": "3.11.3"}))
        z.writestr("config.json", json.dumps(config))
        z.writestr("model.weights.h5", b"\x89HDF\r\n\x1a\n" + b"\0" * 4000)


def test_keras_file_and_its_lambda_layer(tmp_path):
    path = tmp_path / "cnn.keras"
    _keras_file(path, KERAS_CONFIG)
    info = inspect_model(path)
    assert (info.format, info.template) == ("keras", "tensorflow-image")
    assert info.input_shape == (8, 8, 1) and "10 outputs" in info.summary and not info.needs_trust
    assert info.values == {"model": str(path), "height": 8, "width": 8, "channels": 1}
    config = json.loads(json.dumps(KERAS_CONFIG))
    config["config"]["layers"].insert(2, {"module": "keras.layers", "class_name": "Lambda",
                                          "config": {"name": "scale", "function": "gASV..."}})
    _keras_file(path, config)
    info = inspect_model(path)
    assert info.needs_trust and "Lambda" in info.risk()


def test_keras_h5_reads_the_model_config_in_the_file(tmp_path):
    path = tmp_path / "cnn.h5"
    text = json.dumps({"class_name": "Sequential", "config": KERAS_CONFIG["config"]}).encode()
    path.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 2000 + text + b"\0" * 500)
    info = inspect_model(path)
    assert (info.format, info.template, info.input_shape) == ("keras-h5", "tensorflow-image", (8, 8, 1))
    weights = tmp_path / "weights.h5"
    weights.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 2000)
    with pytest.raises(NotAModel, match="without a Keras model_config"):
        inspect_model(weights)


def test_saved_model_folder(tmp_path):
    (tmp_path / "sm").mkdir()
    (tmp_path / "sm" / "saved_model.pb").write_bytes(b"\x08\x01")
    info = inspect_model(tmp_path / "sm")
    assert (info.format, info.template) == ("savedmodel", "tensorflow-image") and info.hints


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: (d / "notes.onnx").write_text("this is text, not a graph\n") and d / "notes.onnx",
         "notes.onnx (named .onnx) is a text file, not a model"),
        (lambda d: (d / "e.onnx").write_bytes(b"") or d / "e.onnx", "is empty"),
        (lambda d: (d / "empty").mkdir() or d / "empty", "empty folder, not a SavedModel"),
        (lambda d: (d / "f").mkdir() or (d / "f" / "x.txt").write_text("x") and d / "f", "without saved_model.pb"),
        (lambda d: (d / "r.bin").write_bytes(bytes(range(256)) * 4) and d / "r.bin", "not a model"),
    ],
)
def test_files_that_lie(tmp_path, make, message):
    with pytest.raises(NotAModel, match=re.escape(message)):
        inspect_model(make(tmp_path))


def test_a_truncated_keras_file(tmp_path):
    path = tmp_path / "cnn.keras"
    _keras_file(path, KERAS_CONFIG)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(NotAModel, match="damaged zip file"):
        inspect_model(path)


def test_a_truncated_onnx_file(tmp_path):
    data = save_onnx(tmp_path).read_bytes()
    cut = tmp_path / "cut.onnx"
    cut.write_bytes(data[: len(data) // 3])
    with pytest.raises(NotAModel, match="neither ONNX"):
        inspect_model(cut)


def test_an_onnx_regressor_of_table_rows_chooses_onnx_tabular(tmp_path):
    path = save_table_onnx(tmp_path, "regressor")
    info = inspect_model(path)
    assert (info.template, info.task, info.input_shape) == ("onnx-tabular", "tabular-regression", (10,))
    assert info.values == {"model": str(path), "task": "tabular-regression",
                           "features": [f"x{i}" for i in range(10)]}
    assert info.labels == () and "10 values a row" in info.hints[0]
    (tmp_path / "features.txt").write_text("\n".join(table_model("regressor")[2]) + "\n")
    info = inspect_model(path)
    assert info.values["features"] == ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"]
    assert info.hints == ()


def test_an_onnx_classifier_of_table_rows_takes_its_feature_names_and_labels(tmp_path):
    names = table_model("classifier")[2]
    path = save_table_onnx(tmp_path, "classifier", metadata={"features": ",".join(names)})
    (tmp_path / "labels.txt").write_text("setosa\nversicolor\nvirginica\n")
    info = inspect_model(path)
    assert (info.template, info.task) == ("onnx-tabular", "tabular-classification")
    assert info.values == {"model": str(path), "task": "tabular-classification", "features": names,
                           "labels": str(tmp_path / "labels.txt")}
    assert info.labels == ("setosa", "versicolor", "virginica") and info.hints == ()
    # names that do not fit the input are left out, with a hint that says so
    info = inspect_model(save_table_onnx(tmp_path, "classifier", "three.onnx", metadata={"feature_names": "a,b,c"}))
    assert info.values["features"] == ["x0", "x1", "x2", "x3"]
    assert "feature_names) names 3 features but the model takes 4" in info.hints[0]


def test_a_square_row_is_a_picture_for_a_classifier_and_a_table_row_for_a_regressor(tmp_path):
    def linear(path, outputs: int) -> None:
        x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 64])
        y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", outputs])
        w = helper.make_tensor("w", TensorProto.FLOAT, [64, outputs], np.zeros(64 * outputs, dtype=np.float32))
        graph = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "g", [x], [y], [w])
        onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))

    linear(tmp_path / "scores.onnx", 10)
    linear(tmp_path / "value.onnx", 1)
    picture = inspect_model(tmp_path / "scores.onnx")
    assert picture.template == "onnx-image" and any("onnx-tabular" in h for h in picture.hints)
    table = inspect_model(tmp_path / "value.onnx")
    assert (table.template, table.task) == ("onnx-tabular", "tabular-regression")


def test_every_field_a_drop_fills_is_named_in_filled_fields(tmp_path):
    """The Build page resets FILLED_FIELDS to their defaults before a drop fills the form: a field a
    detector fills but the list lacks would keep an earlier model's value."""
    from gui.builder import get_template
    from gui.models.detect import FILLED_FIELDS

    (tmp_path / "labels.txt").write_text("a\nb\n")
    (tmp_path / "sm").mkdir()
    (tmp_path / "sm" / "saved_model.pb").write_bytes(b"\x08\x01")
    _keras_file(tmp_path / "cnn.keras", KERAS_CONFIG)
    _nchw_model(tmp_path / "net.onnx", None)
    files = [save_onnx(tmp_path), save_joblib(tmp_path), save_skops(tmp_path), tmp_path / "cnn.keras",
             tmp_path / "net.onnx", tmp_path / "sm", save_table_onnx(tmp_path, "regressor"),
             save_table_onnx(tmp_path, "classifier")]
    for path in files:
        info = inspect_model(path)
        template = get_template(info.template)
        assert set(info.values) <= set(FILLED_FIELDS), (path, info.values)
        assert set(info.values) <= {f.name for f in template.build_fields}, (path, info.values)


def test_a_graph_of_one_input_per_column_names_its_features_by_its_inputs(tmp_path):
    """skl2onnx from a DataFrame (initial_types of [None, 1] each): onnx-tabular, the inputs' names as the
    feature names; an int64 column is served too, a string column gets a hint that the build will fail."""
    info = inspect_model(save_column_onnx(tmp_path, "regressor"))
    names = table_model("regressor")[2]
    assert (info.template, info.task, info.input_shape) == ("onnx-tabular", "tabular-regression", (10,))
    assert info.values == {"model": info.path, "task": "tabular-regression", "features": names}
    assert "one input per column, 10 columns (float32, int64)" in info.summary and info.hints == ()
    (tmp_path / "labels.txt").write_text("setosa\nversicolor\nvirginica\n")
    info = inspect_model(save_column_onnx(tmp_path, "classifier"))
    assert (info.task, info.values["features"]) == ("tabular-classification", IRIS_COLUMNS)
    assert info.labels == ("setosa", "versicolor", "virginica") and info.hints == ()

    inputs = [helper.make_tensor_value_info("width", TensorProto.FLOAT, ["n", 1]),
              helper.make_tensor_value_info("city", TensorProto.STRING, ["n", 1]),
              helper.make_tensor_value_info("pair", TensorProto.FLOAT, ["n", 2])]
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 1])
    graph = helper.make_graph([helper.make_node("Identity", ["width"], ["y"])], "g", inputs, [y])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(tmp_path / "city.onnx"))
    info = inspect_model(tmp_path / "city.onnx")
    assert info.template == "onnx-tabular" and info.values["features"] == ["width", "city", "pair"]
    assert any("not numbers: city (string)" in h and "build will fail" in h for h in info.hints), info.hints
    assert any("not one column: pair [N, 2]" in h for h in info.hints), info.hints


def test_the_server_feeds_each_column_input_its_column():
    """backends.column_inputs / ColumnInput.feed, without ONNX Runtime: the types, shapes and whole numbers."""
    from types import SimpleNamespace as Input

    from tests.unit.test_skops_trust import server_backends

    backends = server_backends()
    columns = backends.column_inputs([Input(name="a", type="tensor(float)", shape=[None, 1]),
                                      Input(name="n", type="tensor(int64)", shape=["batch", 1]),
                                      Input(name="d", type="tensor(double)", shape=[None])])
    rows = np.array([[0.5, 3.0, 1.25], [1.5, -2.0, 2.5]])
    fed = [c.feed(rows[:, i]) for i, c in enumerate(columns)]
    assert [f.dtype.name for f in fed] == ["float32", "int64", "float64"]
    assert [f.shape for f in fed] == [(2, 1), (2, 1), (2,)]
    assert fed[1].ravel().tolist() == [3, -2]
    with pytest.raises(backends.ModelError, match="n takes whole numbers"):
        columns[1].feed(np.array([1.5, 2.0]))
    with pytest.raises(backends.ModelError, match=r"column city takes tensor\(string\) values.*only float, double and"):
        backends.column_inputs([Input(name="a", type="tensor(float)", shape=[None, 1]),
                                Input(name="city", type="tensor(string)", shape=[None, 1])])
    with pytest.raises(backends.ModelError, match="pair takes tensor\\(float\\) \\[None, 2\\], not one column"):
        backends.column_inputs([Input(name="a", type="tensor(float)", shape=[None, 1]),
                                Input(name="pair", type="tensor(float)", shape=[None, 2])])
