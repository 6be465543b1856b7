"""Prediction clients, Qt-free: studio-v1, Open Inference Protocol v2 and TensorFlow Serving REST.

``make_client(protocol, url, model, overrides)`` gives a client with ``metadata()``, ``ready()``,
``predict_image(bytes, top_k)`` and ``predict_rows(rows)``; every failure is one ``PredictError``.
"""

from __future__ import annotations

from gui.predict.client import PredictionClient
from gui.predict.errors import PredictError
from gui.predict.export import csv_rows, write_csv
from gui.predict.models import ModelMetadata, Overrides, Prediction
from gui.predict.open_inference import OpenInferenceClient
from gui.predict.pictures import MAX_PIXELS, open_picture, picture_tensor, prepare_upload
from gui.predict.studio import StudioClient
from gui.predict.targets import Target, find_targets
from gui.predict.tfserving import TFServingClient
from gui.predict.transport import DEFAULT_TIMEOUT

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
    timeout: float = DEFAULT_TIMEOUT,
) -> PredictionClient:
    """A client for ``protocol`` (``studio-v1``, ``v2`` or ``tf-serving``) at ``url``."""
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
