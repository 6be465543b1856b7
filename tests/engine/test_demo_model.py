"""The digit demos on the real engine (sklearn-image, and tensorflow-image on LiteRT): right on digits
people draw or type, and "unsure" when a picture is blank, a photo, or its best guess is weak. The pictures are held back from the build
(tests/perf/held_back_digits.py); tests/perf/bench_demo_accuracy.py measures the same on more of them."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_digits, load_sample_images

from gui.predict.studio import parse_metadata, parse_predictions
from tests.perf.held_back_digits import fonts, held_back_set, load_digits_png
from tests.support.templates import http, run_container, wait_for
from tests.support.tensorflow_builds import COLD_TENSORFLOW_BUILD_S

pytestmark = pytest.mark.timeout(COLD_TENSORFLOW_BUILD_S)  # the template images may be built from nothing


@pytest.fixture(scope="module", params=["sklearn-image", "tensorflow-litert"])
def demo(request, docker_api, test_labels, run_id):
    """A container of the session's demo image (tests/support/demo_images.py) and that build's log lines."""
    image = request.getfixturevalue("sklearn_digits_image" if request.param == "sklearn-image"
                                    else "litert_digits_image")
    cid, ports = run_container(
        docker_api, image["tag"], test_labels, f"aicstest-{run_id}-demo-{request.param}", ports={8080: 0}
    )
    base = f"http://127.0.0.1:{ports[8080]}"
    try:
        wait_for(f"{base}/health", docker_api, cid)
        yield {"base": base, "lines": image["lines"]}
    finally:
        docker_api.remove_container(cid, force=True)


def ask(base: str, picture: bytes) -> dict:
    status, body = http("POST", f"{base}/predict?top_k=3", picture, {"Content-Type": "image/png"}, timeout=30)
    assert status == 200, body
    return body


def png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def test_held_back_typed_and_drawn_digits(demo):
    assert fonts(), "the held-back fonts (DejaVu, fonts-dejavu-core) are missing on this computer"
    items = held_back_set(200, seed=77)
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda it: ask(demo["base"], it[2]), items))
    right = [a["predictions"][0]["label"] == str(d) for (_, d, _), a in zip(items, answers, strict=True)]
    for kind in ("typed", "drawn"):
        share = np.mean([r for (k, _, _), r in zip(items, right, strict=True) if k == kind])
        assert share >= 0.95, (kind, share)
    assert sum("unsure" in a for a in answers) <= 10  # clear digits are not reported as unsure


def test_rows_1500_to_1796_as_8x8_pictures(demo):
    digits = load_digits()
    rows = range(1500, 1797, 3)
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda i: ask(demo["base"], load_digits_png(digits.data[i])), rows))
    right = [a["predictions"][0]["label"] == str(digits.target[i]) for i, a in zip(rows, answers, strict=True)]
    assert np.mean(right) >= 0.90, np.mean(right)


def test_blank_pictures_and_photos_are_unsure(demo):
    base = demo["base"]
    for img in (Image.new("L", (400, 300), 255), Image.new("RGB", (300, 300), (10, 10, 10))):
        body = ask(base, png(img))
        assert "no ink" in body["unsure"], body
    for photo in load_sample_images().images:
        body = ask(base, png(Image.fromarray(photo)))
        assert "photo" in body["unsure"], body
    # the client reads the reason; a confident answer has none
    p = parse_predictions(body, 3, 1.0)
    assert "photo" in p.unsure
    sure = parse_predictions(ask(base, held_back_set(2, seed=3)[0][2]), 3, 1.0)
    assert sure.unsure == ""


def test_metadata_says_what_the_demo_recognises(demo):
    status, meta = http("GET", f"{demo['base']}/metadata")
    assert status == 200 and "digit" in meta["description"] and "drawn or typed" in meta["description"]
    assert meta["input"]["width"] == 8 and meta["input"]["polarity"] == "light-on-dark"
    assert "digit" in parse_metadata(meta).description
    lines = demo["lines"]
    train = next(i for i, line in enumerate(lines) if "RUN" in line and "train_demo.py" in line)
    if any("Using cache" in line for line in lines[train + 1:train + 3]):
        return  # an image left by an interrupted run still holds the trained layer: nothing was printed
    assert any("accuracy" in line and "rows 1500-1796" in line for line in lines)
