"""onnx-image on the real engine: a skl2onnx digits model and a PyTorch-style NCHW graph, built, run and
asked over studio-v1 and v2; a file that is not ONNX fails the build at its check step."""

from __future__ import annotations

import base64
import io
import json
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_digits

from gui.builder import get_template
from gui.builder.context import assemble_context
from gui.engine.build import BuildError, ImageBuild
from tests.support.model_files import TEST_ROWS, save_onnx
from tests.support.templates import CREATED, build_template, engine, http, run_container, wait_for

LITERT_BUDGET = 385_016_998 * 1.10  # the LiteRT dependency layer (aics-cache/tensorflow-image-litert) + 10 %


def digit_png(row: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.round(row.reshape(8, 8) * 255 / 16).astype(np.uint8), "L").save(buf, "PNG")
    return buf.getvalue()


def values(template, model, **extra) -> dict:
    return {**template.defaults(), "model": str(model), "input_max": 16.0, "polarity": "light-on-dark",
            "name": "digits", **extra}


@pytest.fixture(scope="module")
def onnx_server(docker_api, test_labels, tmp_path_factory):
    t = get_template("onnx-image")
    tmp = tmp_path_factory.mktemp("onnx")
    tag = f"aicstest-onnx:{test_labels['ai-container-studio.test']}"
    build, _ = build_template(t, values(t, save_onnx(tmp)), tmp / "ctx", tag, test_labels)
    cid, ports = run_container(docker_api, tag, test_labels, f"aicstest-onnx-{build.image_id[7:15]}",
                               ports={8080: 0})
    base = f"http://127.0.0.1:{ports[8080]}"
    wait_for(f"{base}/health", docker_api, cid)
    yield {"base": base, "tag": tag, "id": cid, "image": build.image_id}
    docker_api.remove_container(cid, force=True)
    docker_api.remove_image(build.image_id, force=True)


def test_onnx_digits_label_held_out_rows_sent_as_png(onnx_server):
    digits = load_digits()
    base = onnx_server["base"]

    def ask(i):
        status, body = http("POST", f"{base}/predict?top_k=3", digit_png(digits.data[i]),
                            {"Content-Type": "image/png"})
        assert status == 200, body
        return body["predictions"][0]["label"] == str(digits.target[i])

    with ThreadPoolExecutor(8) as pool:
        right = sum(pool.map(ask, TEST_ROWS))
    assert right / len(TEST_ROWS) >= 0.90, right


def test_onnx_image_is_small_hardened_and_speaks_both_protocols(onnx_server, docker_api):
    base = onnx_server["base"]
    info = docker_api.inspect_image(onnx_server["tag"])
    assert info["Size"] <= LITERT_BUDGET, info["Size"]
    assert info["Config"]["User"] == "aics" and info["Config"]["Healthcheck"]["Test"][-1] == "health"
    labels = info["Config"]["Labels"]
    assert labels["ai-container-studio.protocol"] == "studio-v1"
    assert labels["ai-container-studio.template"] == "onnx-image"
    assert all(row[0] != "root" for row in docker_api.top(onnx_server["id"])["Processes"])
    meta = http("GET", f"{base}/metadata")[1]
    assert meta["framework"] == "onnx" and meta["labels"] == [str(i) for i in range(10)]  # ZipMap's keys
    assert set(meta["protocols"]) == {"studio-v1", "v2"}
    digits = load_digits()
    infer = {"id": "r1", "inputs": [{"name": "input", "datatype": "FP32", "shape": [2, 8, 8, 1],
                                     "data": digits.data[[1500, 1501]].ravel().tolist()}]}
    status, out = http("POST", f"{base}/v2/models/digits/infer", json.dumps(infer).encode(),
                       {"Content-Type": "application/json"})
    assert status == 200, out
    outputs = {o["name"]: o for o in out["outputs"]}
    assert outputs["label"]["data"] == [str(digits.target[1500]), str(digits.target[1501])]
    assert outputs["scores"]["shape"] == [2, 10]
    b64 = base64.b64encode(digit_png(digits.data[1502])).decode()
    infer = {"inputs": [{"name": "input", "datatype": "BYTES", "shape": [1], "data": [b64],
                         "parameters": {"content_type": "base64"}}]}
    status, out = http("POST", f"{base}/v2/models/digits/infer", json.dumps(infer).encode())
    assert status == 200 and out["outputs"][1]["data"] == [str(digits.target[1502])]
    status, body = http("POST", f"{base}/predict", b"not a picture", {"Content-Type": "image/png"})
    assert status == 400 and "error" in body


