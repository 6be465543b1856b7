"""What every prediction client offers, and the parts of answers they share."""

from __future__ import annotations

import dataclasses
import math
import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence

from gui.predict.errors import PredictError
from gui.predict.models import ModelMetadata, Overrides, Prediction
from gui.predict.transport import DEFAULT_TIMEOUT, Transport


def apply_overrides(meta: ModelMetadata, overrides: Overrides | None) -> ModelMetadata:
    """``meta`` with every field the user set in ``overrides`` replacing what the server said."""
    if overrides is None:
        return meta
    changes = {
        f.name: getattr(overrides, f.name)
        for f in dataclasses.fields(overrides)
        if f.name != "encoding" and getattr(overrides, f.name) is not None
    }
    if "labels" in changes:
        changes["labels"] = tuple(str(x) for x in changes["labels"])
    if any(k in changes for k in ("width", "height", "channels")) and meta.input_kind != "image":
        changes["input_kind"] = "image"
    return dataclasses.replace(meta, **changes)


def label_for(index: int, labels: Sequence[str]) -> str:
    return labels[index] if 0 <= index < len(labels) else str(index)


def ranked(
    scores: Sequence[float], labels: Sequence[str], top_k: int, ms: float, timing=(), note: str = ""
) -> Prediction:
    """A Prediction of the ``top_k`` best of one row of class scores (labels by index when unnamed)."""
    values = []
    for i, s in enumerate(scores):
        try:
            value = float(s)
        except (TypeError, ValueError):
            raise PredictError(
                f"the server's scores are not numbers: {list(scores)[:5]}", kind="answer"
            ) from None
        values.append((value if not math.isnan(value) else -math.inf, i))
    if labels and len(labels) != len(values):
        note = "; ".join(filter(None, [note, f"{len(labels)} labels given for {len(values)} scores"]))
        labels = ()  # numbered classes rather than names that may be wrong
    values.sort(key=lambda t: t[0], reverse=True)
    best = values[: max(1, top_k)]
    return Prediction(
        labels=tuple(label_for(i, labels) for _, i in best),
        scores=tuple(float(scores[i]) for _, i in best),
        round_trip_ms=ms,
        server_timing=tuple(timing),
        note=note,
    )


def flat(data) -> list:
    """A possibly nested JSON array as one flat list."""
    if not isinstance(data, list):
        return [data]
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


class PredictionClient(ABC):
    """A connection to one served model. Methods block; call them off the UI thread.

    One client may be shared by worker threads (each thread gets its own HTTP session). Metadata is read
    once and kept; ``metadata(refresh=True)`` reads it again.
    """

    protocol = ""

    def __init__(self, url: str, timeout: float = DEFAULT_TIMEOUT, overrides: Overrides | None = None):
        self.transport = Transport(url, timeout)
        self.overrides = overrides or Overrides()
        self._meta: ModelMetadata | None = None
        self._meta_lock = threading.Lock()

    @property
    def url(self) -> str:
        return self.transport.base_url

    def metadata(self, refresh: bool = False) -> ModelMetadata:
        with self._meta_lock:
            if self._meta is None or refresh:
                self._meta = apply_overrides(self._read_metadata(), self.overrides)
            return self._meta

    @abstractmethod
    def _read_metadata(self) -> ModelMetadata: ...

    @abstractmethod
    def ready(self) -> bool:
        """True when the server says the model is loaded; raises PredictError when it cannot be reached."""

    @abstractmethod
    def predict_image(self, data: bytes, top_k: int = 5) -> Prediction: ...

    @abstractmethod
    def predict_rows(self, rows: Sequence[Sequence[float]]) -> list: ...

    def close(self) -> None:
        self.transport.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def check_answer_count(answers: object, sent: int, what: str = "rows") -> list:
    """The server's list of answers, one per input sent, or a PredictError saying how many came back."""
    if not isinstance(answers, list) or len(answers) != sent:
        got = len(answers) if isinstance(answers, list) else "no"
        raise PredictError(f"the server answered {got} predictions for {sent} {what}", kind="answer")
    return answers


def check_rows(rows: Sequence[Sequence[float]], width: int | None = None) -> list[list[float]]:
    """Rows as lists of floats, all of one width (the model's feature count when known)."""
    out = []
    for n, row in enumerate(rows, 1):
        try:
            values = [float(v) for v in row]
        except (TypeError, ValueError):
            raise PredictError(
                f"row {n} has a value that is not a number: {list(row)}", kind="input"
            ) from None
        want = width or (len(out[0]) if out else len(values))
        if len(values) != want:
            raise PredictError(f"row {n} has {len(values)} values, the model wants {want}", kind="input")
        out.append(values)
    if not out:
        raise PredictError("no rows to predict", kind="input")
    return out
