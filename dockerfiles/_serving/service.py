"""What the server answers, without HTTP: studio-v1 and Open Inference Protocol v2 on one loaded model."""

from __future__ import annotations

import base64
import binascii
import json
import math
import os
import threading
import time
import uuid
from pathlib import Path

import numpy as np
from backends import ModelError, load_model, read_lines

IMAGE_TASK = "image-classification"
REGRESSION_TASK = "tabular-regression"
FLOAT32_MAX = float(np.finfo(np.float32).max)
MAX_DIMS = 8  # a v2 shape with more dimensions is refused
# Pictures decoded at once, whatever the number of workers: each may take ~100 MB while it is decoded.
DECODING = threading.BoundedSemaphore(max(1, int(os.environ.get("AICS_DECODE_CONCURRENCY", "2") or 2)))
TABLE_NOTES = "about.json"  # beside a tabular demo model: what it predicts and its features' ranges


def with_table_notes(config: dict) -> dict:
    """The serving config plus what a tabular model's about.json says (the regression demo writes one):
    {"description": "...", "feature_ranges": [{"name", "min", "max", "mean"}, ...]}. Unchanged when
    there is none; entries that are not a name and three finite numbers are left out."""
    model = config.get("model")
    try:
        notes = json.loads((Path(model).parent / TABLE_NOTES).read_text(encoding="utf-8")) if model else None
    except (OSError, ValueError):
        notes = None
    if not isinstance(notes, dict):
        return config
    merged = dict(config)
    if isinstance(notes.get("description"), str):
        merged["description"] = notes["description"]
    ranges = notes.get("feature_ranges")
    if isinstance(ranges, list):
        merged["feature_ranges"] = [
            {"name": r["name"], **{k: float(r[k]) for k in ("min", "max", "mean")}}
            for r in ranges
            if isinstance(r, dict) and isinstance(r.get("name"), str) and all(
                isinstance(r.get(k), (int, float)) and not isinstance(r.get(k), bool)
                and math.isfinite(r[k]) for k in ("min", "max", "mean"))
        ]
    return merged


