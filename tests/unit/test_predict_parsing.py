"""Reading metadata and answers of the three protocols, and the user's overrides (no server)."""

from __future__ import annotations

import pytest

from gui.predict import ModelMetadata, Overrides, PredictError, studio, tfserving
from gui.predict import open_inference as v2
from gui.predict.client import apply_overrides, check_rows, flat, ranked


def test_studio_metadata_image_and_tabular():
    image = studio.parse_metadata(
        {
            "name": "digits",
            "version": "3",
            "task": "image-classification",
            "labels": [0, 1, 2],
            "input": {"kind": "image", "width": 28, "height": 28, "channels": 1, "scaling": "-1..1"},
            "protocols": ["studio-v1", "v2"],
        }
    )
    assert (image.width, image.height, image.channels, image.scaling) == (28, 28, 1, "-1..1")
    assert image.labels == ("0", "1", "2") and image.input_kind == "image" and image.protocol == "studio-v1"
    table = studio.parse_metadata(
        {"name": "house", "input": {"kind": "tabular", "features": ["rooms", "age"]}}
    )
    assert table.input_kind == "tabular" and table.features == ("rooms", "age") and table.width is None
    with pytest.raises(PredictError, match="bad input width: 'wide'"):
        studio.parse_metadata({"input": {"kind": "image", "width": "wide"}})


def test_studio_metadata_feature_ranges_are_optional_and_bad_entries_skipped():
    doc = {
        "name": "diabetes",
        "input": {
            "kind": "tabular",
            "features": ["age", "bmi", "s1"],
            "feature_ranges": [
                {"name": "age", "min": -0.107, "max": 0.111, "mean": 0.0},
                {"name": "bmi", "min": "-0.09", "max": 0.17, "mean": 1e-17},  # numbers as text are read
                {"name": "s1", "min": 1.0, "max": 0.0, "mean": 0.5},  # min above max: skipped
                {"name": "s2", "min": float("nan"), "max": 1, "mean": 0},
                {"min": 0, "max": 1, "mean": 0},
                "s3",
            ],
        },
    }
    meta = studio.parse_metadata(doc)
    assert [(r.name, r.min, r.max) for r in meta.feature_ranges] == [("age", -0.107, 0.111), ("bmi", -0.09, 0.17)]
    assert meta.feature_range("bmi").mean == 1e-17 and meta.feature_range("s1") is None
    assert meta.features == ("age", "bmi", "s1")  # the list of names is unchanged
    for ranges in (None, "wide", {"age": [0, 1]}):
        doc["input"]["feature_ranges"] = ranges
        assert studio.parse_metadata(doc).feature_ranges == ()
    image = {"input": {"kind": "image", "width": 8, "height": 8, "channels": 1, "feature_ranges": [
        {"name": "x", "min": 0, "max": 1, "mean": 0}]}}
    assert studio.parse_metadata(image).feature_ranges == ()


def test_studio_predictions_sorted_cut_and_timed():
    doc = {
        "predictions": [
            {"label": "1", "score": 0.1},
            {"label": "7", "score": 0.8},
            {"label": "9", "score": 0.1},
        ],
        "timing_ms": {"preprocess": 1.5, "inference": 0.5},
    }
    p = studio.parse_predictions(doc, top_k=2, ms=12.0)
    assert p.labels == ("7", "1") and p.scores == (0.8, 0.1)
    assert p.round_trip_ms == 12.0 and p.server_ms == 2.0 and p.top_label == "7"
    with pytest.raises(PredictError, match="no 'predictions' list"):
        studio.parse_predictions({"results": []}, 5, 1.0)
    with pytest.raises(PredictError, match="without a label"):
        studio.parse_predictions({"predictions": [{"score": 1}]}, 5, 1.0)


@pytest.mark.parametrize(
    ("shape", "datatype", "expected"),
    [
        ([-1, 28, 28, 3], "FP32", {"layout": "NHWC", "height": 28, "width": 28, "channels": 3}),
        ([-1, 3, 224, 200], "FP32", {"layout": "NCHW", "height": 224, "width": 200, "channels": 3}),
        ([-1, 28, 28], "FP32", {"layout": "NHW", "height": 28, "width": 28, "channels": 1}),
        ([-1, -1, -1, 3], "FP32", {"layout": "NHWC", "height": None, "width": None, "channels": 3}),
        ([-1], "BYTES", {"layout": "BYTES", "input_kind": "image", "width": None}),
        ([-1, 4], "FP32", {"layout": "NF", "input_kind": "tabular", "features": ("x1", "x2", "x3", "x4")}),
    ],
)
def test_v2_metadata_reads_the_input_shape(shape, datatype, expected):
    meta = v2.parse_metadata(
        {
            "name": "m",
            "versions": ["1", "2"],
            "inputs": [{"name": "pixels", "datatype": datatype, "shape": shape}],
            "outputs": [{"name": "scores", "datatype": "FP32", "shape": [-1, 10]}, {"name": "label"}],
        }
    )
    assert meta.input_name == "pixels" and meta.outputs == ("scores", "label") and meta.version == "2"
    for key, value in expected.items():
        assert getattr(meta, key) == value, key


