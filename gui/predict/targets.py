"""Find prediction targets among containers: running ones whose labels name a protocol, and their host port."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from gui.engine.ports import host_url, published_url  # noqa: F401  (host_url: part of this API)

PROTOCOL_LABEL = "ai-container-studio.protocol"
TASK_LABEL = "ai-container-studio.task"
PORT_LABEL = "ai-container-studio.port"
DEFAULT_PORT = 8080


@dataclass(frozen=True)
class Target:
    """A served model the drop panel can talk to. ``url`` is empty when no host port is published;
    ``problem`` then says why it cannot be used."""

    name: str
    container_id: str
    protocol: str
    task: str
    container_port: int
    url: str = ""
    problem: str = ""

    @property
    def usable(self) -> bool:
        return bool(self.url)


def _labels(container) -> dict[str, str]:
    labels = getattr(container, "labels", ()) or ()
    return dict(labels) if not isinstance(labels, dict) else labels


def target_of(container) -> Target | None:
    """The Target a container offers, or None when it is not running or carries no protocol label.

    Works on ``gui.engine.models.ContainerInfo`` or any record with ``id``, ``name``, ``state``, ``labels``
    (pairs or a dict) and ``ports`` (``container_port``, ``protocol``, ``host_ip``, ``host_port``).
    The container's labels include its image's labels, so images built by the app are found.
    """
    if getattr(container, "state", "") != "running":
        return None
    labels = _labels(container)
    protocol = labels.get(PROTOCOL_LABEL, "").strip()
    if not protocol:
        return None
    raw_port = labels.get(PORT_LABEL, "").strip() or str(DEFAULT_PORT)
    base = {
        "name": getattr(container, "name", "") or getattr(container, "id", "")[:12],
        "container_id": getattr(container, "id", ""),
        "protocol": protocol,
        "task": labels.get(TASK_LABEL, ""),
    }
    try:
        port = int(raw_port.split("/")[0])
    except ValueError:
        return Target(container_port=0, problem=f"its {PORT_LABEL} label is not a port: {raw_port!r}", **base)
    url = published_url(container, port)
    if not url:
        return Target(container_port=port, problem=f"port {port} is not published to the host", **base)
    return Target(container_port=port, url=url, **base)


def find_targets(containers: Iterable) -> list[Target]:
    """Targets for the running containers that speak a prediction protocol, sorted by name."""
    found = [t for t in (target_of(c) for c in containers) if t is not None]
    return sorted(found, key=lambda t: (t.name, t.container_id))