class RequestError(Exception):
    """An answer other than 200, with a message a person understands."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class Service:
    """One model, loaded once by `load()` (in a thread at start), then shared by all requests."""

    def __init__(self, config: dict):
        self.config = config
        self.name = config.get("name", "model")
        self.version = str(config.get("version", "1"))
        self.task = config.get("task", IMAGE_TASK)
        self.model = None
        self.error: str | None = None
        self.loaded = threading.Event()

    # -- loading ------------------------------------------------------------------------
    def load(self) -> None:
        try:
            if self.is_image:
                from ink import with_model_notes  # a demo model says how pictures reach it

                self.config = with_model_notes(self.config)
            else:
                self.config = with_table_notes(self.config)
            self.model = load_model(self.config)
            if self.is_image:
                probe = np.zeros((1, *self.input_shape), dtype=np.float32)
                self.model.scores(probe)  # warm up: the first real request is as fast as the rest
        except Exception as exc:  # reported by /health and the log; the server exits
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            self.loaded.set()

    @property
    def ready(self) -> bool:
        return self.model is not None

    def _need_model(self):
        if self.model is None:
            raise RequestError(503, "the model is still loading" if self.error is None else self.error)
        return self.model

    # -- description --------------------------------------------------------------------
    @property
    def is_image(self) -> bool:
        return self.task == IMAGE_TASK

    @property
    def is_regression(self) -> bool:
        return self.task == REGRESSION_TASK

    @property
    def input_spec(self) -> dict:
        return self.config.get("input", {})

    @property
    def input_shape(self) -> tuple[int, int, int]:
        s = self.input_spec
        return int(s["height"]), int(s["width"]), int(s.get("channels", 1))

    @property
    def features(self) -> list[str]:
        model = self.model
        if model is not None and model.feature_names:
            return list(model.feature_names)
        names = list(self.config.get("features") or []) or read_lines(self.config.get("features_file"))
        if not names and model is not None and model.n_features:
            names = [f"x{i}" for i in range(model.n_features)]
        return names

    @property
    def labels(self) -> list[str]:
        return list(self.model.labels) if self.model is not None and not self.is_regression else []

    def health(self) -> tuple[int, dict]:
        if self.model is not None:
            return 200, {"status": "ready", "model": self.name}
        if self.error is not None:
            return 500, {"status": "failed", "error": self.error}
        return 503, {"status": "loading"}

    def metadata(self) -> dict:
        self._need_model()
        if self.is_image:
            s = self.input_spec
            inp = {
                "kind": "image",
                "width": int(s["width"]),
                "height": int(s["height"]),
                "channels": int(s.get("channels", 1)),
                "range": [float(v) for v in s.get("range", [0.0, 1.0])],
                "polarity": s.get("polarity", "any"),
            }
        else:
            inp = {"kind": "tabular", "features": self.features}
            if self.config.get("feature_ranges"):  # optional: typical values, from the training rows
                inp["feature_ranges"] = self.config["feature_ranges"]
        return {
            "name": self.name,
            "version": self.version,
            "framework": self.model.framework,
            "task": self.task,
            "labels": self.labels,
            "input": inp,
            "protocols": ["studio-v1", "v2"],
            **({"description": self.config["description"]} if self.config.get("description") else {}),
        }

    # -- studio-v1 ----------------------------------------------------------------------
    def classify_pictures(self, pictures: list[bytes], top_k: int) -> list[dict]:
        """One answer per picture: {"predictions": [...], "timing_ms": {...}}. Bad pictures raise 400."""
        model = self._need_model()
        if not self.is_image:
            raise RequestError(415, "this model takes rows of numbers (application/json), not pictures")
        from ink import doubt  # Pillow: image models only

        results = []
        for data in pictures:
            t0 = time.perf_counter()
            notes: dict = {}
            x = self._picture_array(data, notes)
            t1 = time.perf_counter()
            scores = model.scores(x[None, ...])[0]
            t2 = time.perf_counter()
            result = {
                "predictions": self._top(scores, top_k),
                "timing_ms": {
                    "preprocess": round((t1 - t0) * 1000, 3),
                    "inference": round((t2 - t1) * 1000, 3),
                },
            }
            unsure = doubt(scores, notes.get("doubt", ""), self.labels, self.input_spec)
            if unsure:
                result["unsure"] = unsure  # optional field: why this answer should not be trusted
            results.append(result)
        return results

    def _picture_array(self, data: bytes, notes: dict | None = None) -> np.ndarray:
        from pictures import BadPicture, open_picture, to_array  # Pillow: image models only

        try:
            with DECODING:
                return to_array(open_picture(data), self.input_spec, notes)
        except BadPicture as exc:
            raise RequestError(400, str(exc)) from None

    def _top(self, scores: np.ndarray, top_k: int) -> list[dict]:
        labels = self.labels
        order = np.argsort(-scores, kind="stable")[: max(1, top_k)]
        return [{"label": labels[i] if i < len(labels) else str(i), "score": float(scores[i])} for i in order]

    def predict_rows(self, instances) -> dict:
        model = self._need_model()
        if self.is_image:
            raise RequestError(415, "this model takes pictures, not rows of numbers")
        x = self._rows(instances)
        t0 = time.perf_counter()
        try:
            if model.is_classifier and not self.is_regression:
                scores = model.scores(x)
                labels = self.labels
                out = [labels[int(i)] for i in scores.argmax(axis=1)]
            else:
                out = [float(v) for v in _finite(model.predict(x))]
        except ModelError as exc:
            raise RequestError(400, str(exc)) from None
        return {"predictions": out, "timing_ms": {"inference": round((time.perf_counter() - t0) * 1000, 3)}}

    def _rows(self, instances) -> np.ndarray:
        if not isinstance(instances, list) or not instances:
            raise RequestError(400, 'send {"instances": [[value, value, ...], ...]} with at least one row')
        if not all(isinstance(r, list) for r in instances):
            raise RequestError(400, "each instance must be a list of numbers")
        widths = {len(r) for r in instances}
        if len(widths) != 1:
            raise RequestError(400, "all rows must have the same number of values")
        try:
            x = np.asarray(instances, dtype=np.float64)
        except (TypeError, ValueError):
            raise RequestError(400, "every value in a row must be a number") from None
        if x.ndim != 2:
            raise RequestError(400, "each instance must be a flat list of numbers")
        _check_range(x)
        want = self.model.n_features or len(self.features) or None
        if want is not None and x.shape[1] != want:
            raise RequestError(
                400, f"each row needs {want} values ({', '.join(self.features)}), got {x.shape[1]}"
            )
        return x

    # -- Open Inference Protocol v2 -----------------------------------------------------
    def v2_model(self) -> dict:
        self._need_model()
        if self.is_image:
            h, w, c = self.input_shape
            inputs = [{"name": "input", "datatype": "FP32", "shape": [-1, h, w, c]}]
        else:
            inputs = [{"name": "input", "datatype": "FP32", "shape": [-1, len(self.features)]}]
        if self.is_regression:
            outputs = [{"name": "predictions", "datatype": "FP64", "shape": [-1]}]
        else:
            n = len(self.labels)
            outputs = [
                {"name": "scores", "datatype": "FP32", "shape": [-1, n]},
                {"name": "label", "datatype": "BYTES", "shape": [-1]},
            ]
        return {
            "name": self.name,
            "versions": [self.version],
            "platform": self.model.framework,
            "inputs": inputs,
            "outputs": outputs,
            "parameters": {"labels": self.labels, "task": self.task},
        }

    def v2_infer(self, body: dict, max_pictures: int = 64) -> dict:
        model = self._need_model()
        inputs = body.get("inputs") if isinstance(body, dict) else None
        if not isinstance(inputs, list) or not inputs:
            raise RequestError(400, 'send {"inputs": [{"name": "input", "shape", "datatype", "data"}]}')
        tensor = next((t for t in inputs if isinstance(t, dict) and t.get("name") == "input"), None)
        if tensor is None:
            raise RequestError(400, 'the input tensor must be named "input"')
        x = self._v2_tensor(tensor, max_pictures)
        try:
            if self.is_regression:
                pred = _finite(np.asarray(model.predict(x), dtype=np.float64))
                outputs = [
                    {"name": "predictions", "datatype": "FP64", "shape": [len(pred)], "data": pred.tolist()}
                ]
            else:
                scores = model.scores(x)
                labels = self.labels
                names = [labels[int(i)] for i in scores.argmax(axis=1)]
                outputs = [
                    {
                        "name": "scores",
                        "datatype": "FP32",
                        "shape": list(scores.shape),
                        "data": scores.astype(np.float32).ravel().tolist(),
                    },
                    {"name": "label", "datatype": "BYTES", "shape": [len(names)], "data": names},
                ]
        except ModelError as exc:
            raise RequestError(400, str(exc)) from None
        return {
            "model_name": self.name,
            "model_version": self.version,
            "id": str(body.get("id") or uuid.uuid4()),
            "outputs": outputs,
        }

    def _v2_tensor(self, tensor: dict, max_pictures: int) -> np.ndarray:
        shape = tensor.get("shape")
        datatype = str(tensor.get("datatype", "")).upper()
        data = tensor.get("data")
        if not isinstance(shape, list) or not all(
            isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape
        ):
            raise RequestError(400, "shape must be a list of non-negative whole numbers")
        if len(shape) > MAX_DIMS:
            raise RequestError(400, f"shape has {len(shape)} dimensions, more than {MAX_DIMS}")
        if not isinstance(data, list):
            raise RequestError(400, "data must be a list")
        if datatype == "BYTES":
            if not self.is_image:
                raise RequestError(400, "BYTES input is for image models; send FP32 rows")
            flat = _flatten(data)
            if len(shape) != 1 or shape[0] != len(flat):
                raise RequestError(400, "a BYTES input has shape [N] with N pictures")
            if len(flat) > max_pictures:
                raise RequestError(413, f"send at most {max_pictures} pictures in one request")
            return np.stack([self._picture_array(_picture_bytes(item)) for item in flat])
        if datatype not in ("FP32", "FP64", "INT32", "INT64", "UINT8", "FP16"):
            raise RequestError(400, f"unsupported datatype {datatype or '(none)'}")
        try:
            x = np.asarray(_flatten(data), dtype=np.float64)
        except (TypeError, ValueError, OverflowError):
            raise RequestError(400, "data must hold numbers only") from None
        need = math.prod(shape)  # Python ints: np.prod wrapped around and let a wrong shape through
        if need != x.size:
            raise RequestError(400, f"shape {shape} needs {need} values, got {x.size}")
        _check_range(x)
        try:
            x = x.astype(np.float32).reshape(shape)
        except ValueError:  # e.g. [2**62, 4, 0]: no values, but a dimension numpy cannot make
            raise RequestError(400, f"shape {shape} cannot be made into an array") from None
        if self.is_image:
            if x.ndim != 4 or tuple(x.shape[1:]) != self.input_shape:
                h, w, c = self.input_shape
                raise RequestError(400, f"image input has shape [N, {h}, {w}, {c}]")
        else:
            if x.ndim != 2:
                raise RequestError(400, "tabular input has shape [N, features]")
            return self._rows(x.tolist())
        return x


def _check_range(x: np.ndarray) -> None:
    """Models compute in float32: NaN, infinity and values past float32's range are refused (400)."""
    if x.size and not np.isfinite(x).all():
        raise RequestError(400, "the values must be finite numbers (no NaN or infinity)")
    if x.size and float(np.abs(x).max()) > FLOAT32_MAX:
        raise RequestError(400, f"the values must lie within +-{FLOAT32_MAX:.4g} (float32)")


def _finite(pred: np.ndarray) -> np.ndarray:
    pred = np.asarray(pred)
    if pred.dtype.kind == "f" and not np.isfinite(pred).all():
        raise RequestError(
            400, "the model's answer for these values is not a finite number; are they in range?"
        )
    return pred


def _flatten(data) -> list:
    out: list = []
    stack = [iter(data)]
    while stack:
        for item in stack[-1]:
            if isinstance(item, list):
                stack.append(iter(item))
                break
            out.append(item)
        else:
            stack.pop()
    return out


def _picture_bytes(item) -> bytes:
    if not isinstance(item, str):
        raise RequestError(400, "each BYTES item must be a base64 string")
    try:
        return base64.b64decode(item, validate=True)
    except (binascii.Error, ValueError):
        raise RequestError(400, "a BYTES item is not valid base64") from None
