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
import tarfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_digits

from gui.builder import assemble_context, get_template
from gui.engine.build import CACHE_HIT, BuildStep, ImageBuild
from tests.engine.template_support import CREATED, engine, http, run_container, wait_for

TEST_ROWS = range(1500, 1797)
CACHE_IMAGES = {
    "tensorflow": "aics-cache/tensorflow-image-tf",
    "litert": "aics-cache/tensorflow-image-litert",
}
MAX_LITERT_BYTES = 450 * 1000 * 1000


# -- building (also used by tests/perf/bench_litert.py) ---------------------------------------------
def package_steps(build: ImageBuild) -> dict[str, BuildStep]:
    """The `pip install` steps by runtime: "tensorflow" (requirements.txt) and "litert" (final stage)."""
    found = {}
    for s in build.steps:
        if s.instruction.startswith("RUN") and "pip install" in s.instruction:
            found["tensorflow" if "--requirement" in s.instruction else "litert"] = s
    return found


def keep_package_caches(build: ImageBuild) -> None:
    """Tag each package layer as its runtime's cache image (newest only), so later builds reuse it."""
    api = engine().api()
    for runtime, step in package_steps(build).items():
        repo = CACHE_IMAGES[runtime]
        try:
            old = api.inspect_image(f"{repo}:latest")["Id"]
        except Exception:
            old = None
        api.tag(step.layer_id, repo, "latest", force=True)
        if old and old != api.inspect_image(f"{repo}:latest")["Id"]:
            with contextlib.suppress(Exception):  # still the parent of another image: then it stays
                api.remove_image(old)


def stage_leftovers(build: ImageBuild) -> list[str]:
    """The last layer of every stage but the final one: untagged images the classic builder leaves."""
    out = []
    for prev, step in zip(build.steps, build.steps[1:], strict=False):
        if step.instruction.startswith("FROM") and not prev.instruction.startswith("FROM"):
            out.append(prev.layer_id)
    return out


def remove_leftovers(build: ImageBuild) -> None:
    api = engine().api()
    for layer in stage_leftovers(build):
        with contextlib.suppress(Exception):  # gone, or a layer of an image still in use
            api.remove_image(layer)


def build_variant(values: dict, context_dir: Path, tag: str, labels: dict) -> tuple[ImageBuild, list, float]:
    """Assemble and build tensorflow-image with `values`; keeps the package caches. (build, lines, seconds)"""
    t = get_template("tensorflow-image")
    assemble_context(t, {**t.defaults(), **values}, context_dir)
    return build_context(context_dir, tag, labels)


def build_context(context_dir: Path, tag: str, labels: dict) -> tuple[ImageBuild, list, float]:
    t0 = time.monotonic()
    build = ImageBuild(engine(), context_dir, tag, labels=labels, buildargs={"AICS_CREATED": CREATED})
    lines = list(build)
    seconds = time.monotonic() - t0
    assert lines[-1].done and build.image_id, "\n".join(line.text for line in lines[-30:])
    keep_package_caches(build)
    return build, lines, seconds


# A second model, unlike the demo: another seed and fewer epochs, trained in the full image.
TRAIN_OTHER = """
import sys
sys.path.insert(0, "/opt/aics/demo")
from pathlib import Path
import train_demo as t
t.tf.keras.utils.set_random_seed(1)
x, y = t.data()
m = t.build_model()
m.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
m.fit(x[:t.TRAIN_ROWS], y[:t.TRAIN_ROWS], epochs=25, batch_size=32, verbose=0)
out = Path("/tmp/other")
out.mkdir()
m.save(out / "model.keras")
(out / "model.tflite").write_bytes(t.to_tflite(m))
m.export(str(out / "saved_model"), verbose=False)
"""


def copy_from_image(docker_api, image: str, path: str, dest: Path, labels: dict, script: str = "") -> Path:
    """Copy a file or folder out of an image into `dest`, after running `script` (Python) there if given."""
    command = ["python3", "-c", script] if script else ["true"]
    c = docker_api.create_container(image, entrypoint=command, command=[], labels=labels)
    try:
        if script:
            docker_api.start(c["Id"])
            result = docker_api.wait(c["Id"], timeout=600)
            assert result["StatusCode"] == 0, docker_api.logs(c["Id"]).decode()[-2000:]
        stream, _ = docker_api.get_archive(c["Id"], path)
        with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
            tar.extractall(dest, filter="data")
    finally:
        docker_api.remove_container(c["Id"], force=True)
    return dest / Path(path).name


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
