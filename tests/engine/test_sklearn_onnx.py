"""sklearn-image "Serve as ONNX" on the real engine: a first stage converts the model with skl2onnx and
checks it against the original (the build fails otherwise); the image serves it with ONNX Runtime only.
Caches: tests/support/onnx_builds.py."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from sklearn.datasets import load_digits

from tests.perf.held_back_digits import held_back_set, load_digits_png
from tests.support.onnx_builds import build_onnx
from tests.support.templates import COLD_BUILD_S, cache_image, http, run_container, wait_for

pytestmark = pytest.mark.timeout(COLD_BUILD_S)


@pytest.fixture(scope="module")
def onnx_demo(docker_api, test_labels, tmp_path_factory):
    tag = f"aicstest-onnx-digits:{test_labels['ai-container-studio.test']}"
    build, lines, error = build_onnx("sklearn-image", {}, tmp_path_factory.mktemp("onnx") / "ctx", tag, test_labels)
    assert error is None and lines[-1].done, "\n".join(line.text for line in lines[-30:])
    cid, ports = run_container(docker_api, tag, test_labels, f"aicstest-onnx-{build.image_id[7:15]}", ports={8080: 0})
    base = f"http://127.0.0.1:{ports[8080]}"
    try:
        wait_for(f"{base}/health", docker_api, cid)
        yield {"base": base, "lines": [line.text for line in lines], "image": build.image_id, "cid": cid}
    finally:
        docker_api.remove_container(cid, force=True)
        docker_api.remove_image(build.image_id, force=True)


def test_the_build_checks_the_onnx_model_against_the_original(onnx_demo, docker_api):
    verdict = [line for line in onnx_demo["lines"] if "converted model.joblib to model.onnx" in line]
    assert verdict and "top class the same on 100.0% of 200 samples" in verdict[0], onnx_demo["lines"][-40:]
    # ONNX Runtime only: no scikit-learn or SciPy in the image, and smaller than the scikit-learn packages
    out = docker_api.exec_start(docker_api.exec_create(onnx_demo["cid"], ["python3", "-c", "import sklearn"]))
    assert b"No module named 'sklearn'" in out
    size = docker_api.inspect_image(onnx_demo["image"])["Size"]
    sklearn_packages = docker_api.inspect_image(cache_image("sklearn-image"))["Size"]
    assert size < sklearn_packages - 100e6, (size, sklearn_packages)


def test_the_onnx_demo_recognises_drawn_typed_and_8x8_digits(onnx_demo):
    base = onnx_demo["base"]
    status, meta = http("GET", f"{base}/metadata")
    assert status == 200 and meta["framework"] == "onnx" and "drawn or typed" in meta["description"]

    def ask(picture: bytes) -> dict:
        status, body = http("POST", f"{base}/predict?top_k=3", picture, {"Content-Type": "image/png"}, timeout=30)
        assert status == 200, body
        return body

    items = held_back_set(200, seed=78)
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda it: ask(it[2]), items))
    right = [a["predictions"][0]["label"] == str(d) for (_, d, _), a in zip(items, answers, strict=True)]
    assert np.mean(right) >= 0.95, np.mean(right)
    digits = load_digits()
    rows = range(1500, 1797, 3)
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda i: ask(load_digits_png(digits.data[i])), rows))
    right = [a["predictions"][0]["label"] == str(digits.target[i]) for i, a in zip(rows, answers, strict=True)]
    assert np.mean(right) >= 0.90, np.mean(right)
    # v2 tensors skip the preprocessing: the raw rows are right too
    x = digits.data[1500:1520].astype(np.float32)  # 0..16, the demo's input scale
    infer = {"inputs": [{"name": "input", "datatype": "FP32", "shape": [20, 8, 8, 1], "data": x.ravel().tolist()}]}
    status, body = http("POST", f"{base}/v2/models/digits/infer", json.dumps(infer).encode(),
                        {"Content-Type": "application/json"})
    assert status == 200, body
    labels = next(o for o in body["outputs"] if o["name"] == "label")["data"]
    assert np.mean([str(t) == p for t, p in zip(digits.target[1500:1520], labels, strict=True)]) >= 0.9


def test_a_model_skl2onnx_cannot_convert_fails_the_build(test_labels, tmp_path):
    import joblib
    from sklearn.neighbors import NearestCentroid

    digits = load_digits()
    path = tmp_path / "centroid.joblib"
    noisy = digits.data + np.random.default_rng(0).normal(0, 0.01, digits.data.shape)  # no constant column
    joblib.dump(NearestCentroid().fit(noisy, digits.target), path)
    tag = f"aicstest-onnx-fails:{test_labels['ai-container-studio.test']}"
    _, lines, error = build_onnx("sklearn-image", {"model": str(path)}, tmp_path / "ctx", tag, test_labels)
    assert error is not None and "to_onnx.py" in error.instruction, [line.text for line in lines[-20:]]
    said = [line.text for line in lines if "skl2onnx cannot convert this model" in line.text]
    assert said and "NearestCentroid" in said[0], [line.text for line in lines[-20:]]
