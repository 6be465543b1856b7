"""Where the command line's ``--target`` points: a container on the current engine or a server URL.

A container is found by name, id or id prefix among running containers whose labels name a protocol
(``ai-container-studio.protocol``, port from ``ai-container-studio.port``; gui.predict.targets). A URL's
protocol is asked for when not given: studio-v1 answers ``GET /metadata``, Open Inference v2 answers
``POST /v2/repository/index`` or has ``/v2/models/NAME`` in the URL, TF Serving has ``/v1/models/NAME``.
The engine (``docker``) is imported only for container names, so a URL target starts quicker.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from gui.predict import DEFAULT_TIMEOUT, PredictError, PredictionClient, make_client
from gui.predict.connect import served_models
from gui.predict.transport import Transport

_MODEL_PATH = re.compile(r"^(?P<base>.*?)/(?P<kind>v2|v1)/models/(?P<model>[^/:]+)")


@dataclass(frozen=True)
class ResolvedTarget:
    """A target ready for a client: what the user typed, where it answers and how, and its image."""

    text: str
    name: str
    url: str
    protocol: str
    model: str = ""
    container_id: str = ""
    image: str = ""
    image_id: str = ""
    digest: str = ""

    def client(self, timeout: float = DEFAULT_TIMEOUT, overrides=None) -> PredictionClient:
        return make_client(self.protocol, self.url, self.model, overrides, timeout)

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v}


def looks_like_url(text: str) -> bool:
    return "://" in text or bool(re.match(r"^[\w.\-\[\]:]+:\d+(/.*)?$", text))


def resolve(text: str, protocol: str = "", model: str = "", engine_url: str | None = None,
            timeout: float = 5.0) -> ResolvedTarget:
    """The target ``text`` names; PredictError when it cannot be found or spoken to."""
    if looks_like_url(text):
        return _from_url(text, protocol, model, timeout)
    return _from_engine(text, protocol, model, engine_url)


def _from_url(text: str, protocol: str, model: str, timeout: float) -> ResolvedTarget:
    url = text if "://" in text else "http://" + text
    parts = urlsplit(url)
    found = _MODEL_PATH.match(parts.path)
    if found:  # http://host:8501/v1/models/digits -> the server and the model
        url = urlunsplit((parts.scheme, parts.netloc, found["base"], "", ""))
        model = model or found["model"]
        protocol = protocol or ("v2" if found["kind"] == "v2" else "tf-serving")
    url = url.rstrip("/")
    if not protocol:
        protocol = detect_protocol(url, timeout)
    if protocol in ("v2", "tf-serving") and not model:
        model = discover_model(protocol, url, timeout)
    return ResolvedTarget(text=text, name=urlsplit(url).netloc, url=url, protocol=protocol, model=model)


def detect_protocol(url: str, timeout: float = 5.0) -> str:
    """``studio-v1``, ``v2`` or ``tf-serving``: which one the server at ``url`` answers."""
    transport = Transport(url, timeout)
    try:
        try:
            doc = transport.get_json("/metadata")
            if isinstance(doc, dict) and ("labels" in doc or "input" in doc):
                return "studio-v1"
        except PredictError as exc:
            if exc.kind in ("connection", "timeout"):
                raise
        for path in ("/v2/health/ready", "/v2/health/live", "/v2"):
            try:
                transport.request("GET", path)
                return "v2"
            except PredictError:
                pass
        try:
            transport.request("GET", "/v1/models")
            return "tf-serving"
        except PredictError:
            pass
    finally:
        transport.close()
    raise PredictError(f"{url} speaks none of studio-v1, Open Inference v2 or TF Serving REST: give "
                       "--protocol, and --model for v2 and TF Serving", kind="input")


def discover_model(protocol: str, url: str, timeout: float = 5.0) -> str:
    """The model a v2 or TF Serving server holds, when it lists its models (the first one)."""
    names = served_models(protocol, url, timeout)
    if not names:
        raise PredictError(f"{url} lists no models: name one with --model", kind="input")
    return names[0]


def _from_engine(text: str, protocol: str, model: str, engine_url: str | None) -> ResolvedTarget:
    from gui.engine import Engine, EngineError, resolve_engine
    from gui.engine.inspect import inspect_image
    from gui.predict.targets import target_of

    engine = Engine(resolve_engine(engine_url))
    try:
        containers = engine.list_containers()
        wanted = text.lstrip("/")
        match = [c for c in containers if c.name == wanted or c.id == wanted]
        match = match or [c for c in containers if len(wanted) >= 4 and c.id.startswith(wanted)]
        if not match:
            raise PredictError(f"no container named {text} on the engine ({engine.target.url}): give a "
                               "running container's name or id, or a server URL", kind="input")
        if len(match) > 1:
            raise PredictError(f"{text} names {len(match)} containers: give more of the id", kind="input")
        c = match[0]
        found = target_of(c)
        if found is None:
            why = f"it is {c.state}" if c.state != "running" else \
                "its image has no ai-container-studio.protocol label"
            raise PredictError(f"the container {c.name} cannot be asked: {why}", kind="input")
        if not found.usable:
            raise PredictError(f"the container {c.name} cannot be asked: {found.problem}", kind="input")
        digest = ""
        try:
            info = inspect_image(engine, c.image_id or c.image)
            digest = next(iter(info.get("RepoDigests") or []), "")
        except EngineError:
            pass
    except EngineError as exc:
        raise PredictError(f"cannot list the engine's containers: {exc}", kind="connection") from None
    finally:
        engine.close()
    protocol = protocol or found.protocol
    if protocol in ("v2", "tf-serving") and not model:
        model = discover_model(protocol, found.url)
    return ResolvedTarget(text=text, name=c.name, url=found.url, protocol=protocol, model=model,
                          container_id=c.id, image=c.image, image_id=c.image_id, digest=digest)


def open_client(protocol: str, url: str, model: str = "", timeout: float = DEFAULT_TIMEOUT) -> PredictionClient:
    """A client for a found target with its metadata read (blocking; the model found when not named)."""
    if protocol in ("v2", "tf-serving") and not model:
        model = discover_model(protocol, url, timeout)
    client = make_client(protocol, url, model, None, timeout)
    try:
        client.metadata()
    except PredictError:
        client.close()
        raise
    return client
