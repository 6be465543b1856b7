"""Prediction clients, Qt-free: studio-v1, Open Inference Protocol v2 and TensorFlow Serving REST.

``make_client(protocol, url, model, overrides)`` gives a client with ``metadata()``, ``ready()``,
``predict_image(bytes, top_k)`` and ``predict_rows(rows)``; every failure is one ``PredictError``.

The names below are loaded on first use (PEP 562), like gui.engine's: the main window needs only
``gui.predict.targets`` and ``PredictError`` before its first paint, not Pillow and the clients (40 ms),
nor the dataclasses of gui.predict.models (~20 ms to make them at start).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from gui.predict.errors import PredictError

_WHERE = {
    "DEFAULT_TIMEOUT": "gui.predict.transport",
    "Overrides": "gui.predict.models",
    "PredictionClient": "gui.predict.client",
    "csv_rows": "gui.predict.export",
    "write_csv": "gui.predict.export",
    "ModelMetadata": "gui.predict.models",
    "Prediction": "gui.predict.models",
    "OpenInferenceClient": "gui.predict.open_inference",
    "MAX_PIXELS": "gui.predict.pictures",
    "open_picture": "gui.predict.pictures",
    "picture_tensor": "gui.predict.pictures",
    "prepare_upload": "gui.predict.pictures",
    "StudioClient": "gui.predict.studio",
    "Target": "gui.predict.targets",
    "find_targets": "gui.predict.targets",
    "TFServingClient": "gui.predict.tfserving",
}

if TYPE_CHECKING:  # what tools and import-linter see; the same names as below
    from gui.predict.client import PredictionClient
    from gui.predict.export import csv_rows, write_csv
    from gui.predict.models import ModelMetadata, Overrides, Prediction
    from gui.predict.open_inference import OpenInferenceClient
    from gui.predict.pictures import MAX_PIXELS, open_picture, picture_tensor, prepare_upload
    from gui.predict.studio import StudioClient
    from gui.predict.targets import Target, find_targets
    from gui.predict.tfserving import TFServingClient
    from gui.predict.transport import DEFAULT_TIMEOUT


def __getattr__(name: str):
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module 'gui.predict' has no attribute {name!r}")
    value = getattr(importlib.import_module(where), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))


PROTOCOLS = {
    "studio-v1": "our serving images",
    "v2": "Open Inference Protocol v2 (KServe, Triton, MLServer)",
    "tf-serving": "TensorFlow Serving REST",
}


def make_client(
    protocol: str,
    url: str,
    model: str = "",
    overrides: Overrides | None = None,
    timeout: float | None = None,
) -> PredictionClient:
    """A client for ``protocol`` (``studio-v1``, ``v2`` or ``tf-serving``) at ``url``; ``timeout`` in
    seconds (default: DEFAULT_TIMEOUT)."""
    from gui.predict.open_inference import OpenInferenceClient
    from gui.predict.studio import StudioClient
    from gui.predict.tfserving import TFServingClient
    from gui.predict.transport import DEFAULT_TIMEOUT

    if timeout is None:
        timeout = DEFAULT_TIMEOUT

    if protocol == "studio-v1":
        return StudioClient(url, timeout=timeout, overrides=overrides)
    if protocol == "v2":
        return OpenInferenceClient(url, model, timeout=timeout, overrides=overrides)
    if protocol in ("tf-serving", "tfserving"):
        return TFServingClient(url, model, timeout=timeout, overrides=overrides)
    raise PredictError(f"unknown protocol {protocol!r}: use one of {', '.join(PROTOCOLS)}", kind="input")


__all__ = [
    "DEFAULT_TIMEOUT",
    "MAX_PIXELS",
    "PROTOCOLS",
    "ModelMetadata",
    "OpenInferenceClient",
    "Overrides",
    "Prediction",
    "PredictError",
    "PredictionClient",
    "StudioClient",
    "TFServingClient",
    "Target",
    "csv_rows",
    "find_targets",
    "make_client",
    "open_picture",
    "picture_tensor",
    "prepare_upload",
    "write_csv",
]
