"""Plain, immutable records the prediction clients return and take."""

from __future__ import annotations

from dataclasses import dataclass, field

IMAGE = "image"
TABULAR = "tabular"


@dataclass(frozen=True)
class FeatureRange:
    """A tabular feature's typical values (from the model's training rows, when its server says them)."""

    name: str
    min: float
    max: float
    mean: float


@dataclass(frozen=True)
class ModelMetadata:
    """What a served model expects and answers, from the server's metadata plus the user's overrides.

    ``scaling`` says how 8-bit pixels become tensor values (see ``gui.predict.pictures.SCALINGS``).
    ``layout`` is the tensor layout the server wants for pictures: ``NHWC``, ``NCHW``, ``NHW``, ``NF``
    (one flat row per picture) or ``BYTES`` (the encoded picture itself, base64 on the wire);
    ``datatype`` is the input tensor's element type as the server names it (``FP32``, ``UINT8`` ...).
    """

    name: str
    task: str = ""
    labels: tuple[str, ...] = ()
    input_kind: str = IMAGE
    width: int | None = None
    height: int | None = None
    channels: int | None = None
    scaling: str = "0..1"
    features: tuple[str, ...] = ()
    version: str = ""
    protocol: str = ""
    input_name: str = "input"
    layout: str = "NHWC"
    datatype: str = "FP32"
    outputs: tuple[str, ...] = ()
    description: str = ""  # what the model recognises, in words (studio-v1 metadata, optional)
    feature_ranges: tuple[FeatureRange, ...] = ()  # studio-v1 input.feature_ranges (optional)

    def feature_range(self, name: str) -> FeatureRange | None:
        return next((r for r in self.feature_ranges if r.name == name), None)

    @property
    def has_input_size(self) -> bool:
        return bool(self.width and self.height and self.channels)


@dataclass(frozen=True)
class Overrides:
    """Fields the user fills for servers whose metadata does not say them (v2, TF Serving).

    A field left ``None`` keeps what the server's metadata says; ``encoding`` is ``"tensor"`` (FP32 values)
    or ``"base64"`` (the picture's bytes, BYTES in v2 and ``{"b64": ...}`` in TF Serving).
    """

    width: int | None = None
    height: int | None = None
    channels: int | None = None
    scaling: str | None = None
    labels: tuple[str, ...] | None = None
    input_name: str | None = None
    layout: str | None = None
    encoding: str | None = None
    task: str | None = None


@dataclass(frozen=True)
class Prediction:
    """One picture's answer: labels with scores, best first.

    ``scores`` holds ``None`` where the server named a label without a score. ``round_trip_ms`` is measured
    by the client from sending the request to having parsed the answer; ``server_ms`` is the server's own
    timing when it reports one (studio-v1 ``timing_ms``). ``unsure`` is the server's reason not to trust
    this answer (a blank picture, a photo, a weak best guess), "" when it gave none.
    """

    labels: tuple[str, ...]
    scores: tuple[float | None, ...]
    round_trip_ms: float
    server_timing: tuple[tuple[str, float], ...] = ()
    note: str = field(default="", compare=False)
    unsure: str = ""
    served_by: str = field(default="", compare=False)  # the replica that answered ("replica 2 on node-b")

    @property
    def top_label(self) -> str | None:
        return self.labels[0] if self.labels else None

    @property
    def server_ms(self) -> float | None:
        return sum(v for _, v in self.server_timing) if self.server_timing else None