def _nchw_digits(path) -> None:
    """A PyTorch-style graph on [N, 1, 8, 8] pictures (a logistic regression's weights), labels in metadata."""
    import onnx
    from onnx import TensorProto, helper
    from sklearn.linear_model import LogisticRegression

    digits = load_digits()
    lr = LogisticRegression(max_iter=3000).fit(digits.data[:1500] / 16.0, digits.target[:1500])
    w = helper.make_tensor("w", TensorProto.FLOAT, [64, 10], lr.coef_.T.astype(np.float32).ravel())
    b = helper.make_tensor("b", TensorProto.FLOAT, [10], lr.intercept_.astype(np.float32))
    nodes = [helper.make_node("Flatten", ["pixels"], ["flat"]), helper.make_node("MatMul", ["flat", "w"], ["z"]),
             helper.make_node("Add", ["z", "b"], ["logits"])]
    graph = helper.make_graph(
        nodes, "digits", [helper.make_tensor_value_info("pixels", TensorProto.FLOAT, ["batch", 1, 8, 8])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 10])], [w, b])
    model = helper.make_model(graph, producer_name="pytorch", opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    helper.set_model_props(model, {"labels": "zero,one,two,three,four,five,six,seven,eight,nine"})
    onnx.save(model, str(path))


def test_an_nchw_graph_gets_pictures_transposed_and_its_metadata_labels(
    docker_api, test_labels, tmp_path, unique_name
):
    t = get_template("onnx-image")
    model = tmp_path / "net.onnx"
    _nchw_digits(model)
    tag = f"aicstest-onnx-nchw:{test_labels['ai-container-studio.test']}"
    build, _ = build_template(t, values(t, model, input_max=1.0), tmp_path / "ctx", tag, test_labels)
    cid, ports = run_container(docker_api, tag, test_labels, unique_name("nchw"), ports={8080: 0})
    try:
        base = f"http://127.0.0.1:{ports[8080]}"
        wait_for(f"{base}/health", docker_api, cid)
        names = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
        assert http("GET", f"{base}/metadata")[1]["labels"] == names
        digits = load_digits()
        right = 0
        for i in TEST_ROWS:
            body = http("POST", f"{base}/predict", digit_png(digits.data[i]), {"Content-Type": "image/png"})[1]
            right += body["predictions"][0]["label"] == names[digits.target[i]]
        assert right / len(TEST_ROWS) >= 0.90, right
    finally:
        docker_api.remove_container(cid, force=True)
        docker_api.remove_image(build.image_id, force=True)


def test_a_text_file_named_onnx_fails_the_build_at_its_check(test_labels, tmp_path):
    t = get_template("onnx-image")
    fake = tmp_path / "model.onnx"
    fake.write_text("I am not a graph\n")
    ctx = assemble_context(t, values(t, fake), tmp_path / "ctx")
    build = ImageBuild(engine(), ctx.directory, f"aicstest-onnx-fake:{test_labels['ai-container-studio.test']}",
                       labels=test_labels, buildargs={"AICS_CREATED": CREATED})
    lines: list = []
    with pytest.raises(BuildError) as failed:
        lines.extend(build)
    assert not build.image_id
    text = "\n".join(line.text for line in lines) + "\n" + str(failed.value)
    assert "InferenceSession" in text and ("INVALID_PROTOBUF" in text or "Failed to load model" in text), text[-2000:]
