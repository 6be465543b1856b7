"""What the Run dialog asks for, checked, turned into engine calls and the equivalent `docker run`."""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Collection
from dataclasses import dataclass, field

from gui.engine.actions import explain_port_conflict
from gui.engine.client import Engine
from gui.engine.errors import EngineError

NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")
ENV_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
RESTART_POLICIES = ("no", "on-failure", "unless-stopped", "always")
DEFAULT_PIDS_LIMIT = 1024  # a fork bomb stops here; Jupyter with a few kernels uses ~200 (threads count)
MIB = 1024 * 1024
# Environment names whose values are passwords: masked in the Run dialog and left out of `docker run`.
SECRET_ENV_RE = re.compile(r"(TOKEN|PASSWORD|PASSWD|SECRET|API_KEY|ACCESS_KEY|PRIVATE_KEY)", re.IGNORECASE)
ANY_ADDRESS = ("0.0.0.0", "::", "")


def looks_secret(env_name: str) -> bool:
    """True for an environment variable that holds a password or token (JUPYTER_TOKEN, ...)."""
    return bool(SECRET_ENV_RE.search(env_name))


def default_memory_limit(total_bytes: int) -> int:
    """The memory limit offered for a new container: half the engine host's memory, in whole MiB,
    at least 512 MiB (0 when the host's memory is unknown: no limit)."""
    if total_bytes <= 0:
        return 0
    return max(512 * MIB, total_bytes // 2 // MIB * MIB)


def host_memory(engine: Engine) -> int:
    """The engine host's memory in bytes (`docker info` MemTotal), 0 when the engine does not say."""
    return int(engine.call(lambda api: api.info()).get("MemTotal") or 0)


def size_cli(size: int) -> str:
    """A byte count the way `docker run --memory` takes it: 2g, 1536m, or bytes."""
    for unit, factor in (("g", 1024 * MIB), ("m", MIB)):
        if size % factor == 0:
            return f"{size // factor}{unit}"
    return str(size)


@dataclass(frozen=True)
class PortSpec:
    container_port: int
    host_port: int | None = None  # None: the engine picks a free port
    host_ip: str = "127.0.0.1"
    protocol: str = "tcp"

    def cli(self) -> str:
        """`-p` value: 127.0.0.1:8080:80, 127.0.0.1::80 (any free port), 8080:80 or 80."""
        if self.host_ip:
            host = f"{self.host_ip}:{self.host_port or ''}:"
        else:
            host = f"{self.host_port}:" if self.host_port else ""
        return f"{host}{self.container_port}" + ("" if self.protocol == "tcp" else f"/{self.protocol}")


@dataclass(frozen=True)
class MountSpec:
    source: str  # an absolute host path (bind mount) or a volume name
    target: str
    read_only: bool = False

    @property
    def is_bind(self) -> bool:
        return self.source.startswith("/") or bool(re.match(r"^[A-Za-z]:[\\/]", self.source))

    def cli(self) -> str:
        return f"{self.source}:{self.target}" + (":ro" if self.read_only else "")


@dataclass(frozen=True)
class RunSpec:
    image: str
    name: str = ""
    ports: tuple[PortSpec, ...] = ()
    mounts: tuple[MountSpec, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    command: str = ""
    restart: str = "no"
    gpus: bool = False
    auto_remove: bool = False
    labels: tuple[tuple[str, str], ...] = field(default=())
    memory: int = 0  # bytes; 0: no limit
    pids_limit: int = 0  # 0: no limit

    def problems(self, local_engine: bool = True) -> list[str]:
        """Every reason the engine would refuse this, in words a person understands."""
        out = []
        if not self.image:
            out.append("choose an image")
        if self.name and not NAME_RE.match(self.name):
            out.append(f"{self.name!r} is not a valid container name: use letters, digits and _ . - "
                       "(starting with a letter or digit)")
        seen = set()
        for p in self.ports:
            for port in (p.container_port, p.host_port):
                if port is not None and not 1 <= port <= 65535:
                    out.append(f"port {port} is out of range (1-65535)")
            if p.protocol not in ("tcp", "udp", "sctp"):
                out.append(f"unknown protocol {p.protocol!r}")
            if p.host_port is not None:
                if (p.host_ip, p.host_port, p.protocol) in seen:
                    out.append(f"host port {p.host_port} is given twice")
                seen.add((p.host_ip, p.host_port, p.protocol))
        for m in self.mounts:
            if not m.target.startswith("/"):
                out.append(f"the container path {m.target!r} must be absolute")
            if m.is_bind and local_engine and not os.path.exists(m.source):
                out.append(f"the folder {m.source} does not exist")
            if not m.is_bind and not re.match(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$", m.source):
                out.append(f"{m.source!r} is neither an absolute path nor a valid volume name")
        for k, _ in self.env:
            if not ENV_KEY_RE.match(k):
                out.append(f"{k!r} is not a valid environment variable name")
        if self.restart not in RESTART_POLICIES:
            out.append(f"unknown restart policy {self.restart!r}")
        if self.auto_remove and self.restart != "no":
            out.append("auto-remove cannot be combined with a restart policy")
        if self.memory and self.memory < 6 * MIB:
            out.append("the memory limit must be at least 6 MB (or none)")
        if self.pids_limit < 0:
            out.append("the process limit cannot be negative")
        try:
            shlex.split(self.command)
        except ValueError as exc:
            out.append(f"the command cannot be split into words: {exc}")
        return out

    def warnings(self) -> list[str]:
        """What runs but may not be meant: a port published on every network interface."""
        return [f"host port {p.host_port or '(any)'} is published on all network interfaces "
                f"({p.host_ip or '0.0.0.0'}): other computers on the network can reach it; "
                "use 127.0.0.1 for this computer only"
                for p in self.ports if p.host_ip in ANY_ADDRESS]

    def cli(self, hide_env: Collection[str] = ()) -> str:
        """The equivalent `docker run` command. Variables in ``hide_env`` appear as ``-e NAME``
        (docker then takes the value from the caller's environment), so a token is never shown."""
        args = ["docker", "run", "-d"]
        if self.name:
            args += ["--name", self.name]
        for p in self.ports:
            args += ["-p", p.cli()]
        for m in self.mounts:
            args += ["-v", m.cli()]
        for k, v in self.env:
            args += ["-e", k if k in hide_env else f"{k}={v}"]
        if self.memory:
            args += ["--memory", size_cli(self.memory)]
        if self.pids_limit:
            args += ["--pids-limit", str(self.pids_limit)]
        if self.restart != "no":
            args += ["--restart", self.restart]
        if self.gpus:
            args += ["--gpus", "all"]
        if self.auto_remove:
            args += ["--rm"]
        args.append(self.image)
        try:
            words = shlex.split(self.command) if self.command else []
        except ValueError:  # an unclosed quote while the user types: show the command as typed
            return shlex.join(args) + " " + self.command
        return shlex.join(args + words)


def run_container(engine: Engine, spec: RunSpec) -> str:
    """Create and start a container; on a failed start the created container is removed again."""
    problems = spec.problems(local_engine=engine.url.startswith(("unix://", "npipe://")))
    if problems:
        raise EngineError("; ".join(problems).capitalize() + ".", "bad_request")

    def create(api):
        port_bindings = {}
        for p in spec.ports:
            key = f"{p.container_port}/{p.protocol}"
            port_bindings.setdefault(key, []).append((p.host_ip, p.host_port) if p.host_ip else p.host_port)
        binds = {m.source: {"bind": m.target, "mode": "ro" if m.read_only else "rw"} for m in spec.mounts}
        device_requests = None
        if spec.gpus:
            import docker.types

            device_requests = [docker.types.DeviceRequest(count=-1, capabilities=[["gpu"]])]
        host_config = api.create_host_config(
            port_bindings=port_bindings or None,
            binds=binds or None,
            restart_policy={"Name": spec.restart} if spec.restart != "no" else None,
            auto_remove=spec.auto_remove,
            device_requests=device_requests,
            mem_limit=spec.memory or None,
            pids_limit=spec.pids_limit or None,
        )
        return api.create_container(
            spec.image,
            command=shlex.split(spec.command) if spec.command else None,
            name=spec.name or None,
            environment=[f"{k}={v}" for k, v in spec.env] or None,
            ports=[(p.container_port, p.protocol) for p in spec.ports] or None,
            labels=dict(spec.labels) or None,
            host_config=host_config,
        )["Id"]

    container_id = engine.call(create)
    try:
        engine.call(lambda api: api.start(container_id))
    except EngineError as err:
        try:
            engine.call(lambda api: api.remove_container(container_id, force=True))
        except EngineError:
            pass
        raise explain_port_conflict(engine, err) from None
    return container_id


def has_nvidia_runtime(runtimes: tuple[str, ...]) -> bool:
    return "nvidia" in runtimes
