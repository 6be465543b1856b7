"""The demo digits images, built once per test session and shared (registered by tests/conftest.py).

The demos train their model at build time (about a minute each), and only the package layer is kept as a
cache image, so every module that built its own paid that minute again. These fixtures build each demo
once, the first time a test asks for it, and give every module the same image: a module still runs its
own containers from it (tests stop, kill and restart those). Each gives ``{"tag", "image_id", "build",
"lines"}``: ``lines`` are the texts of that one build's log lines, for tests that read what the build
printed. The images carry the run's test label; they are removed at the end of the session.

They carry one more label, ``SHARED``, so they are never the very image another module builds from the same
template: its layers come from the cache then, and its own image, removed by id at its end, is not ours.

- ``sklearn_digits_image``: sklearn-image with its defaults (the demo trained on load_digits rows 0-1499).
- ``litert_digits_image``: tensorflow-image on LiteRT with its defaults (the demo CNN, as .tflite).
"""

from __future__ import annotations

import contextlib

import pytest

SHARED = {"ai-container-studio.test-shared": "demo"}

_failed: dict[str, str] = {}


def _built(name: str, build_it):
    """Build once; a build that failed fails every later test that asks, without building again."""
    if name in _failed:
        pytest.fail(_failed[name], pytrace=False)
    try:
        return build_it()
    except Exception as exc:
        _failed[name] = f"the shared {name} did not build: {exc}"
        raise


@pytest.fixture(scope="session")
def sklearn_digits_image(docker_api, test_labels, tmp_path_factory):
    """sklearn-image with its defaults, built once per session: ``{"tag", "image_id", "build", "lines"}``."""
    from gui.builder import get_template
    from tests.support.templates import build_template

    t = get_template("sklearn-image")
    tag = f"aicstest-shared-sklearn-digits:{test_labels['ai-container-studio.test']}"
    ctx = tmp_path_factory.mktemp("shared-sklearn-digits") / "ctx"
    labels = {**test_labels, **SHARED}
    build, lines = _built("sklearn_digits_image",
                          lambda: build_template(t, {**t.defaults(), "tag": tag}, ctx, tag, labels))
    yield {"tag": tag, "image_id": build.image_id, "build": build, "lines": [line.text for line in lines]}
    with contextlib.suppress(Exception):  # the session's cleanup removes it by label otherwise
        docker_api.remove_image(tag, force=True)


@pytest.fixture(scope="session")
def litert_digits_image(docker_api, test_labels, tmp_path_factory):
    """tensorflow-image on LiteRT, built once per session: ``{"tag", "image_id", "build", "lines"}``."""
    from tests.support.tensorflow_builds import build_variant, remove_leftovers

    tag = f"aicstest-shared-litert-digits:{test_labels['ai-container-studio.test']}"
    ctx = tmp_path_factory.mktemp("shared-litert-digits") / "ctx"
    # keeps aics-cache/tensorflow-image-tf and -litert
    labels = {**test_labels, **SHARED}
    build, lines, _s = _built("litert_digits_image",
                              lambda: build_variant({"runtime": "litert", "tag": tag}, ctx, tag, labels))
    yield {"tag": tag, "image_id": build.image_id, "build": build, "lines": [line.text for line in lines]}
    with contextlib.suppress(Exception):
        docker_api.remove_image(tag, force=True)
    remove_leftovers(build)  # the converter stage's untagged image
