"""tensorflow-image on the real engine: the full-TensorFlow and the LiteRT variant, built, run and asked.

The package layers are kept as one cache image per runtime (newest only), so a second run is fast:
aics-cache/tensorflow-image-tf (TensorFlow, shared by the full image and the LiteRT build's first
stage) and aics-cache/tensorflow-image-litert. The first stage of a LiteRT build leaves an untagged
image behind on the classic builder; it is removed here with everything else the tests build.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_digits

from gui.engine.build import CACHE_HIT
from tests.support.templates import CREATED, http, run_container, wait_for
from tests.support.tensorflow_builds import (  # noqa: F401  (a few modules still import these from here)
    CACHE_IMAGES,
    TRAIN_OTHER,
    build_context,
    build_variant,
    copy_from_image,
    keep_package_caches,
    package_steps,
    remove_leftovers,
    stage_leftovers,
)

TEST_ROWS = range(1500, 1797)
MAX_LITERT_BYTES = 450 * 1000 * 1000


def digit_png(row: np.ndarray) -> bytes:
    img = Image.fromarray(np.round(row.reshape(8, 8) * 255 / 16).astype(np.uint8), "L")
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def accuracy(base: str, names: list[str] | None = None) -> float:
    """Share of load_digits rows 1500-1796, sent as PNG pictures, that the server labels right."""
    digits = load_digits()
    names = names or [str(i) for i in range(10)]

    def ask(i):
        status, body = http(
            "POST", f"{base}/predict?top_k=3", digit_png(digits.data[i]), {"Content-Type": "image/png"}
        )
        assert status == 200, body
        preds = body["predictions"]
        assert len(preds) == 3 and preds[0]["score"] >= preds[1]["score"] >= preds[2]["score"]
        return preds[0]["label"] == names[digits.target[i]]

    with ThreadPoolExecutor(4) as pool:
        return sum(pool.map(ask, TEST_ROWS)) / len(TEST_ROWS)


# -- fixtures ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def images(docker_api, test_labels, tmp_path_factory):
    """Both demo variants (full TensorFlow first: the LiteRT build's first stage reuses its layers)."""
    tmp = tmp_path_factory.mktemp("tensorflow-image")
    run = test_labels["ai-container-studio.test"]
    made, builds = {}, []
    try:
        for runtime in ("tensorflow", "litert"):
            tag = f"aicstest-tf-{runtime}:{run}"
            build, lines, _ = build_variant({"runtime": runtime}, tmp / runtime, tag, test_labels)
            builds.append(build)
            made[runtime] = {"tag": tag, "build": build, "lines": lines, "context": tmp / runtime}
        yield made
    finally:
        for info in made.values():
            with contextlib.suppress(Exception):
                docker_api.remove_image(info["build"].image_id, force=True)
        for build in builds:
            remove_leftovers(build)


@pytest.fixture(scope="module")
def user_models(images, docker_api, test_labels, tmp_path_factory):
    """As a user would have them: the demo's model.tflite, and another model as .keras and .tflite."""
    tmp = tmp_path_factory.mktemp("user-models")
    tag = images["tensorflow"]["tag"]
    demo = copy_from_image(docker_api, tag, "/opt/aics/model", tmp / "demo", test_labels)
    other = copy_from_image(docker_api, tag, "/tmp/other", tmp, test_labels, script=TRAIN_OTHER)
    assert (demo / "model.tflite").read_bytes() != (other / "model.tflite").read_bytes()
    return {"demo": demo, "other": other}


@pytest.fixture(scope="module", params=["litert", "tensorflow"])
def server(request, images, docker_api, test_labels):
    runtime = request.param
    info = images[runtime]
    name = f"aicstest-{test_labels['ai-container-studio.test']}-tf-{runtime}"
    cid, ports = run_container(docker_api, info["tag"], test_labels, name, ports={8080: 0})
    base = f"http://127.0.0.1:{ports[8080]}"
    try:
        wait_for(f"{base}/health", docker_api, cid, timeout=120)
        yield {"runtime": runtime, "base": base, "id": cid, **info}
    finally:
        docker_api.remove_container(cid, force=True)


# -- tests ------------------------------------------------------------------------------------------
@pytest.mark.timeout(1800)  # the first run downloads and installs TensorFlow (about 600 MB)
def test_held_out_digits_sent_as_png_are_labelled(server):
    assert accuracy(server["base"]) >= 0.90


@pytest.mark.timeout(1800)
def test_metadata_v2_labels_and_non_root_user(server, docker_api):
    base = server["base"]
    assert http("GET", f"{base}/health") == (200, {"status": "ready", "model": "digits"})
    status, meta = http("GET", f"{base}/metadata")
    assert status == 200 and meta["framework"] == server["runtime"]
    assert meta["labels"] == [str(i) for i in range(10)] and set(meta["protocols"]) == {"studio-v1", "v2"}
    assert meta["input"] == {
        "kind": "image",
        "width": 8,
        "height": 8,
        "channels": 1,
        "range": [0.0, 1.0],
        "polarity": "light-on-dark",
    }
    digits = load_digits()
    infer = {
        "inputs": [
            {
                "name": "input",
                "datatype": "FP32",
                "shape": [3, 8, 8, 1],
                "data": (digits.data[1500:1503] / 16).ravel().tolist(),
            }
        ]
    }
    status, out = http("POST", f"{base}/v2/models/digits/infer", json.dumps(infer).encode())
    assert status == 200, out
    outputs = {o["name"]: o for o in out["outputs"]}
    assert outputs["scores"]["shape"] == [3, 10]
    assert outputs["label"]["data"] == [str(d) for d in digits.target[1500:1503]]
    assert http("GET", f"{base}/v2/health/ready")[0] == 200

    info = docker_api.inspect_image(server["tag"])
    labels = info["Config"]["Labels"]
    assert labels["ai-container-studio.protocol"] == "studio-v1"
    assert labels["ai-container-studio.task"] == "image-classification"
    assert labels["ai-container-studio.port"] == "8080"
    assert labels["ai-container-studio.template"] == "tensorflow-image"
    assert labels["org.opencontainers.image.title"] == "digits"
    assert labels["org.opencontainers.image.version"] == "1.0.0"
    assert labels["org.opencontainers.image.created"] == CREATED
    assert info["Config"]["User"] == "aics"
    assert info["Config"]["Healthcheck"]["Test"][-1] == "health"
    assert "--start-interval" not in json.dumps(info["Config"]["Healthcheck"])
    top = docker_api.top(server["id"])
    assert all(row[0] != "root" for row in top["Processes"]), top


@pytest.mark.timeout(1800)
def test_litert_image_is_small_and_has_no_tensorflow(images, docker_api, test_labels, unique_name):
    litert = docker_api.inspect_image(images["litert"]["tag"])["Size"]
    full = docker_api.inspect_image(images["tensorflow"]["tag"])["Size"]
    assert litert <= MAX_LITERT_BYTES, litert
    assert litert * 4 <= full, (litert, full)
    probe = "import importlib.util as u, sys; sys.exit(0 if u.find_spec('tensorflow') is None else 3)"
    c = docker_api.create_container(
        images["litert"]["tag"],
        entrypoint=["python3", "-c", probe],
        command=[],
        labels=test_labels,
        name=unique_name("notf"),
    )
    try:
        docker_api.start(c["Id"])
        assert docker_api.wait(c["Id"], timeout=60)["StatusCode"] == 0
    finally:
        docker_api.remove_container(c["Id"], force=True)
    # The LiteRT build's first stage came from the full image's layers: TensorFlow installed once.
    steps = package_steps(images["litert"]["build"])
    assert steps["tensorflow"].cached
    for runtime, repo in CACHE_IMAGES.items():
        cache = docker_api.inspect_image(f"{repo}:latest")["Id"]
        built = package_steps(images[runtime]["build"])[runtime].layer_id
        assert cache.startswith(f"sha256:{built}") or cache.startswith(built), (runtime, cache, built)


@pytest.mark.timeout(1800)
def test_user_tflite_rebuild_after_server_edit_and_new_model_hits_the_package_cache(
    images, user_models, docker_api, test_labels, tmp_path, unique_name
):
    labels_file = tmp_path / "labels.txt"
    labels_file.write_text("".join(f"digit {i}\n" for i in range(10)))
    ctx = tmp_path / "ctx"
    tag = f"aicstest-tf-user-tflite:{test_labels['ai-container-studio.test']}"
    values = {
        "runtime": "litert",
        "model": str(user_models["demo"] / "model.tflite"),
        "labels": str(labels_file),
    }
    build, _, _ = build_variant(values, ctx, tag, test_labels)
    edited = None
    try:
        assert "tensorflow" not in package_steps(build)  # a .tflite needs no TensorFlow stage
        assert package_steps(build)["litert"].cached

        server = ctx / "serving" / "server.py"
        server.write_text(server.read_text() + "\n# edited by the cache test\n")
        shutil.copyfile(user_models["other"] / "model.tflite", ctx / "model" / "model.tflite")
        edited = f"aicstest-tf-user-tflite-edit:{test_labels['ai-container-studio.test']}"
        rebuilt, lines, seconds = build_context(ctx, edited, test_labels)
        dep = package_steps(rebuilt)["litert"]
        before = [s for s in rebuilt.steps if s.index <= dep.index and not s.instruction.startswith("FROM")]
        assert before and all(s.cached for s in before), [(s.instruction, s.cached) for s in before]
        texts = [line.text for line in lines]
        at = texts.index(next(t for t in texts if t.startswith(f"Step {dep.index}/")))
        assert texts[at + 1] == CACHE_HIT
        copies = {
            s.instruction.split()[1]: s.cached for s in rebuilt.steps if s.instruction.startswith("COPY")
        }
        assert copies["model/"] is False and copies["serving/"] is False
        assert seconds < 15, seconds

        cid, ports = run_container(docker_api, edited, test_labels, unique_name("tflite"), ports={8080: 0})
        try:
            base = f"http://127.0.0.1:{ports[8080]}"
            wait_for(f"{base}/health", docker_api, cid)
            names = [f"digit {i}" for i in range(10)]
            assert http("GET", f"{base}/metadata")[1]["labels"] == names
            assert accuracy(base, names) >= 0.90
        finally:
            docker_api.remove_container(cid, force=True)
    finally:
        for image in (edited, tag):
            with contextlib.suppress(Exception):
                docker_api.remove_image(image, force=True)


@pytest.mark.timeout(1800)
def test_user_keras_model_is_converted_for_litert(
    user_models, docker_api, test_labels, tmp_path, unique_name
):
    tag = f"aicstest-tf-user-keras:{test_labels['ai-container-studio.test']}"
    values = {"runtime": "litert", "model": str(user_models["other"] / "model.keras"), "name": "mine"}
    build, lines, _ = build_variant(values, tmp_path / "ctx", tag, test_labels)
    try:
        assert package_steps(build)["tensorflow"].cached and package_steps(build)["litert"].cached
        assert any("converted model.keras to model.tflite" in line.text for line in lines)
        cid, ports = run_container(docker_api, tag, test_labels, unique_name("keras"), ports={8080: 0})
        try:
            base = f"http://127.0.0.1:{ports[8080]}"
            wait_for(f"{base}/health", docker_api, cid)
            meta = http("GET", f"{base}/metadata")[1]
            assert meta["framework"] == "litert" and meta["labels"] == [str(i) for i in range(10)]
            assert accuracy(base) >= 0.90
        finally:
            docker_api.remove_container(cid, force=True)
    finally:
        with contextlib.suppress(Exception):
            docker_api.remove_image(tag, force=True)
        remove_leftovers(build)


@pytest.mark.timeout(1800)
def test_zipped_saved_model_on_full_tensorflow(user_models, docker_api, test_labels, tmp_path, unique_name):
    archive = shutil.make_archive(str(tmp_path / "exported"), "zip", user_models["other"], "saved_model")
    tag = f"aicstest-tf-user-savedmodel:{test_labels['ai-container-studio.test']}"
    values = {"runtime": "tensorflow", "model": archive, "name": "exported"}
    build, _, _ = build_variant(values, tmp_path / "ctx", tag, test_labels)
    try:
        assert package_steps(build)["tensorflow"].cached
        cid, ports = run_container(docker_api, tag, test_labels, unique_name("savedmodel"), ports={8080: 0})
        try:
            base = f"http://127.0.0.1:{ports[8080]}"
            wait_for(f"{base}/health", docker_api, cid, timeout=120)
            meta = http("GET", f"{base}/metadata")[1]
            assert meta["framework"] == "tensorflow" and meta["labels"] == [str(i) for i in range(10)]
            assert accuracy(base) >= 0.90
        finally:
            docker_api.remove_container(cid, force=True)
    finally:
        with contextlib.suppress(Exception):
            docker_api.remove_image(tag, force=True)
