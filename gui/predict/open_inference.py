"""Client for the Open Inference Protocol v2 (KServe v2, Triton, MLServer, and our own images)."""

from __future__ import annotations

import base64
import time
from collections.abc import Sequence
from dataclasses import replace
from urllib.parse import quote

from gui.predict.client import PredictionClient, check_rows, flat, label_for, ranked
from gui.predict.errors import PredictError
from gui.predict.models import IMAGE, TABULAR, ModelMetadata, Prediction
from gui.predict.pictures import picture_tensor, prepare_upload

SCORE_NAMES = ("scores", "probabilities", "predict_proba", "probs", "softmax", "output", "logits")
LABEL_NAMES = ("label", "labels", "class", "classes", "predict", "predictions")
NUMERIC = {
    "FP16",
    "FP32",
    "FP64",
    "INT8",
    "INT16",
    "INT32",
    "INT64",
    "UINT8",
    "UINT16",
    "UINT32",
    "UINT64",
    "BOOL",
}


def _dim(value) -> int | None:
    try:
        n = int(value)
    except (TypeError, ValueError):
        return None
    return n if n > 0 else None


def parse_metadata(doc: dict) -> ModelMetadata:
    """A v2 ``GET /v2/models/{name}`` answer as ModelMetadata (picture size and layout from the input shape)."""
    inputs = doc.get("inputs") or []
    ok = isinstance(inputs, list) and inputs and isinstance(inputs[0], dict)
    inp = inputs[0] if ok else {}
    shape = list(inp.get("shape") or [])
    datatype = str(inp.get("datatype") or "FP32").upper()
    fields: dict = {"input_name": str(inp.get("name") or "input"), "protocol": "v2"}
    if datatype == "BYTES":
        fields.update(input_kind=IMAGE, layout="BYTES")
    elif len(shape) == 4:
        if _dim(shape[3]) in (1, 3, 4):
            fields.update(layout="NHWC", height=_dim(shape[1]), width=_dim(shape[2]), channels=_dim(shape[3]))
        elif _dim(shape[1]) in (1, 3, 4):
            fields.update(layout="NCHW", channels=_dim(shape[1]), height=_dim(shape[2]), width=_dim(shape[3]))
        else:
            fields.update(layout="NHWC", height=_dim(shape[1]), width=_dim(shape[2]))
    elif len(shape) == 3:
        fields.update(layout="NHW", height=_dim(shape[1]), width=_dim(shape[2]), channels=1)
    elif len(shape) == 2:
        n = _dim(shape[1])
        fields.update(input_kind=TABULAR, layout="NF", features=tuple(f"x{i + 1}" for i in range(n or 0)))
    outputs = doc.get("outputs") or []
    names = tuple(str(o.get("name")) for o in outputs if isinstance(o, dict) and o.get("name"))
    versions = doc.get("versions") or []
    return ModelMetadata(
        name=str(doc.get("name") or ""),
        version=str(versions[-1]) if isinstance(versions, list) and versions else "",
        outputs=names,
        datatype=datatype,
        **fields,
    )


def _rows(output: dict, n: int) -> list[list]:
    """An output tensor split into ``n`` rows (flat values per row)."""
    values = flat(output.get("data"))
    if n <= 0 or len(values) % n:
        raise PredictError(
            f"the server's output {output.get('name')!r} has {len(values)} values for {n} inputs",
            kind="answer",
        )
    step = len(values) // n
    return [values[i * step : (i + 1) * step] for i in range(n)]


def _pick(outputs: list[dict], names: tuple[str, ...], want) -> dict | None:
    candidates = [o for o in outputs if want(o)]
    for name in names:
        for o in candidates:
            if str(o.get("name", "")).lower() == name:
                return o
    return candidates[0] if candidates else None


def parse_outputs(doc: dict, n: int) -> tuple[list[list[float]] | None, list | None]:
    """From a v2 infer answer: per row class scores (or None) and per row a label or value (or None)."""
    outputs = doc.get("outputs")
    if not isinstance(outputs, list) or not outputs:
        raise PredictError("the server's answer has no 'outputs'", kind="answer")
    outputs = [o for o in outputs if isinstance(o, dict)]

    def width(o: dict) -> int:
        values = flat(o.get("data"))
        return len(values) // n if n else 0

    numeric = [o for o in outputs if str(o.get("datatype", "FP32")).upper() in NUMERIC]
    scores_out = _pick(numeric, SCORE_NAMES, lambda o: width(o) >= 2)
    label_out = _pick(outputs, LABEL_NAMES, lambda o: o is not scores_out and width(o) == 1)
    scores = _rows(scores_out, n) if scores_out else None
    labels = None
    if label_out:
        labels = [row[0] for row in _rows(label_out, n)]
        if str(label_out.get("datatype", "")).upper() == "BYTES":
            labels = [v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in labels]
    if scores is None and labels is None:
        raise PredictError(
            "the server's answer has no scores or labels among outputs "
            + ", ".join(repr(o.get("name")) for o in outputs),
            kind="answer",
        )
    return scores, labels


