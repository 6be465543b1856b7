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
