"""Connection to one Docker (or Podman) Engine. The only module family that imports `docker`."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from gui.engine.docker_import import import_docker

docker = import_docker()  # paramiko only when an ssh:// engine is used

from docker.utils import version_lt  # noqa: E402

from gui.engine.endpoint import EngineTarget  # noqa: E402
from gui.engine.errors import EngineError, is_engine_fault, translate  # noqa: E402
from gui.engine.models import ContainerInfo, EngineInfo, ImageInfo, PortBinding  # noqa: E402

REQUEST_TIMEOUT = 15  # seconds, for request/response calls; streams use no timeout


def _api(target: EngineTarget, version: str, timeout: float | None) -> docker.APIClient:
    return docker.APIClient(base_url=target.url, version=version, timeout=timeout, tls=target.tls or False)


def _labels(raw: dict | None) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((raw or {}).items()))


def image_rows(summary: dict) -> list[ImageInfo]:
    """One row per reference of an image summary (`GET /images/json`)."""
    refs = [t for t in (summary.get("RepoTags") or []) if t and t != "<none>:<none>"]
    if not refs:
        digests = [d for d in (summary.get("RepoDigests") or []) if d and not d.startswith("<none>")]
        refs = [d.split("@", 1)[0] + ":<none>" for d in digests[:1]] or ["<none>:<none>"]
    return [
        ImageInfo(
            id=summary["Id"],
            reference=ref,
            size=int(summary.get("Size") or 0),
            created=float(summary.get("Created") or 0),
            labels=_labels(summary.get("Labels")),
        )
        for ref in refs
    ]


def container_info(summary: dict) -> ContainerInfo:
    """A container summary (`GET /containers/json`) as a ContainerInfo."""
    names = summary.get("Names") or []
    name = names[0].lstrip("/") if names else summary["Id"][:12]
    ports = []
    for p in summary.get("Ports") or []:
        host_port = p.get("PublicPort")
        ports.append(
            PortBinding(
                container_port=int(p.get("PrivatePort") or 0),
                protocol=p.get("Type") or "tcp",
                host_ip=p.get("IP") or "",
                host_port=int(host_port) if host_port else None,
            )
        )
    ports.sort(key=lambda b: (b.container_port, b.protocol, b.host_ip, b.host_port or 0))
    return ContainerInfo(
        id=summary["Id"],
        name=name,
        image=summary.get("Image") or "",
        state=(summary.get("State") or "").lower(),
        status=summary.get("Status") or "",
        created=float(summary.get("Created") or 0),
        ports=tuple(ports),
        labels=_labels(summary.get("Labels")),
        image_id=summary.get("ImageID") or "",
        command=summary.get("Command") or "",
    )


class Engine:
    """A connection to one engine. Thread-safe: each thread gets its own HTTP session.

    What the engine or the connection to it does wrong is raised as EngineError; anything else (a bug in
    our own code, a TypeError or KeyError) propagates unchanged, so that it reaches the crash reporter
    instead of being shown as something the engine said.
    """

    def __init__(self, target: EngineTarget):
        self.target = target
        self.url = target.url
        self._version: str | None = None
        self._local = threading.local()
        self._lock = threading.Lock()

    # -- connection -------------------------------------------------------------------
    def _negotiate(self) -> str:
        with self._lock:
            if self._version is None:
                probe = _api(self.target, docker.constants.DEFAULT_DOCKER_API_VERSION, REQUEST_TIMEOUT)
                try:
                    server = probe.version(api_version=False)
                except Exception as exc:
                    if not is_engine_fault(exc):
                        raise
                    raise translate(exc, self.url) from None
                finally:
                    probe.close()
                server_api = server.get("ApiVersion") or docker.constants.MINIMUM_DOCKER_API_VERSION
                ours = docker.constants.DEFAULT_DOCKER_API_VERSION
                self._version = server_api if version_lt(server_api, ours) else ours
            return self._version

    def api(self) -> docker.APIClient:
        """This thread's client for request/response calls."""
        version = self._negotiate()
        api = getattr(self._local, "api", None)
        if api is None or api.api_version != version:
            api = _api(self.target, version, REQUEST_TIMEOUT)
            self._local.api = api
        return api

    def short_api(self, timeout: float) -> docker.APIClient:
        """A new client whose every call gives up after ``timeout`` seconds, for best-effort clean-up on an
        engine that may freeze at any moment. The caller closes it."""
        return _api(self.target, self._negotiate(), timeout)

    def stream_api(self) -> docker.APIClient:
        """A new client with no read timeout, for one endless stream. The caller closes it."""
        return _api(self.target, self._negotiate(), None)

    def reset(self) -> None:
        """Forget the negotiated version (the engine may have been replaced)."""
        with self._lock:
            self._version = None

    def call(self, fn, *args, **kwargs) -> Any:
        """``fn(api, *args, **kwargs)`` with this thread's client. An engine or transport failure becomes an
        EngineError (see ``is_engine_fault``); any other exception is a bug and is raised as it is."""
        try:
            return fn(self.api(), *args, **kwargs)
        except EngineError:
            raise
        except Exception as exc:
            if not is_engine_fault(exc):
                raise
            if isinstance(exc, docker.errors.APIError) is False:
                self.reset()
            raise translate(exc, self.url) from None

    # -- reads ------------------------------------------------------------------------
    def info(self) -> EngineInfo:
        def get(api: docker.APIClient) -> EngineInfo:
            v = api.version()
            i = api.info()
            return EngineInfo(
                url=self.url,
                version=v.get("Version", "?"),
                api_version=api.api_version,
                os=i.get("OperatingSystem", ""),
                name=i.get("Name", ""),
                runtimes=tuple(sorted((i.get("Runtimes") or {}).keys())),
            )

        return self.call(get)

    def ping(self, timeout: float | None = None) -> bool:
        """Ask the engine whether it is there. With ``timeout`` (seconds) an engine that does not answer
        that soon raises EngineError of kind TIMEOUT: a frozen engine (SIGSTOP, overloaded) accepts the
        connection and then says nothing, so only a short read timeout tells it apart from a slow call."""
        if timeout is None:
            return bool(self.call(lambda api: api.ping()))
        quick = getattr(self._local, "quick", None)
        if quick is None or quick.timeout != timeout:
            if quick is not None:
                quick.close()
            # /_ping answers on any API version: no negotiation, which would wait REQUEST_TIMEOUT.
            version = self._version or docker.constants.MINIMUM_DOCKER_API_VERSION
            quick = self._local.quick = _api(self.target, version, timeout)
        try:
            return bool(quick.ping())
        except Exception as exc:
            quick.close()  # a timed-out connection is not used again
            self._local.quick = None
            if not is_engine_fault(exc):
                raise
            raise translate(exc, self.url) from None

    def list_images(self) -> list[ImageInfo]:
        summaries = self.call(lambda api: api.images(all=False))
        rows: list[ImageInfo] = []
        for s in summaries:
            rows.extend(image_rows(s))
        return rows

    def list_containers(self, ids: Iterable[str] | None = None) -> list[ContainerInfo]:
        filters = {"id": list(ids)} if ids is not None else None
        if ids is not None and not filters["id"]:
            return []
        summaries = self.call(lambda api: api.containers(all=True, filters=filters))
        return [container_info(s) for s in summaries]

    def close(self) -> None:
        for name in ("api", "quick"):
            api = getattr(self._local, name, None)
            if api is not None:
                api.close()
                setattr(self._local, name, None)


