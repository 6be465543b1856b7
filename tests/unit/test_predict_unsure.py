"""The optional studio-v1 fields of issue 10: a picture result's "unsure" reason and the model's description."""

from __future__ import annotations

from gui.predict import studio
from gui.predict.models import ModelMetadata, Prediction


def answer(**extra) -> dict:
    return {
        "predictions": [{"label": "4", "score": 0.41}, {"label": "9", "score": 0.38}],
        "timing_ms": {"preprocess": 1.0, "inference": 0.5},
        **extra,
    }


def test_an_unsure_answer_keeps_its_reason():
    p = studio.parse_predictions(answer(unsure="low confidence: the best guess, 4, has only 41%"), 5, 3.0)
    assert p.unsure == "low confidence: the best guess, 4, has only 41%"
    assert p.top_label == "4" and p.scores == (0.41, 0.38)


def test_a_confident_answer_or_an_older_server_has_no_reason():
    assert studio.parse_predictions(answer(), 5, 3.0).unsure == ""
    assert Prediction(labels=("1",), scores=(1.0,), round_trip_ms=1.0).unsure == ""


def test_a_reason_that_is_not_text_is_ignored_and_whitespace_is_tidied():
    assert studio.parse_predictions(answer(unsure=True), 5, 3.0).unsure == ""
    assert studio.parse_predictions(answer(unsure=["x"]), 5, 3.0).unsure == ""
    assert studio.parse_predictions(answer(unsure="  almost no ink:\n the picture looks blank "), 5, 3.0).unsure == (
        "almost no ink: the picture looks blank"
    )


def test_metadata_description_is_optional():
    doc = {
        "name": "digits",
        "task": "image-classification",
        "labels": ["0", "1"],
        "input": {"kind": "image", "width": 8, "height": 8, "channels": 1},
    }
    assert studio.parse_metadata(doc).description == ""
    meta = studio.parse_metadata({**doc, "description": "Recognises one digit 0-9 per picture."})
    assert meta.description == "Recognises one digit 0-9 per picture."
    assert studio.parse_metadata({**doc, "description": 42}).description == ""
    assert ModelMetadata(name="x").description == ""