def test_v2_outputs_scores_and_labels():
    doc = {
        "outputs": [
            {"name": "label", "datatype": "BYTES", "shape": [2], "data": ["cat", "dog"]},
            {
                "name": "scores",
                "datatype": "FP32",
                "shape": [2, 3],
                "data": [[0.7, 0.2, 0.1], [0.1, 0.8, 0.1]],
            },
        ]
    }
    scores, labels = v2.parse_outputs(doc, 2)
    assert scores == [[0.7, 0.2, 0.1], [0.1, 0.8, 0.1]] and labels == ["cat", "dog"]
    flat_doc = {
        "outputs": [{"name": "predict_proba", "datatype": "FP64", "shape": [2, 2], "data": [0.4, 0.6, 1, 0]}]
    }
    assert v2.parse_outputs(flat_doc, 2) == ([[0.4, 0.6], [1, 0]], None)
    reg = {"outputs": [{"name": "predictions", "datatype": "FP64", "shape": [3], "data": [1.5, 2.5, 3.5]}]}
    assert v2.parse_outputs(reg, 3) == (None, [1.5, 2.5, 3.5])
    with pytest.raises(PredictError, match="has 5 values for 2 inputs"):
        v2.parse_outputs({"outputs": [{"name": "scores", "data": [1, 2, 3, 4, 5]}]}, 2)
    with pytest.raises(PredictError, match="no 'outputs'"):
        v2.parse_outputs({"error": "x"}, 1)


TF_METADATA = {
    "model_spec": {"name": "mnist", "signature_name": "", "version": "7"},
    "metadata": {
        "signature_def": {
            "signature_def": {
                "__saved_model_init_op": {"inputs": {}, "outputs": {}},
                "serving_default": {
                    "inputs": {
                        "image": {
                            "dtype": "DT_UINT8",
                            "tensor_shape": {
                                "dim": [{"size": "-1"}, {"size": "28"}, {"size": "28"}, {"size": "1"}],
                                "unknown_rank": False,
                            },
                            "name": "serving_default_image:0",
                        }
                    },
                    "outputs": {"probs": {"dtype": "DT_FLOAT", "tensor_shape": {"dim": []}, "name": "x:0"}},
                    "method_name": "tensorflow/serving/predict",
                },
            }
        }
    },
}


def test_tfserving_metadata_reads_the_serving_signature():
    meta = tfserving.parse_metadata(TF_METADATA, "mnist")
    assert (meta.width, meta.height, meta.channels, meta.layout) == (28, 28, 1, "NHWC")
    assert meta.input_name == "image" and meta.datatype == "UINT8" and meta.scaling == "0..255"
    assert meta.outputs == ("probs",) and meta.version == "7" and meta.protocol == "tf-serving"
    unknown = tfserving.parse_metadata({"metadata": {}}, "x")
    assert not unknown.has_input_size and unknown.name == "x"


def test_tfserving_prediction_rows():
    assert tfserving._scores_of([0.1, 0.9]) == [0.1, 0.9]
    assert tfserving._scores_of({"label": 3, "probabilities": [0.5, 0.5]}) == [0.5, 0.5]
    assert tfserving._scores_of(4.2) is None and tfserving._value_of(4.2) == 4.2
    assert tfserving._value_of({"classes": "cat", "scores": [0.9]}) == "cat"


def test_overrides_replace_only_what_the_user_set():
    server = ModelMetadata(name="m", width=None, height=None, channels=3, input_kind="tabular", labels=("a",))
    meta = apply_overrides(server, Overrides(width=32, height=16, labels=(1, 2)))
    assert (meta.width, meta.height, meta.channels) == (32, 16, 3)
    assert meta.labels == ("1", "2") and meta.input_kind == "image" and meta.scaling == "0..1"
    assert apply_overrides(server, None) is server


def test_ranked_sorts_and_names_by_index():
    p = ranked([0.1, float("nan"), 0.6, 0.3], ("a", "b", "c", "d"), 3, 5.0)
    assert p.labels == ("c", "d", "a") and p.scores == (0.6, 0.3, 0.1)
    unnamed = ranked([0.2, 0.8], (), 5, 1.0)
    assert unnamed.labels == ("1", "0") and unnamed.note == ""
    mismatch = ranked([0.8, 0.2], ("x",), 1, 1.0)
    assert mismatch.labels == ("0",) and mismatch.note == "1 labels given for 2 scores"


def test_rows_are_checked_before_sending():
    assert check_rows([[1, "2.5"], (3, 4)]) == [[1.0, 2.5], [3.0, 4.0]]
    with pytest.raises(PredictError, match="row 2 has 3 values, the model wants 2"):
        check_rows([[1, 2], [1, 2, 3]])
    with pytest.raises(PredictError, match="row 1 has a value that is not a number"):
        check_rows([["a", 1]])
    with pytest.raises(PredictError, match="row 1 has 2 values, the model wants 4"):
        check_rows([[1, 2]], width=4)
    with pytest.raises(PredictError, match="no rows"):
        check_rows([])


def test_flat_flattens_nested_arrays():
    assert flat([[1, [2, 3]], [], [[4]], 5]) == [1, 2, 3, 4, 5]
    assert flat(7) == [7]
