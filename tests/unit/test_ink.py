"""dockerfiles/_serving/ink.py without a container: what the demo digit models get from a dropped picture."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

SERVING = Path(__file__).resolve().parents[2] / "dockerfiles" / "_serving"


@pytest.fixture(scope="module")
def ink():
    sys.path.insert(0, str(SERVING))
    try:
        import ink as module
    finally:
        sys.path.remove(str(SERVING))
    return module


SPEC = {"width": 8, "height": 8, "channels": 1, "range": [0.0, 16.0], "polarity": "light-on-dark"}


def bar(size=(400, 300), box=(50, 40, 80, 200), paper=255, pen=0, mode="L") -> Image.Image:
    img = Image.new(mode, size, paper)
    ImageDraw.Draw(img).rectangle(box, fill=pen)
    return img


def centre_and_mass(a: np.ndarray) -> tuple[float, float, float]:
    a = a[:, :, 0]
    return (a.sum(axis=1) @ np.arange(8)) / a.sum(), (a.sum(axis=0) @ np.arange(8)) / a.sum(), a.sum()


def same_picture(a: np.ndarray, b: np.ndarray) -> None:
    """Equal up to the half-pixel that centring by mass may round either way."""
    (ya, xa, ma), (yb, xb, mb) = centre_and_mass(a), centre_and_mass(b)
    assert abs(ya - yb) <= 0.5 and abs(xa - xb) <= 0.5 and abs(ma - mb) <= 0.1 * ma
    assert abs(ya - 3.5) <= 0.5 and abs(xa - 3.5) <= 0.5


def test_both_polarities_give_the_same_input_light_on_dark(ink):
    dark_on_light = ink.fit_ink(bar(), SPEC)
    light_on_dark = ink.fit_ink(bar(paper=0, pen=255), SPEC)
    same_picture(dark_on_light.array, light_on_dark.array)
    assert dark_on_light.array.shape == (8, 8, 1) and dark_on_light.array.max() == pytest.approx(16.0)
    assert dark_on_light.doubt == ""


def test_the_ink_is_cropped_centred_and_keeps_its_aspect_ratio(ink):
    a = ink.fit_ink(bar(box=(10, 10, 40, 170)), SPEC).array  # a tall bar near a corner
    b = ink.fit_ink(bar(box=(300, 100, 330, 260)), SPEC).array  # the same bar elsewhere
    same_picture(a, b)
    a = a[:, :, 0]
    cols = np.flatnonzero(a.sum(axis=0) > 0.5)
    rows = np.flatnonzero(a.sum(axis=1) > 0.5)
    assert len(rows) >= 7 and len(cols) <= 3  # still a narrow upright bar, not stretched to a square
    assert abs(cols.mean() - 3.5) <= 0.5  # in the middle


def test_dark_on_light_models_and_ranges_are_respected(ink):
    out = ink.fit_ink(bar(), {**SPEC, "polarity": "dark-on-light", "range": [-1.0, 1.0], "channels": 3})
    assert out.array.shape == (8, 8, 3) and out.array.min() == pytest.approx(-1.0)
    assert out.array.max() == pytest.approx(1.0) and out.array[0, 0, 0] == pytest.approx(1.0)  # paper


def test_transparent_drawings_keep_their_strokes(ink):
    img = Image.new("RGBA", (200, 200), (0, 0, 0, 0))
    ImageDraw.Draw(img).line((100, 20, 100, 180), fill=(0, 0, 0, 255), width=12)
    out = ink.fit_ink(img, SPEC)
    assert out.doubt == "" and out.array.max() == pytest.approx(16.0)


def test_doubts_blank_speck_photo(ink):
    assert "no ink" in ink.fit_ink(Image.new("L", (300, 300), 255), SPEC).doubt
    assert "no ink" in ink.fit_ink(bar(size=(800, 800), box=(400, 400, 401, 401)), SPEC).doubt
    rng = np.random.default_rng(0)
    photo = Image.fromarray(rng.integers(0, 256, (120, 160, 3), dtype=np.uint8), "RGB")
    assert "photo" in ink.fit_ink(photo, SPEC).doubt
    # an 8x8 picture (a load_digits row) is mostly ink, and that is fine
    ring = np.full((8, 8), 200, np.uint8)
    ring[[0, 7]] = 0
    ring[3:5, 3:5] = 0
    assert ink.fit_ink(Image.fromarray(ring), SPEC).doubt == ""


def test_doubt_from_scores(ink):
    labels = [str(i) for i in range(3)]
    assert ink.doubt(np.array([0.9, 0.05, 0.05]), "", labels, {}) == ""
    assert ink.doubt(np.array([0.45, 0.35, 0.2]), "", labels, {}) == (
        "low confidence: the best guess, 0, has only 45%"
    )
    assert ink.doubt(np.array([0.7, 0.2, 0.1]), "", labels, {"unsure_below": 0.8}).startswith("low")
    assert ink.doubt(np.array([3.0, -1.0, 0.5]), "", labels, {}) == ""  # logits: no rule
    assert ink.doubt(np.array([0.99, 0.01, 0.0]), "almost no ink", labels, {}) == "almost no ink"


def test_model_notes_are_merged_when_present(ink, tmp_path):
    config = {"model": str(tmp_path / "model.joblib"), "input": {"width": 8, "height": 8}}
    assert ink.with_model_notes(config) == config
    (tmp_path / "about.json").write_text(json.dumps({"description": "Digits.", "input": {"fit": "ink"}}))
    merged = ink.with_model_notes(config)
    assert merged["description"] == "Digits." and merged["input"] == {"width": 8, "height": 8, "fit": "ink"}
    (tmp_path / "about.json").write_text("{not json")
    assert ink.with_model_notes(config) == config


def test_big_jpegs_are_read_at_a_reduced_scale(ink):
    buf = io.BytesIO()
    bar(size=(3000, 2000), box=(500, 300, 700, 1700)).convert("RGB").save(buf, "JPEG")
    out = ink.fit_ink(Image.open(io.BytesIO(buf.getvalue())), SPEC)
    assert out.doubt == "" and out.array.max() == pytest.approx(16.0)
