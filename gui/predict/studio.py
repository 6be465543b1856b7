"""Client for our own serving images: the studio-v1 protocol (shared/PROTOCOL.md)."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

from gui.predict.client import PredictionClient, check_answer_count, check_rows
from gui.predict.errors import PredictError
from gui.predict.models import IMAGE, TABULAR, FeatureRange, ModelMetadata, Prediction
from gui.predict.pictures import KEEP_SIDE, prepare_upload
from gui.predict.transport import parse_json


def parse_metadata(doc: dict) -> ModelMetadata:
    """A studio-v1 ``GET /metadata`` answer as ModelMetadata."""
    inp = doc.get("input") or {}
    if not isinstance(inp, dict):
        raise PredictError(f"the server's metadata has an unreadable 'input': {inp!r}", kind="answer")
    kind = inp.get("kind") or IMAGE

    def number(key):
        value = inp.get(key)
        try:
            return int(value) if value is not None else None
        except (TypeError, ValueError):
            raise PredictError(
                f"the server's metadata has a bad input {key}: {value!r}", kind="answer"
            ) from None

    return ModelMetadata(
        name=str(doc.get("name") or ""),
        task=str(doc.get("task") or ""),
        labels=tuple(str(x) for x in doc.get("labels") or ()),
        input_kind=kind,
        width=number("width") if kind == IMAGE else None,
        height=number("height") if kind == IMAGE else None,
        channels=number("channels") if kind == IMAGE else None,
        scaling=str(inp.get("scaling") or "0..1"),
        features=tuple(str(x) for x in inp.get("features") or ()) if kind == TABULAR else (),
        version=str(doc.get("version") or ""),
        protocol="studio-v1",
        description=_text(doc.get("description")),
        feature_ranges=_feature_ranges(inp.get("feature_ranges")) if kind == TABULAR else (),
    )


def _feature_ranges(value) -> tuple[FeatureRange, ...]:
    """Optional input.feature_ranges: entries that are not a name and three finite numbers are skipped
    (a form without typical values is still a form)."""
    out = []
    for item in value if isinstance(value, list) else ():
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            continue
        try:
            lo, hi, mean = (float(item[k]) for k in ("min", "max", "mean"))
        except (KeyError, TypeError, ValueError):
            continue
        if all(math.isfinite(v) for v in (lo, hi, mean)) and lo <= hi:
            out.append(FeatureRange(item["name"], lo, hi, mean))
    return tuple(out)


def _text(value) -> str:
    """An optional text field of an answer: "" when absent or not text (older servers, other tools)."""
    return " ".join(value.split()) if isinstance(value, str) else ""


def parse_predictions(doc: dict, top_k: int, ms: float, note: str = "") -> Prediction:
    """One picture's studio-v1 answer as a Prediction (sorted best first, at most ``top_k``)."""
    items = doc.get("predictions")
    if not isinstance(items, list):
        raise PredictError("the server's answer has no 'predictions' list", kind="answer")
    pairs = []
    for item in items:
        if not isinstance(item, dict) or "label" not in item:
            raise PredictError(
                f"the server's answer has a prediction without a label: {item!r}", kind="answer"
            )
        score = item.get("score")
        try:
            score = float(score) if score is not None else None
        except (TypeError, ValueError):
            raise PredictError(
                f"the server's answer has a score that is no number: {score!r}", kind="answer"
            ) from None
        pairs.append((str(item["label"]), score))
    pairs.sort(key=lambda p: -1.0 if p[1] is None else p[1], reverse=True)
    pairs = pairs[: max(1, top_k)]
    timing = doc.get("timing_ms") or {}
    server = (
        tuple((str(k), float(v)) for k, v in timing.items() if isinstance(v, int | float))
        if isinstance(timing, dict)
        else ()
    )
    return Prediction(
        labels=tuple(p[0] for p in pairs),
        scores=tuple(p[1] for p in pairs),
        round_trip_ms=ms,
        server_timing=server,
        note=note,
        unsure=_text(doc.get("unsure")),
    )


class StudioClient(PredictionClient):
    """Speaks studio-v1: ``/health``, ``/metadata``, ``POST /predict`` with picture bytes or JSON rows."""

    protocol = "studio-v1"

    def _read_metadata(self) -> ModelMetadata:
        return parse_metadata(self.transport.get_json("/metadata"))

    def ready(self) -> bool:
        try:
            doc = self.transport.get_json("/health")
        except PredictError as exc:
            if exc.status == 503:
                return False
            raise
        return doc.get("status") == "ready"

    def predict_image(self, data: bytes, top_k: int = 5) -> Prediction:
        meta = self.metadata()
        start = time.perf_counter()
        if meta.input_kind != IMAGE:
            raise PredictError(f"the model at {self.url} takes table rows, not pictures", kind="input")
        upload = prepare_upload(data, meta, keep_side=KEEP_SIDE)  # the server preprocesses it itself
        resp, _ = self.transport.request(
            "POST",
            "/predict",
            data=upload.data,
            params={"top_k": top_k},
            headers={"Content-Type": upload.content_type},
        )
        doc = parse_json(resp)
        return parse_predictions(doc, top_k, (time.perf_counter() - start) * 1000.0, upload.note)

    def predict_rows(self, rows: Sequence[Sequence[float]]) -> list:
        meta = self.metadata()
        if meta.input_kind == IMAGE:
            raise PredictError(f"the model at {self.url} takes pictures, not table rows", kind="input")
        checked = check_rows(rows, len(meta.features) or None)
        doc, _ = self.transport.post_json("/predict", {"instances": checked})
        out = check_answer_count(doc.get("predictions"), len(checked))
        return out
