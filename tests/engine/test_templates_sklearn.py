"""sklearn-image and sklearn-regression on the real engine: build, run, and check real answers."""

from __future__ import annotations

import base64
import io
import json
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import sklearn
from PIL import Image
from sklearn.datasets import load_diabetes, load_digits
from sklearn.ensemble import GradientBoostingRegressor

from gui.builder import get_template
from tests.support.templates import (
    COLD_BUILD_S,
    build_template,
    dependency_step,
    http,
    rebuild,
    run_container,
    wait_for,
)

pytestmark = pytest.mark.timeout(COLD_BUILD_S)  # the sklearn images may be built from nothing

TEST_ROWS = range(1500, 1797)


def digit_png(row: np.ndarray) -> bytes:
    img = Image.fromarray(np.round(row.reshape(8, 8) * 255 / 16).astype(np.uint8), "L")
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def digits_server(docker_api, test_labels, run_id, sklearn_digits_image):
    """The demo sklearn-image container (trained at build time on rows 0-1499), published on 127.0.0.1: the
    module's own container of the session's image (tests/support/demo_images.py)."""
    tag = sklearn_digits_image["tag"]
    cid, ports = run_container(
        docker_api,
        tag,
        test_labels,
        f"aicstest-{run_id}-digits",
        ports={8080: 0},
        environment={"MAX_BODY_BYTES": "300000"},
    )
    base = f"http://127.0.0.1:{ports[8080]}"
    wait_for(f"{base}/health", docker_api, cid)
    yield {"base": base, "tag": tag, "id": cid, "image": sklearn_digits_image["image_id"]}
    docker_api.remove_container(cid, force=True)


def test_digits_labels_held_out_rows_sent_as_png(digits_server):
    digits = load_digits()
    base = digits_server["base"]

    def ask(i):
        status, body = http(
            "POST", f"{base}/predict?top_k=3", digit_png(digits.data[i]), {"Content-Type": "image/png"}
        )
        assert status == 200, body
        preds = body["predictions"]
        assert len(preds) == 3 and preds[0]["score"] >= preds[1]["score"] >= preds[2]["score"]
        assert set(body["timing_ms"]) == {"preprocess", "inference"}
        return preds[0]["label"] == str(digits.target[i])

    with ThreadPoolExecutor(8) as pool:  # concurrent clients
        right = sum(pool.map(ask, TEST_ROWS))
    assert right / len(TEST_ROWS) >= 0.90, right


def test_digits_metadata_health_and_labels(digits_server, docker_api):
    base = digits_server["base"]
    assert http("GET", f"{base}/health") == (200, {"status": "ready", "model": "digits"})
    status, meta = http("GET", f"{base}/metadata")
    assert status == 200
    assert meta["task"] == "image-classification" and meta["framework"] == "scikit-learn"
    assert meta["labels"] == [str(i) for i in range(10)]
    assert meta["input"] == {
        "kind": "image",
        "width": 8,
        "height": 8,
        "channels": 1,
        "range": [0.0, 16.0],
        "polarity": "light-on-dark",
    }
    assert set(meta["protocols"]) == {"studio-v1", "v2"}
    info = docker_api.inspect_image(digits_server["tag"])
    labels = info["Config"]["Labels"]
    assert labels["ai-container-studio.protocol"] == "studio-v1"
    assert labels["ai-container-studio.task"] == "image-classification"
    assert labels["ai-container-studio.port"] == "8080"
    assert labels["org.opencontainers.image.title"] == "digits"
    assert labels["org.opencontainers.image.version"] == "1.0.0"
    assert labels["org.opencontainers.image.created"] == "2000-01-01T00:00:00Z"
    assert info["Config"]["User"] == "aics"
    assert info["Config"]["Healthcheck"]["Test"][-1] == "health"
    top = docker_api.top(digits_server["id"])
    assert all(row[0] != "root" for row in top["Processes"]), top


