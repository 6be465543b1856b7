"""Building the tensorflow-image template's variants on the real engine (engine, ui and perf tests).

The package layers are kept as one cache image per runtime (newest only), so a second run is fast:
aics-cache/tensorflow-image-tf (TensorFlow, shared by the full image and the LiteRT build's first stage)
and aics-cache/tensorflow-image-litert. The first stage of a LiteRT build leaves an untagged image behind
on the classic builder: ``remove_leftovers`` removes it. A build from nothing downloads about 600 MB.
"""

from __future__ import annotations

import contextlib
import io
import tarfile
import time
from pathlib import Path

from gui.builder import assemble_context, get_template
from gui.engine.build import BuildStep, ImageBuild
from tests.support.templates import CREATED, engine

COLD_TENSORFLOW_BUILD_S = 1800  # pytest-timeout of a test that may build a variant from nothing

CACHE_IMAGES = {
    "tensorflow": "aics-cache/tensorflow-image-tf",
    "litert": "aics-cache/tensorflow-image-litert",
}


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


def ensure_tensorflow_cache(docker_api, labels: dict, tmp: Path) -> str:
    """The TensorFlow package layer (``CACHE_IMAGES["tensorflow"]``, to run TensorFlow code in): when
    missing, build the template's LiteRT variant (its first stage installs TensorFlow and the build keeps
    that layer), then remove the built image and its stage leftovers. Returns the image reference."""
    import docker

    ref = f"{CACHE_IMAGES['tensorflow']}:latest"
    try:
        docker_api.inspect_image(ref)
        return ref
    except docker.errors.ImageNotFound:
        pass
    build, _lines, _s = build_variant({"runtime": "litert"}, tmp / "ctx", f"aicstest-tf-cache:{time.time_ns()}",
                                      labels)
    try:
        docker_api.inspect_image(ref)
    finally:
        with contextlib.suppress(Exception):
            docker_api.remove_image(build.image_id, force=True)
        remove_leftovers(build)
    return ref


SMALL_TFLITE = """
import sys
sys.path.insert(0, "/dockerfiles/tensorflow-image")  # its train_demo finds ../sklearn-image and ../_serving
import train_demo as t
t.tf.keras.utils.set_random_seed(0)
x, y = t.data()
m = t.build_model()
m.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
m.fit(x[:t.TRAIN_ROWS], y[:t.TRAIN_ROWS], epochs=int(sys.argv[1]), batch_size=32, verbose=0)
open("/out/digits.tflite", "wb").write(t.to_tflite(m))
"""


def small_tflite(docker_api, labels: dict, out: Path, epochs: int = 3) -> Path:
    """The demo's CNN trained for a few epochs on load_digits rows 0-1499 and converted to .tflite, in a
    container of the TensorFlow cache image (seconds, where the LiteRT demo's build trains for minutes):
    a model file for cheap LiteRT images. Returns out/digits.tflite."""
    tf_image = ensure_tensorflow_cache(docker_api, labels, out)
    out.mkdir(parents=True, exist_ok=True)
    out.chmod(0o777)
    (out / "train.py").write_text(SMALL_TFLITE)
    dockerfiles = get_template("tensorflow-image").directory.parent
    c = docker_api.create_container(
        tf_image, entrypoint=["/opt/venv/bin/python", "/out/train.py", str(epochs)], labels=labels, user="0",
        host_config=docker_api.create_host_config(binds={str(out): {"bind": "/out", "mode": "rw"},
                                                         str(dockerfiles): {"bind": "/dockerfiles", "mode": "ro"}}))
    try:
        docker_api.start(c["Id"])
        code = docker_api.wait(c["Id"], timeout=600)["StatusCode"]
        assert code == 0, docker_api.logs(c["Id"]).decode()[-3000:]
    finally:
        docker_api.remove_container(c["Id"], force=True)
    return out / "digits.tflite"


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
