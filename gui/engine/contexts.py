"""Engines a user can switch between: the local one, Docker contexts, and URLs they added.

Builds EngineTargets for ``unix://``, ``tcp://`` (plain or TLS with CA, client certificate and
key) and ``ssh://user@host[:port]`` (docker-py's paramiko transport, which reads ``~/.ssh/config``,
``~/.ssh/known_hosts`` and the usual keys, and needs ``docker`` on the remote host).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import docker

from gui.engine.client import Engine
from gui.engine.endpoint import (
    DEFAULT_UNIX_SOCKET,
    EngineTarget,
    EngineTLS,
    normalize_url,
    read_contexts,
    resolve_engine,
)
from gui.engine.errors import EngineError, connection_reason, translate
from gui.engine.models import EngineInfo

SCHEMES = ("unix", "tcp", "ssh", "npipe")


@dataclass(frozen=True)
class EngineSpec:
    """An engine as the user described it (kept in the recent list): URL and TLS file paths."""

    url: str
    ca: str = ""
    cert: str = ""
    key: str = ""
    verify: bool = True

    def to_dict(self) -> dict:
        return {"url": self.url, "ca": self.ca, "cert": self.cert, "key": self.key, "verify": self.verify}

    @classmethod
    def from_dict(cls, data: dict) -> EngineSpec:
        return cls(str(data.get("url") or ""), str(data.get("ca") or ""), str(data.get("cert") or ""),
                   str(data.get("key") or ""), bool(data.get("verify", True)))

    @property
    def uses_tls(self) -> bool:
        return bool(self.ca or self.cert or self.key)


@dataclass(frozen=True)
class EngineChoice:
    label: str
    target: EngineTarget
    kind: str  # "local", "context", "recent"


def _check_file(path: str, what: str) -> str:
    path = os.path.expanduser(path)
    if not os.path.isfile(path):
        raise EngineError(f"The {what} file {path} does not exist.", "bad_request")
    if not os.access(path, os.R_OK):
        raise EngineError(f"The {what} file {path} is not readable.", "bad_request")
    return path


def make_target(spec: EngineSpec, source: str = "added") -> EngineTarget:
    """An EngineTarget for what the user typed; EngineError (kind bad_request) says what is wrong."""
    url = normalize_url(spec.url)
    if not url:
        raise EngineError("Enter the engine's address, such as tcp://host:2376 or ssh://user@host.",
                          "bad_request")
    if "://" not in url:
        url = f"tcp://{url}"
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        raise EngineError(f"“{spec.url}”: write tcp://{parts.netloc} (the engine's address is tcp://, "
                          "with TLS files when it uses HTTPS).", "bad_request")
    if scheme not in SCHEMES:
        raise EngineError(f"“{spec.url}”: the address must start with unix://, tcp:// or ssh://.",
                          "bad_request")
    tls = None
    if scheme == "unix":
        if not parts.path:
            raise EngineError(f"“{spec.url}”: give the socket's path, such as {DEFAULT_UNIX_SOCKET}.",
                              "bad_request")
    elif scheme in ("tcp", "ssh"):
        try:
            port = parts.port
        except ValueError:
            raise EngineError(f"“{spec.url}”: the port is not a number from 1 to 65535.", "bad_request") from None
        if not parts.hostname:
            raise EngineError(f"“{spec.url}”: the host name is missing.", "bad_request")
        if scheme == "tcp" and port is None:
            raise EngineError(f"“{spec.url}”: give the port, such as :2376 for TLS or :2375 without.",
                              "bad_request")
    if spec.uses_tls:
        if scheme != "tcp":
            raise EngineError("TLS files apply only to tcp:// addresses.", "bad_request")
        if bool(spec.cert) != bool(spec.key):
            raise EngineError("Give both the client certificate and its key, or neither.", "bad_request")
        ca = _check_file(spec.ca, "CA certificate") if spec.ca else None
        client = (_check_file(spec.cert, "client certificate"), _check_file(spec.key, "client key")) \
            if spec.cert else None
        tls = EngineTLS(client_cert=client, ca_cert=ca, verify=ca if (spec.verify and ca) else spec.verify)
    return EngineTarget(url, source, tls)


def spec_of(target: EngineTarget) -> EngineSpec:
    tls = target.tls
    if not tls:
        return EngineSpec(target.url)
    cert, key = tls.cert or ("", "")
    return EngineSpec(target.url, tls.ca_cert or "", cert, key, bool(tls.verify))


def _context_choices() -> list[EngineChoice]:
    return [EngineChoice(f"{t.source.removeprefix('context ')} — {t.url}", t, "context") for t in read_contexts()]


def list_choices(recent: Iterable[EngineSpec] = ()) -> list[EngineChoice]:
    """The local engine first, then Docker contexts, then recently added engines (no duplicates)."""
    local = resolve_engine()
    choices = [EngineChoice(f"Local — {local.url}", local, "local")]
    if local.url != DEFAULT_UNIX_SOCKET and os.path.exists(DEFAULT_UNIX_SOCKET[len("unix://"):]):
        choices.append(EngineChoice(f"Local — {DEFAULT_UNIX_SOCKET}",
                                    EngineTarget(DEFAULT_UNIX_SOCKET, "default socket"), "local"))
    choices.extend(_context_choices())
    seen = {c.target.url for c in choices}
    for spec in recent:
        if not spec.url or spec.url in seen:
            continue
        try:
            target = make_target(spec, "recent")
        except EngineError:
            continue  # its TLS files are gone: leave it out rather than offer a broken entry
        seen.add(target.url)
        choices.append(EngineChoice(target.url, target, "recent"))
    return choices


def probe(target: EngineTarget, timeout: float = 15) -> EngineInfo:
    """Connect once and read the engine's version; EngineError says why not (TLS and SSH spelled out)."""
    try:
        api = docker.APIClient(base_url=target.url, version=docker.constants.DEFAULT_DOCKER_API_VERSION,
                               timeout=timeout, tls=target.tls or False)
        try:
            api.version(api_version=False)
        finally:
            api.close()
    except Exception as exc:
        why = connection_reason(exc, bool(target.tls and getattr(target.tls, "cert", None)))
        if why:
            raise EngineError(f"Cannot connect to {target.url}: {why}.", "unreachable") from None
        raise translate(exc, target.url) from None
    engine = Engine(target)
    try:
        return engine.info()
    finally:
        engine.close()
