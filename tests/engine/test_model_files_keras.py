"""Real Keras files (issue 14): a digits CNN trained in a container of the cached TensorFlow image
(aics-cache/tensorflow-image-tf, as tensorflow-image's own tests do) and saved as .keras, .h5 and
.tflite, plus a .keras with a Lambda layer. The studio reads them without TensorFlow, chooses tensorflow-image and its
input size; the .keras and .h5 images (LiteRT) label held-back digits >= 90 %."""

from __future__ import annotations

import io
import shutil
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_digits

from gui.builder import get_template
from gui.models import inspect_model
from tests.support.model_files import TEST_ROWS
from tests.support.templates import build_template, http, run_container, wait_for
from tests.support.tensorflow_builds import CACHE_IMAGES, COLD_TENSORFLOW_BUILD_S, ensure_tensorflow_cache

TF_IMAGE = f"{CACHE_IMAGES['tensorflow']}:latest"  # aics-cache/tensorflow-image-tf
TRAIN = """
import sys
sys.path.insert(0, "/dockerfiles/tensorflow-image")  # its train_demo finds ../sklearn-image and ../_serving
import keras
import train_demo as t
t.tf.keras.utils.set_random_seed(0)
x, y = t.data()
m = t.build_model()
m.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
m.fit(x[:t.TRAIN_ROWS], y[:t.TRAIN_ROWS], epochs=40, batch_size=32, verbose=0)
m.save("/out/cnn.keras")
m.save("/out/cnn.h5")
open("/out/cnn.tflite", "wb").write(t.to_tflite(m))
lam = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Lambda(lambda v: v * 2.0), keras.layers.Flatten(),
                        keras.layers.Dense(10)])
lam.save("/out/lambda.keras")
"""


pytestmark = pytest.mark.timeout(COLD_TENSORFLOW_BUILD_S)  # TF_IMAGE may be built from nothing


@pytest.fixture(scope="module")
def keras_files(docker_api, test_labels, tmp_path_factory):
    ensure_tensorflow_cache(docker_api, test_labels, tmp_path_factory.mktemp("tf-build"))
    out = tmp_path_factory.mktemp("keras")
    out.chmod(0o777)
    (out / "train.py").write_text(TRAIN)
    dockerfiles = get_template("tensorflow-image").directory.parent
    c = docker_api.create_container(
        TF_IMAGE, entrypoint=["/opt/venv/bin/python", "/out/train.py"], labels=test_labels, user="0",
        host_config=docker_api.create_host_config(binds={str(out): {"bind": "/out", "mode": "rw"},
                                                         str(dockerfiles): {"bind": "/dockerfiles", "mode": "ro"}}))
    try:
        docker_api.start(c["Id"])
        assert docker_api.wait(c["Id"], timeout=600)["StatusCode"] == 0, docker_api.logs(c["Id"]).decode()[-3000:]
    finally:
        docker_api.remove_container(c["Id"], force=True)
    return out


def digit_png(row: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.round(row.reshape(8, 8) * 255 / 16).astype(np.uint8), "L").save(buf, "PNG")
    return buf.getvalue()


def test_keras_files_are_read_without_tensorflow(keras_files):
    for name, fmt in (("cnn.keras", "keras"), ("cnn.h5", "keras-h5")):
        info = inspect_model(keras_files / name)
        assert (info.format, info.template, info.input_shape) == (fmt, "tensorflow-image", (8, 8, 1)), name
        assert info.values == {"model": str(keras_files / name), "height": 8, "width": 8, "channels": 1}
        assert "10 outputs" in info.summary and not info.needs_trust
    info = inspect_model(keras_files / "cnn.tflite")  # its FlatBuffer's tensors, without a TFLite runtime
    assert (info.format, info.template, info.input_shape, info.input_type) == (
        "tflite", "tensorflow-image", (8, 8, 1), "float32")
    assert info.values["runtime"] == "litert" and (info.values["width"], info.values["height"]) == (8, 8)
    assert "output [N, 10]" in info.summary
    info = inspect_model(keras_files / "lambda.keras")
    assert info.needs_trust and "Lambda layer" in info.risk()


@pytest.mark.parametrize("name", ["cnn.keras", "cnn.h5"])
def test_keras_file_builds_with_the_values_it_filled_and_answers(
    keras_files, name, docker_api, test_labels, tmp_path, unique_name
):
    model = tmp_path / name
    shutil.copyfile(keras_files / name, model)
    info = inspect_model(model)
    t = get_template(info.template)
    tag = f"aicstest-keras-{name.replace('.', '-')}:{test_labels['ai-container-studio.test']}"
    build, _ = build_template(t, {**t.defaults(), **info.values}, tmp_path / "ctx", tag, test_labels)
    cid, ports = run_container(docker_api, tag, test_labels, unique_name("keras"), ports={8080: 0})
    try:
        base = f"http://127.0.0.1:{ports[8080]}"
        wait_for(f"{base}/health", docker_api, cid, timeout=90)
        digits = load_digits()

        def ask(i):
            status, body = http("POST", f"{base}/predict", digit_png(digits.data[i]), {"Content-Type": "image/png"})
            assert status == 200, body
            return body["predictions"][0]["label"] == str(digits.target[i])

        with ThreadPoolExecutor(8) as pool:
            right = sum(pool.map(ask, TEST_ROWS))
        assert right / len(TEST_ROWS) >= 0.90, right
    finally:
        docker_api.remove_container(cid, force=True)
        docker_api.remove_image(build.image_id, force=True)
