"""Which engine to talk to: --engine URL, else DOCKER_HOST, else the Docker context, else the default socket."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Any

DEFAULT_UNIX_SOCKET = "unix:///var/run/docker.sock"
DEFAULT_NPIPE = "npipe:////./pipe/docker_engine"


@dataclass(frozen=True)
class EngineTarget:
    url: str
    source: str  # "--engine", "DOCKER_HOST", "context NAME", "default socket", "Podman socket"
    tls: Any = None  # docker.tls.TLSConfig or None

    @property
    def display(self) -> str:
        return self.url


def normalize_url(url: str) -> str:
    url = url.strip()
    if url.startswith("/"):
        return "unix://" + url
    return url


def _default_candidates() -> list[tuple[str, str]]:
    if sys.platform == "win32":
        return [(DEFAULT_NPIPE, "default pipe")]
    home = os.path.expanduser("~")
    runtime = os.environ.get("XDG_RUNTIME_DIR", f"/run/user/{os.getuid()}")
    return [
        (DEFAULT_UNIX_SOCKET, "default socket"),
        (f"unix://{home}/.docker/run/docker.sock", "Docker Desktop socket"),
        (f"unix://{home}/.docker/desktop/docker.sock", "Docker Desktop socket"),
        (f"unix://{runtime}/docker.sock", "rootless Docker socket"),
        (f"unix://{runtime}/podman/podman.sock", "Podman socket"),
        ("unix:///run/podman/podman.sock", "Podman socket"),
    ]


def _from_context() -> EngineTarget | None:
    name = os.environ.get("DOCKER_CONTEXT")
    try:
        from docker.context import ContextAPI

        ctx = ContextAPI.get_context(name) if name else ContextAPI.get_current_context()
    except Exception:
        return None
    if ctx is None or ctx.name == "default" or not ctx.Host:
        return None
    return EngineTarget(normalize_url(ctx.Host), f"context {ctx.name}", ctx.TLSConfig)


def _tls_from_env() -> Any:
    if not os.environ.get("DOCKER_TLS_VERIFY") and not os.environ.get("DOCKER_CERT_PATH"):
        return None
    try:
        from docker.utils import kwargs_from_env

        return kwargs_from_env().get("tls")
    except Exception:
        return None


def resolve_engine(explicit: str | None = None) -> EngineTarget:
    """Pick the engine the way the Docker CLI does, then fall back to Podman's socket."""
    if explicit:
        return EngineTarget(normalize_url(explicit), "--engine")
    host = os.environ.get("DOCKER_HOST")
    if host:
        return EngineTarget(normalize_url(host), "DOCKER_HOST", _tls_from_env())
    ctx = _from_context()
    if ctx is not None:
        return ctx
    candidates = _default_candidates()
    for url, source in candidates:
        if url.startswith("unix://") and os.path.exists(url[len("unix://"):]):
            return EngineTarget(url, source)
    url, source = candidates[0]
    return EngineTarget(url, source)
