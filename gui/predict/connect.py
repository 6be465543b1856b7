"""From the user's choice of a model (a container, a swarm service or a URL) to a connected client.

``TargetSpec`` is that choice as plain data; ``connect`` makes the client and reads the model's metadata
(blocking: run it off the UI thread). Shared by the Predict page and the command line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gui.predict.errors import PredictError
from gui.predict.models import Overrides
from gui.predict.open_inference import OpenInferenceClient
from gui.predict.transport import Transport

CUSTOM = "custom"  # the key of a URL the user typed


@dataclass(frozen=True)
class TargetSpec:
    """Everything needed to make a client: where, which protocol and model, and the user's input fields."""

    name: str
    protocol: str
    url: str
    model: str = ""
    overrides: Overrides = field(default_factory=Overrides)
    task: str = ""
    container_id: str = ""
    service_id: str = ""  # a swarm service: requests spread over its replicas (gui/predict/replicas.py)
    port: int = 0

    @property
    def key(self) -> str:
        if self.service_id:
            return f"service:{self.service_id}"
        return f"container:{self.container_id}" if self.container_id else CUSTOM


def served_models(protocol: str, url: str, timeout: float = 5.0) -> list[str]:
    """The models a v2 or TF Serving server lists (KServe lists them at /v1/models; TensorFlow Serving
    itself lists none: then the list is empty and the user names the model)."""
    if protocol == "v2":
        client = OpenInferenceClient(url, "_", timeout=timeout)
        try:
            return client.models()
        finally:
            client.close()
    transport = Transport(url, timeout)
    try:
        doc = transport.get_json("/v1/models")
    finally:
        transport.close()
    return [str(n) for n in doc.get("models") or [] if isinstance(n, str)]


def discover_model(spec: TargetSpec) -> str:
    """The model a v2 or TF Serving container serves, when it holds exactly one (else the first)."""
    names = served_models(spec.protocol, spec.url)
    if not names:
        raise PredictError(f"{spec.name} lists no models: choose Custom URL… and name the model", kind="answer")
    return names[0]


def connect(spec: TargetSpec, timeout: float, engine=None):
    """Make the client for ``spec`` and read its metadata (blocking). Returns (client, metadata or error).
    A swarm service (``spec.service_id``) gets a client over its replicas, found through ``engine``."""
    from gui.predict import make_client

    if spec.service_id:
        from gui.predict.replicas import service_client

        client = service_client(engine, spec.service_id, spec.name, spec.port or 8080, spec.protocol, timeout)
        try:
            return client, client.metadata()
        except PredictError as exc:
            return client, exc
    model = spec.model
    if not model and spec.protocol in ("v2", "tf-serving"):
        model = discover_model(spec)
    client = make_client(spec.protocol, spec.url, model, spec.overrides, timeout)
    try:
        return client, client.metadata()
    except PredictError as exc:
        return client, exc
