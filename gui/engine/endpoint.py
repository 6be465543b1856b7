"""Which engine to talk to: --engine URL, else DOCKER_HOST, else the Docker context, else the default socket."""

from __future__ import annotations

import hashlib
import json
import os
import sys
from dataclasses import dataclass
from typing import Any

from gui.engine.docker_import import import_docker

import_docker()  # paramiko only when an ssh:// engine is used

from docker.tls import TLSConfig  # noqa: E402

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


class EngineTLS(TLSConfig):
    """docker-py's TLSConfig, except the given CA wins over REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE.

    requests lets those variables override a Session's ``verify`` (psf/requests#3829,
    docker/docker-py#2433), so a TLS engine with its own CA fails wherever they are set.
    """

    def configure_client(self, client) -> None:
        super().configure_client(client)
        pinned = client.verify
        if not isinstance(pinned, str):
            return
        merge = client.merge_environment_settings

        def merge_keeping_ca(url, proxies, stream, verify, cert):
            settings = merge(url, proxies, stream, verify, cert)
            if verify is None or verify is True:
                settings["verify"] = pinned
            return settings

        client.merge_environment_settings = merge_keeping_ca


def _context_dir() -> str:
    # docker-py's ContextAPI finds contexts only beside an existing config.json; the CLI does not need one.
    base = os.environ.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker")
    return os.path.join(base, "contexts")


def _context_tls(name: str, endpoint: dict) -> EngineTLS | None:
    folder = os.path.join(_context_dir(), "tls", hashlib.sha256(name.encode()).hexdigest(), "docker")
    files = {f: os.path.join(folder, f"{f}.pem") for f in ("ca", "cert", "key")}
    have = {f: p for f, p in files.items() if os.path.isfile(p)}
    verify = not endpoint.get("SkipTLSVerify", False)
    if not have:  # like the CLI: no TLS material, no TLS
        return None
    client = (have["cert"], have["key"]) if "cert" in have and "key" in have else None
    ca = have.get("ca")
    return EngineTLS(client_cert=client, ca_cert=ca, verify=(ca or True) if verify else False)


def read_contexts() -> list[EngineTarget]:
    """Docker CLI contexts (``docker context create``), read from their metadata files."""
    meta_root = os.path.join(_context_dir(), "meta")
    out = []
    try:
        folders = sorted(os.listdir(meta_root))
    except OSError:
        return []
    for folder in folders:
        try:
            with open(os.path.join(meta_root, folder, "meta.json"), encoding="utf-8") as fh:
                meta = json.load(fh)
            name = meta["Name"]
            endpoint = (meta.get("Endpoints") or {}).get("docker") or {}
            host = endpoint.get("Host") or ""
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue
        if host and name != "default":
            out.append(EngineTarget(normalize_url(host), f"context {name}", _context_tls(name, endpoint)))
    return out


def current_context_name() -> str:
    name = os.environ.get("DOCKER_CONTEXT")
    if name:
        return name
    config = os.path.join(os.environ.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker"),
                          "config.json")
    try:
        with open(config, encoding="utf-8") as fh:
            return json.load(fh).get("currentContext") or "default"
    except (OSError, ValueError, AttributeError):
        return "default"


def _from_context() -> EngineTarget | None:
    name = current_context_name()
    if name == "default":
        return None
    return next((t for t in read_contexts() if t.source == f"context {name}"), None)


def _tls_from_env() -> Any:
    if not os.environ.get("DOCKER_TLS_VERIFY") and not os.environ.get("DOCKER_CERT_PATH"):
        return None
    try:
        from docker.utils import kwargs_from_env

        tls = kwargs_from_env().get("tls")
    except Exception:
        return None
    if tls is None:
        return None
    return EngineTLS(client_cert=tls.cert, ca_cert=tls.ca_cert, verify=tls.verify)


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
