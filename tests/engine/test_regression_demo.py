"""The sklearn-regression demo on the real engine: /metadata says what it predicts and each feature's
typical range (min, max, mean of its training rows), as the tabular form shows them."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_diabetes

from gui.builder import get_template
from gui.predict.studio import parse_metadata
from tests.support.templates import COLD_BUILD_S, build_template, http, run_container, wait_for

pytestmark = pytest.mark.timeout(COLD_BUILD_S)  # the template image may be built from nothing


def test_regression_demo_metadata_has_feature_ranges(docker_api, test_labels, tmp_path, unique_name):
    t = get_template("sklearn-regression")
    tag = f"aicstest-regression-demo:{test_labels['ai-container-studio.test']}"
    build, _ = build_template(t, t.defaults(), tmp_path / "ctx", tag, test_labels)
    cid, ports = run_container(docker_api, tag, test_labels, unique_name("regdemo"), ports={8080: 0})
    try:
        base = f"http://127.0.0.1:{ports[8080]}"
        wait_for(f"{base}/health", docker_api, cid)
        status, meta = http("GET", f"{base}/metadata")
        assert status == 200, meta
        data = load_diabetes()
        assert meta["input"]["features"] == list(data.feature_names)  # still a list of names
        ranges = meta["input"]["feature_ranges"]
        assert [r["name"] for r in ranges] == list(data.feature_names)
        np.testing.assert_allclose([r["min"] for r in ranges], data.data.min(axis=0))
        np.testing.assert_allclose([r["max"] for r in ranges], data.data.max(axis=0))
        np.testing.assert_allclose([r["mean"] for r in ranges], data.data.mean(axis=0), atol=1e-12)
        assert "diabetes" in meta["description"]
        parsed = parse_metadata(meta)
        assert parsed.feature_range("bmi").max == pytest.approx(data.data[:, 2].max())
        assert "diabetes" in parsed.description
    finally:
        docker_api.remove_container(cid, force=True)
        docker_api.remove_image(build.image_id, force=True)


def test_regression_demo_served_as_onnx_answers_as_scikit_learn(docker_api, test_labels, tmp_path, unique_name):
    import json

    from sklearn.linear_model import Ridge

    from tests.support.onnx_builds import build_onnx
    from tests.support.templates import cache_image

    tag = f"aicstest-regression-onnx:{test_labels['ai-container-studio.test']}"
    build, lines, error = build_onnx("sklearn-regression", {}, tmp_path / "ctx", tag, test_labels)
    assert error is None and lines[-1].done, "\n".join(line.text for line in lines[-30:])
    verdict = [line.text for line in lines if "converted model.joblib to model.onnx" in line.text]
    assert verdict and "of the original's on 200 samples" in verdict[0]
    cid, ports = run_container(docker_api, tag, test_labels, unique_name("regonnx"), ports={8080: 0})
    try:
        assert docker_api.inspect_image(tag)["Size"] < docker_api.inspect_image(cache_image("sklearn-regression"))["Size"]
        base = f"http://127.0.0.1:{ports[8080]}"
        wait_for(f"{base}/health", docker_api, cid)
        meta = http("GET", f"{base}/metadata")[1]
        data = load_diabetes()
        assert meta["framework"] == "onnx" and meta["input"]["features"] == list(data.feature_names)
        assert len(meta["input"]["feature_ranges"]) == 10 and "diabetes" in meta["description"]
        rows = data.data[::20]
        status, body = http("POST", f"{base}/predict", json.dumps({"instances": rows.tolist()}).encode(),
                            {"Content-Type": "application/json"})
        assert status == 200, body
        expected = Ridge(alpha=0.1).fit(data.data, data.target).predict(rows)  # the demo's own training
        np.testing.assert_allclose(body["predictions"], expected, rtol=1e-3)
    finally:
        docker_api.remove_container(cid, force=True)
        docker_api.remove_image(build.image_id, force=True)