def test_digits_multipart_v2_and_a_dark_on_light_picture(digits_server):
    digits = load_digits()
    base = digits_server["base"]
    boundary = "aicsboundary"
    parts = b""
    for i in (1500, 1501):
        parts += (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{i}.png"\r\n'
                f"Content-Type: image/png\r\n\r\n"
            ).encode()
            + digit_png(digits.data[i])
            + b"\r\n"
        )
    parts += f"--{boundary}--\r\n".encode()
    status, body = http(
        "POST", f"{base}/predict", parts, {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    )
    want = [str(digits.target[1500]), str(digits.target[1501])]
    assert status == 200 and [r["predictions"][0]["label"] for r in body["results"]] == want

    # A big dark-on-light picture (a scan of the digit) is inverted and scaled down by the server.
    big = Image.fromarray(255 - np.round(digits.images[1500] * 255 / 16).astype(np.uint8), "L").resize(
        (256, 256)
    )
    buf = io.BytesIO()
    big.convert("RGB").save(buf, "JPEG", quality=95)
    status, body = http("POST", f"{base}/predict", buf.getvalue(), {"Content-Type": "image/jpeg"})
    assert status == 200 and body["predictions"][0]["label"] == want[0]

    status, model = http("GET", f"{base}/v2/models/digits")
    assert status == 200 and model["inputs"][0] == {
        "name": "input",
        "datatype": "FP32",
        "shape": [-1, 8, 8, 1],
    }
    infer = {
        "id": "r1",
        "inputs": [
            {
                "name": "input",
                "datatype": "FP32",
                "shape": [2, 8, 8, 1],
                "data": digits.data[[1500, 1501]].ravel().tolist(),
            }
        ],
    }
    status, out = http(
        "POST",
        f"{base}/v2/models/digits/infer",
        json.dumps(infer).encode(),
        {"Content-Type": "application/json"},
    )
    assert status == 200 and out["id"] == "r1" and out["model_name"] == "digits"
    outputs = {o["name"]: o for o in out["outputs"]}
    assert outputs["label"]["data"] == want and outputs["scores"]["shape"] == [2, 10]
    b64 = base64.b64encode(digit_png(digits.data[1501])).decode()
    infer = {
        "inputs": [
            {
                "name": "input",
                "datatype": "BYTES",
                "shape": [1],
                "data": [b64],
                "parameters": {"content_type": "base64"},
            }
        ]
    }
    status, out = http("POST", f"{base}/v2/models/digits/infer", json.dumps(infer).encode())
    assert status == 200 and out["outputs"][1]["data"] == want[1:]
    assert (
        http("GET", f"{base}/v2/health/ready")[0] == 200 and http("GET", f"{base}/v2/health/live")[0] == 200
    )
    assert http("GET", f"{base}/v2/models/other")[0] == 404


def test_digits_bad_input_is_answered_with_json_errors(digits_server):
    base = digits_server["base"]
    status, body = http(
        "POST", f"{base}/predict", b"this is text renamed .png", {"Content-Type": "image/png"}
    )
    assert status == 400 and "picture" in body["error"]
    assert http("POST", f"{base}/predict", b"", {"Content-Type": "image/png"})[0] == 400
    assert http("POST", f"{base}/predict", b"x", {"Content-Type": "text/plain"})[0] == 415
    # over MAX_BODY_BYTES (set to 300000 at run time): 413 without reading it
    status, body = http("POST", f"{base}/predict", b"\0" * 400_000, {"Content-Type": "image/png"})
    assert status == 413 and "300000" in body["error"]
    # a decompression bomb: 100 megapixels in a small PNG, refused before decoding
    bomb = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(bomb, "PNG")
    assert len(bomb.getvalue()) < 300_000
    status, body = http("POST", f"{base}/predict", bomb.getvalue(), {"Content-Type": "image/png"})
    assert status == 400 and "10000x10000" in body["error"]
    status, body = http(
        "POST", f"{base}/predict", b'{"instances": [[1, 2]]}', {"Content-Type": "application/json"}
    )
    assert status == 415
    status, body = http("GET", f"{base}/nope")
    assert status == 404 and "error" in body
    status, body = http("POST", f"{base}/v2/models/digits/infer", b"{not json")
    assert status == 400 and "JSON" in body["error"]
    assert http("GET", f"{base}/health")[0] == 200  # and it still serves


# -- regression ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def host_model(tmp_path_factory):
    """A regression model trained here and saved as a user file (the app itself never loads it)."""
    import joblib

    data = load_diabetes()
    model = GradientBoostingRegressor(random_state=0, n_estimators=50).fit(data.data[:400], data.target[:400])
    path = tmp_path_factory.mktemp("model") / "gbr.joblib"
    joblib.dump(model, path)
    return model, path, data.data[400:]


@pytest.fixture(scope="module")
def regression_image(docker_api, test_labels, host_model, tmp_path_factory):
    t = get_template("sklearn-regression")
    values = {
        **t.defaults(),
        "model": str(host_model[1]),
        "packages": [f"scikit-learn=={sklearn.__version__}"],
        "features": ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"],
        "name": "gbr",
    }
    tmp = tmp_path_factory.mktemp("regression")
    tag = f"aicstest-regression:{test_labels['ai-container-studio.test']}"
    build, _ = build_template(t, values, tmp / "ctx", tag, test_labels)
    yield {"tag": tag, "build": build, "context": tmp / "ctx", "values": values}
    docker_api.remove_image(build.image_id, force=True)


def test_regression_answers_what_sklearn_gives_on_the_host(
    regression_image, host_model, docker_api, test_labels, unique_name
):
    model, _, rows = host_model
    cid, ports = run_container(
        docker_api, regression_image["tag"], test_labels, unique_name("reg"), ports={8080: 0}
    )
    try:
        base = f"http://127.0.0.1:{ports[8080]}"
        wait_for(f"{base}/health", docker_api, cid)
        status, body = http(
            "POST",
            f"{base}/predict",
            json.dumps({"instances": rows.tolist()}).encode(),
            {"Content-Type": "application/json"},
        )
        assert status == 200, body
        np.testing.assert_allclose(body["predictions"], model.predict(rows), rtol=1e-12)
        meta = http("GET", f"{base}/metadata")[1]
        assert meta["input"] == {
            "kind": "tabular",
            "features": ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"],
        }
        status, body = http(
            "POST", f"{base}/predict", b'{"instances": [[1, 2, 3]]}', {"Content-Type": "application/json"}
        )
        assert status == 400 and "10 values" in body["error"]
        infer = {
            "inputs": [
                {
                    "name": "input",
                    "datatype": "FP64",
                    "shape": list(rows[:3].shape),
                    "data": rows[:3].ravel().tolist(),
                }
            ]
        }
        status, out = http("POST", f"{base}/v2/models/gbr/infer", json.dumps(infer).encode())
        assert status == 200 and out["outputs"][0]["name"] == "predictions"
        assert out["outputs"][0]["datatype"] == "FP64"
        np.testing.assert_allclose(
            out["outputs"][0]["data"], model.predict(rows[:3].astype(np.float32)), rtol=1e-6
        )
    finally:
        docker_api.remove_container(cid, force=True)


def test_regression_one_shot_command_prints_predictions(
    regression_image, host_model, docker_api, test_labels, unique_name
):
    model, _, rows = host_model
    args = ["predict", *(",".join(repr(float(v)) for v in row) for row in rows[:5])]
    c = docker_api.create_container(
        regression_image["tag"], command=args, labels=test_labels, name=unique_name("oneshot")
    )
    try:
        docker_api.start(c["Id"])
        assert docker_api.wait(c["Id"], timeout=60)["StatusCode"] == 0
        out = docker_api.logs(c["Id"], stderr=False).decode().split()
        np.testing.assert_allclose([float(v) for v in out], model.predict(rows[:5]), rtol=1e-12)
    finally:
        docker_api.remove_container(c["Id"], force=True)


def test_rebuild_after_new_server_code_and_model_hits_the_package_cache(
    regression_image, docker_api, test_labels, tmp_path
):
    import joblib

    ctx = regression_image["context"]
    server = ctx / "serving" / "server.py"
    server.write_text(server.read_text() + "\n# edited by the cache test\n")
    data = load_diabetes()
    joblib.dump(
        GradientBoostingRegressor(random_state=1, n_estimators=5).fit(data.data, data.target),
        ctx / "model" / "model.joblib",
    )
    tag = f"aicstest-regression-edit:{test_labels['ai-container-studio.test']}"
    build, lines, seconds = rebuild(ctx, tag, test_labels)
    try:
        assert lines[-1].done, "\n".join(line.text for line in lines[-20:])
        dep = dependency_step(build)
        before = [s for s in build.steps if s.index <= dep.index and not s.instruction.startswith("FROM")]
        assert before and all(s.cached for s in before), [(s.instruction, s.cached) for s in before]
        texts = [line.text for line in lines]
        assert (
            texts[texts.index(next(t for t in texts if t.startswith(f"Step {dep.index}/"))) + 1]
            == " ---> Using cache"
        )
        copies = {s.instruction.split()[1]: s.cached for s in build.steps if s.instruction.startswith("COPY")}
        assert copies["model/"] is False and copies["serving/"] is False
        assert seconds < 15, seconds
    finally:
        docker_api.remove_image(tag, force=True)


def test_regression_demo_matches_the_same_training_on_the_host(
    docker_api, test_labels, tmp_path, unique_name
):
    t = get_template("sklearn-regression")
    tag = f"aicstest-regression-demo:{test_labels['ai-container-studio.test']}"
    build, _ = build_template(t, t.defaults(), tmp_path / "ctx", tag, test_labels)
    sys.path.insert(0, str(t.directory))
    try:
        import train_demo  # the very script the image ran
    finally:
        sys.path.remove(str(t.directory))
    model, data = train_demo.train()
    rows = data.data[:7]
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    csv_file = data_dir / "rows.csv"
    csv_file.write_text(
        "age,sex,bmi,bp,s1,s2,s3,s4,s5,s6\n"
        + "\n".join(",".join(repr(float(v)) for v in r) for r in rows)
        + "\n"
    )
    data_dir.chmod(0o755)
    csv_file.chmod(0o644)
    c = docker_api.create_container(
        tag,
        command=["predict", "/data/rows.csv"],
        labels=test_labels,
        name=unique_name("demo"),
        volumes=["/data"],
        host_config=docker_api.create_host_config(binds={str(data_dir): {"bind": "/data", "mode": "ro"}}),
    )
    try:
        docker_api.start(c["Id"])
        assert docker_api.wait(c["Id"], timeout=60)["StatusCode"] == 0, docker_api.logs(c["Id"]).decode()
        out = [float(v) for v in docker_api.logs(c["Id"], stderr=False).decode().split()]
        np.testing.assert_allclose(out, model.predict(rows), rtol=1e-9)
    finally:
        docker_api.remove_container(c["Id"], force=True)
        docker_api.remove_image(build.image_id, force=True)
