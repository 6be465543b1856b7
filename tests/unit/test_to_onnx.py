"""dockerfiles/sklearn-image/to_onnx.py without a container: the tolerances that fail a build whose ONNX
model answers differently from the scikit-learn original, and the sample inputs it checks them on."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

DOCKERFILES = Path(__file__).resolve().parents[2] / "dockerfiles"


@pytest.fixture(scope="module")
def to_onnx():
    sys.path[:0] = [str(DOCKERFILES / "sklearn-image"), str(DOCKERFILES / "_serving")]
    try:
        yield importlib.import_module("to_onnx")
    finally:
        for p in (str(DOCKERFILES / "sklearn-image"), str(DOCKERFILES / "_serving")):
            sys.path.remove(p)


def classifier(scores):
    return SimpleNamespace(is_classifier=True, scores=lambda x: np.asarray(scores, dtype=np.float64))


def regressor(values):
    return SimpleNamespace(is_classifier=False, predict=lambda x: np.asarray(values, dtype=np.float64))


def test_classifier_answers_within_the_tolerances_pass(to_onnx):
    a = np.tile([[0.7, 0.2, 0.1]], (200, 1))
    verdict = to_onnx.compare(classifier(a), classifier(a + 5e-4 * np.array([1, -1, 0])), np.zeros((200, 3)))
    assert "100.0% of 200 samples" in verdict and "5.0e-04" in verdict


def test_a_score_off_by_more_than_a_thousandth_fails(to_onnx):
    a = np.tile([[0.7, 0.2, 0.1]], (200, 1))
    b = a.copy()
    b[7] = [0.698, 0.202, 0.1]  # same top class, one score off by 2e-3
    with pytest.raises(SystemExit, match="answers differently.*2.0e-03"):
        to_onnx.compare(classifier(a), classifier(b), np.zeros((200, 3)))


def test_a_top_class_changed_on_more_than_half_a_percent_fails(to_onnx):
    a = np.tile([[0.5002, 0.4998]], (200, 1))
    b = a.copy()
    b[:2] = [0.4998, 0.5002]  # 1 % of the samples flip within the score tolerance
    with pytest.raises(SystemExit, match="99.0% of 200"):
        to_onnx.compare(classifier(a), classifier(b), np.zeros((200, 2)))
    b[1] = a[1]  # 0.5 %: allowed
    assert "99.5%" in to_onnx.compare(classifier(a), classifier(b), np.zeros((200, 2)))


def test_regressors_are_compared_relative_to_the_value(to_onnx):
    a = np.array([300.0, 0.5, -2000.0])
    assert "on 3 samples" in to_onnx.compare(regressor(a), regressor(a + [0.29, 0.0009, -1.9]), np.zeros((3, 1)))
    with pytest.raises(SystemExit, match="differently"):
        to_onnx.compare(regressor(a), regressor(a + [0.31, 0, 0]), np.zeros((3, 1)))


def test_samples_use_digits_rows_and_the_demo_feature_ranges(to_onnx, tmp_path):
    image = to_onnx.samples(SimpleNamespace(n_features=64), 16.0, tmp_path)
    assert image.shape == (200, 64) and image.dtype == np.float32 and image.min() >= 0 and image.max() <= 16
    from sklearn.datasets import load_digits

    assert np.array_equal(image[0], load_digits().data[0])
    ranges = [{"name": f"x{i}", "min": -0.1 * (i + 1), "max": 0.2, "mean": 0} for i in range(3)]
    (tmp_path / "about.json").write_text(json.dumps({"feature_ranges": ranges}))
    table = to_onnx.samples(SimpleNamespace(n_features=3), None, tmp_path)
    assert table.shape == (200, 3) and (table.min(axis=0) >= [-0.1, -0.2, -0.3]).all() and table.max() <= 0.2
    with pytest.raises(SystemExit, match="cannot check"):
        to_onnx.samples(SimpleNamespace(n_features=None), None, tmp_path)