def _label_text(value) -> str:
    """A label as the server sent it; a whole number (7.0) as "7", like a numbered class."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class OpenInferenceClient(PredictionClient):
    """Speaks the Open Inference Protocol v2 to one model on the server."""

    protocol = "v2"

    def __init__(self, url: str, model: str, **kwargs):
        super().__init__(url, **kwargs)
        if not model:
            raise PredictError("a v2 server needs the model's name", kind="input")
        self.model = model
        self._path = f"/v2/models/{quote(model, safe='')}"

    def models(self) -> list[str]:
        """Names of the models the server holds (``POST /v2/repository/index``, where it offers that)."""
        doc, _ = self.transport.post_json("/v2/repository/index", {}, any_json=True)
        items = doc if isinstance(doc, list) else doc.get("models", [])
        return [str(m.get("name")) for m in items if isinstance(m, dict) and m.get("name")]

    def _read_metadata(self) -> ModelMetadata:
        return parse_metadata(self.transport.get_json(self._path))

    def ready(self) -> bool:
        try:
            self.transport.request("GET", self._path + "/ready")
        except PredictError as exc:
            if exc.kind == "http":
                return False
            raise
        return True

    def _infer(self, tensor: dict, meta: ModelMetadata) -> tuple[dict, float]:
        body: dict = {"inputs": [tensor]}
        if meta.outputs:
            body["outputs"] = [{"name": name} for name in meta.outputs]
        return self.transport.post_json(self._path + "/infer", body)

    def predict_image(self, data: bytes, top_k: int = 5) -> Prediction:
        meta = self.metadata()
        start = time.perf_counter()
        if meta.input_kind != IMAGE:
            raise PredictError(
                f"model {self.model!r} takes rows of {len(meta.features) or 'some'} numbers; "
                "fill in width, height and channels to send pictures to it",
                kind="input",
            )
        if meta.layout == "BYTES" or self.overrides.encoding == "base64":
            upload = prepare_upload(data, meta)
            note = upload.note
            tensor = {
                "name": meta.input_name,
                "shape": [1],
                "datatype": "BYTES",
                "data": [base64.b64encode(upload.data).decode("ascii")],
                "parameters": {"content_type": "base64"},
            }
        else:
            pic = picture_tensor(data, meta)
            note = pic.note
            tensor = {
                "name": meta.input_name,
                "shape": [1, *pic.shape],
                "datatype": "FP32",
                "data": pic.values,
            }
        doc, _ = self._infer(tensor, meta)
        scores, labels = parse_outputs(doc, 1)
        ms = (time.perf_counter() - start) * 1000.0
        if scores is not None:
            prediction = ranked(scores[0], meta.labels, top_k, ms, note=note)
            if labels is not None and not meta.labels:
                # The metadata names no classes, so ranked() could only number them; the server's own
                # label ("okapi") says what the best class is.
                prediction = replace(prediction, labels=(_label_text(labels[0]), *prediction.labels[1:]))
            return prediction
        label = labels[0]
        if isinstance(label, int | float) and float(label).is_integer() and meta.labels:
            label = label_for(int(label), meta.labels)
        return Prediction(labels=(str(label),), scores=(None,), round_trip_ms=ms, note=note)

    def predict_rows(self, rows: Sequence[Sequence[float]]) -> list:
        meta = self.metadata()
        checked = check_rows(rows, len(meta.features) or None)
        tensor = {
            "name": meta.input_name,
            "shape": [len(checked), len(checked[0])],
            "datatype": "FP32",
            "data": [v for row in checked for v in row],
        }
        doc, _ = self._infer(tensor, meta)
        scores, labels = parse_outputs(doc, len(checked))
        if labels is not None:
            return labels
        return [label_for(max(range(len(r)), key=lambda i: r[i]), meta.labels) for r in scores]
