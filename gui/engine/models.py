"""Plain, immutable records of what the engine holds."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_EXITED = re.compile(r"^Exited \((-?\d+)\)")


@dataclass(frozen=True)
class PortBinding:
    container_port: int
    protocol: str = "tcp"
    host_ip: str = ""
    host_port: int | None = None

    def __str__(self) -> str:
        if self.host_port is None:
            return f"{self.container_port}/{self.protocol}"
        ip = self.host_ip if self.host_ip not in ("", "0.0.0.0", "::") else "0.0.0.0"
        if ":" in ip:
            ip = f"[{ip}]"
        return f"{ip}:{self.host_port}->{self.container_port}/{self.protocol}"


@dataclass(frozen=True)
class ImageInfo:
    """One row of `docker images`: one reference (repository:tag) of one image id."""

    id: str
    reference: str  # "repo:tag", or "<none>:<none>" for a dangling image
    size: int
    created: float  # seconds since the epoch
    labels: tuple[tuple[str, str], ...] = ()

    @property
    def key(self) -> str:
        return f"{self.id}|{self.reference}"

    @property
    def short_id(self) -> str:
        return self.id.split(":", 1)[-1][:12]

    @property
    def label_map(self) -> dict[str, str]:
        return dict(self.labels)


@dataclass(frozen=True)
class ContainerInfo:
    id: str
    name: str
    image: str
    state: str  # created, running, paused, restarting, removing, exited, dead
    status: str  # "Up 3 minutes", "Exited (0) 2 hours ago"
    created: float
    ports: tuple[PortBinding, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()
    image_id: str = ""
    command: str = ""

    @property
    def key(self) -> str:
        return self.id

    @property
    def short_id(self) -> str:
        return self.id[:12]

    @property
    def label_map(self) -> dict[str, str]:
        return dict(self.labels)

    @property
    def health(self) -> str:
        """"starting", "healthy" or "unhealthy" while its health check runs ("Up 2 minutes (healthy)"), else ""."""
        status = self.status
        if "(health: starting)" in status:
            return "starting"
        if "(unhealthy)" in status:
            return "unhealthy"
        return "healthy" if "(healthy)" in status else ""

    @property
    def exit_code(self) -> int | None:
        """The code it exited with ("Exited (137) 3 seconds ago" -> 137); None while it has not exited."""
        m = _EXITED.match(self.status)
        return int(m.group(1)) if m else None

    @property
    def ports_text(self) -> str:
        seen: list[str] = []
        for p in self.ports:
            text = str(p)
            if text not in seen:
                seen.append(text)
        return ", ".join(seen)


@dataclass(frozen=True)
class EngineEvent:
    """An engine event (`docker events`), or a change of the event stream's connection.

    For ``type == "connection"``, ``action`` is ``"connected"`` or ``"disconnected"`` and
    ``message`` says why it dropped.
    """

    type: str  # container, image, network, volume, connection ...
    action: str
    id: str = ""
    time: float = 0.0
    attributes: tuple[tuple[str, str], ...] = field(default=(), compare=False)
    message: str = ""


@dataclass(frozen=True)
class EngineInfo:
    url: str
    version: str
    api_version: str
    os: str = ""
    name: str = ""
    runtimes: tuple[str, ...] = ()
