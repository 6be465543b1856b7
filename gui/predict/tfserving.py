"""Client for TensorFlow Serving's REST API (and servers that copy its v1 route, such as KServe's)."""

from __future__ import annotations

import base64
import time
from collections.abc import Sequence
from urllib.parse import quote

from gui.predict.client import PredictionClient, check_answer_count, check_rows, label_for, ranked
from gui.predict.errors import PredictError
from gui.predict.models import IMAGE, TABULAR, ModelMetadata, Prediction
from gui.predict.pictures import PictureTensor, picture_tensor, prepare_upload

SCORE_KEYS = ("scores", "probabilities", "probs", "predictions", "output_0", "dense", "logits")
DTYPES = {
    "DT_FLOAT": "FP32",
    "DT_DOUBLE": "FP64",
    "DT_HALF": "FP16",
    "DT_UINT8": "UINT8",
    "DT_INT32": "INT32",
    "DT_INT64": "INT64",
    "DT_STRING": "BYTES",
}


def _dims(tensor: dict) -> list[int] | None:
    shape = tensor.get("tensor_shape") or {}
    if shape.get("unknown_rank"):
        return None
    out = []
    for d in shape.get("dim") or []:
        try:
            out.append(int(d.get("size", -1)))
        except (TypeError, ValueError):
            out.append(-1)
    return out


def parse_metadata(doc: dict, name: str) -> ModelMetadata:
    """A ``GET /v1/models/{name}/metadata`` answer: input size, layout and type from the serving signature."""
    try:
        sigs = doc["metadata"]["signature_def"]["signature_def"]
    except (KeyError, TypeError):
        sigs = {}
    if not isinstance(sigs, dict):
        sigs = {}
    sig = sigs.get("serving_default") or next(iter(sigs.values()), {})
    inputs = sig.get("inputs") or {}
    fields: dict = {"protocol": "tf-serving"}
    if inputs:
        input_name, tensor = sorted(inputs.items())[0]
        dims = _dims(tensor) or []
        dtype = DTYPES.get(str(tensor.get("dtype")), "FP32")

        def dim(i):
            return dims[i] if i < len(dims) and dims[i] > 0 else None

        fields.update(input_name=input_name, datatype=dtype)
        if dtype == "BYTES":
            fields.update(layout="BYTES")
        elif len(dims) == 4:
            if dim(3) in (1, 3, 4):
                fields.update(layout="NHWC", height=dim(1), width=dim(2), channels=dim(3))
            else:
                fields.update(layout="NCHW", channels=dim(1), height=dim(2), width=dim(3))
        elif len(dims) == 3:
            fields.update(layout="NHW", height=dim(1), width=dim(2), channels=1)
        elif len(dims) == 2:
            fields.update(
                input_kind=TABULAR, layout="NF", features=tuple(f"x{i + 1}" for i in range(dim(1) or 0))
            )
        if dtype == "UINT8":
            fields["scaling"] = "0..255"
        fields["outputs"] = tuple(sorted(sig.get("outputs") or {}))
    version = ""
    spec = doc.get("model_spec") or {}
    if isinstance(spec, dict):
        version = str(spec.get("version") or "")
    return ModelMetadata(name=name, version=version, **fields)


def _scores_of(row) -> list | None:
    """The class scores in one row of ``predictions`` (a list, or a dict of named outputs), else None."""
    if isinstance(row, dict):
        for key in SCORE_KEYS:
            if isinstance(row.get(key), list):
                return row[key]
        lists = [v for v in row.values() if isinstance(v, list)]
        return lists[0] if lists else None
    if isinstance(row, list):
        return row
    return None


def _value_of(row):
    """The one label or value in one row of ``predictions`` that holds no score list."""
    if isinstance(row, dict):
        scalars = [v for v in row.values() if not isinstance(v, list)]
        return scalars[0] if scalars else None
    return row


class TFServingClient(PredictionClient):
    """Speaks TensorFlow Serving's REST API to one model: ``POST /v1/models/{name}:predict``."""

    protocol = "tf-serving"

    def __init__(self, url: str, model: str, **kwargs):
        super().__init__(url, **kwargs)
        if not model:
            raise PredictError("a TensorFlow Serving server needs the model's name", kind="input")
        self.model = model
        self._path = f"/v1/models/{quote(model, safe='')}"

    def _read_metadata(self) -> ModelMetadata:
        try:
            return parse_metadata(self.transport.get_json(self._path + "/metadata"), self.model)
        except PredictError as exc:
            if exc.status != 404:
                raise
        # No metadata route (KServe's v1 has none): the model must exist; the user's fields say the rest.
        self.transport.get_json(self._path)
        return ModelMetadata(name=self.model, protocol="tf-serving")

    def ready(self) -> bool:
        try:
            doc = self.transport.get_json(self._path)
        except PredictError as exc:
            if exc.kind == "http":
                return False
            raise
        if "ready" in doc:  # KServe
            return bool(doc["ready"])
        states = [v.get("state") for v in doc.get("model_version_status") or [] if isinstance(v, dict)]
        return "AVAILABLE" in states

    def _predict(self, instances: list) -> tuple[list, float]:
        doc, ms = self.transport.post_json(self._path + ":predict", {"instances": instances})
        predictions = check_answer_count(doc.get("predictions"), len(instances), "inputs")
        return predictions, ms

    def predict_image(self, data: bytes, top_k: int = 5) -> Prediction:
        meta = self.metadata()
        start = time.perf_counter()
        if meta.input_kind != IMAGE:
            raise PredictError(f"model {self.model!r} takes rows of numbers, not pictures", kind="input")
        if meta.layout == "BYTES" or self.overrides.encoding == "base64":
            upload = prepare_upload(data, meta)
            note, instance = upload.note, {"b64": base64.b64encode(upload.data).decode("ascii")}
        else:
            pic = picture_tensor(data, meta)
            note = pic.note
            values = (
                [round(v) for v in pic.values] if meta.datatype in ("UINT8", "INT32", "INT64") else pic.values
            )
            instance = PictureTensor(values, pic.shape).nested()
        predictions, _ = self._predict([instance])
        ms = (time.perf_counter() - start) * 1000.0
        scores = _scores_of(predictions[0])
        if scores is not None and len(scores) > 1:
            return ranked(scores, meta.labels, top_k, ms, note=note)
        value = scores[0] if scores else _value_of(predictions[0])
        if isinstance(value, int) and meta.labels:
            value = label_for(value, meta.labels)
        return Prediction(labels=(str(value),), scores=(None,), round_trip_ms=ms, note=note)

    def predict_rows(self, rows: Sequence[Sequence[float]]) -> list:
        meta = self.metadata()
        checked = check_rows(rows, len(meta.features) or None)
        predictions, _ = self._predict(checked)
        out = []
        for row in predictions:
            scores = _scores_of(row)
            if scores is None:
                out.append(_value_of(row))
            elif len(scores) == 1:
                out.append(scores[0])
            else:
                out.append(label_for(max(range(len(scores)), key=lambda i: scores[i]), meta.labels))
        return out
