"""Docker Swarm, the engine's own: whether this engine is in one, init/join/leave, join tokens, and nodes.

Services and their tasks are in gui/engine/services.py. Every call raises EngineError with a sentence:
the engine's swarm answers ("This node is not a swarm manager ...") are reworded here once
(``swarm_error``), so every page says the same thing.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
from dataclasses import dataclass

from gui.engine.client import Engine
from gui.engine.errors import EngineError, ErrorKind

SWARM_PORT = 2377
HELPER_LABEL = "ai-container-studio.helper"


@dataclass(frozen=True)
class SwarmState:
    """What ``docker info`` says of the engine's swarm membership."""

    state: str  # "inactive", "pending", "active", "error", "locked"
    node_id: str = ""
    node_address: str = ""
    is_manager: bool = False
    cluster_id: str = ""
    managers: int = 0
    nodes: int = 0
    error: str = ""
    manager_addresses: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        return self.state == "active"

    @property
    def role(self) -> str:
        if not self.active:
            return ""
        return "manager" if self.is_manager else "worker"


@dataclass(frozen=True)
class NodeInfo:
    id: str
    hostname: str
    role: str  # "manager" | "worker"
    availability: str  # "active" | "pause" | "drain"
    status: str  # "ready" | "down" | "unknown" | "disconnected"
    address: str
    engine_version: str = ""
    cpus: float = 0.0
    memory: int = 0
    leader: bool = False
    reachability: str = ""  # managers: "reachable" | "unreachable"
    labels: tuple[tuple[str, str], ...] = ()
    version: int = 0

    @property
    def key(self) -> str:
        return self.id

    @property
    def role_text(self) -> str:
        if self.role == "manager":
            return "manager (leader)" if self.leader else f"manager{f' ({self.reachability})' if self.reachability not in ('', 'reachable') else ''}"
        return self.role


# -- errors in words ----------------------------------------------------------------------------------

_NOT_MANAGER = re.compile(r"not a swarm manager", re.I)
_NOT_IN_SWARM = re.compile(r"not part of a swarm|swarm is not active|node is not part|docker swarm init", re.I)


def swarm_error(exc: EngineError, doing: str = "") -> EngineError:
    """The engine's swarm answers reworded for a person (``doing``: "Scale web" ...)."""
    text = re.sub(r"^rpc error: code = \w+ desc = ", "", exc.message, flags=re.I)  # swarmkit's gRPC wrapping
    lead = f"{doing}: " if doing else ""
    if _NOT_IN_SWARM.search(text):  # first: its message also says "not a swarm manager"
        return EngineError(f"{lead}this engine is not in a swarm: initialize one or join one first.",
                           ErrorKind.CONFLICT, exc.status)
    if _NOT_MANAGER.search(text):
        return EngineError(f"{lead}this engine is a worker, not a swarm manager: do this on a manager "
                           "(or promote this node from a manager).", ErrorKind.CONFLICT, exc.status)
    if "already part of a swarm" in text:
        return EngineError(f"{lead}this engine is already in a swarm: leave it first.", ErrorKind.CONFLICT,
                           exc.status)
    if re.search(r"name conflicts with an existing object|already exists", text, re.I):
        return EngineError(f"{lead}that name is taken by another service.", ErrorKind.CONFLICT, exc.status)
    if re.search(r"constraint|^value '.*' is invalid", text, re.I):
        return EngineError(f"{lead}a placement constraint is invalid: {text}", ErrorKind.BAD_REQUEST, exc.status)
    if re.search(r"update out of sequence", text, re.I):
        return EngineError(f"{lead}the service changed meanwhile: look again and retry.", ErrorKind.CONFLICT,
                           exc.status)
    if exc.kind == ErrorKind.NOT_FOUND:
        return EngineError(f"{lead}it no longer exists ({text}).", ErrorKind.NOT_FOUND, exc.status)
    if lead:
        return EngineError(f"{lead}{text[:1].lower()}{text[1:]}", exc.kind, exc.status)
    return exc


def _call(engine: Engine, doing: str, fn):
    try:
        return engine.call(fn)
    except EngineError as exc:
        if exc.connection_lost:
            raise
        raise swarm_error(exc, doing) from None


# -- the swarm -------------------------------------------------------------------------------------------


def swarm_state(engine: Engine) -> SwarmState:
    info = engine.call(lambda api: api.info())
    sw = info.get("Swarm") or {}
    managers = tuple(sorted(str(m.get("Addr", "")) for m in sw.get("RemoteManagers") or []))
    return SwarmState(
        state=(sw.get("LocalNodeState") or "inactive").lower(),
        node_id=sw.get("NodeID") or "",
        node_address=sw.get("NodeAddr") or "",
        is_manager=bool(sw.get("ControlAvailable")),
        cluster_id=((sw.get("Cluster") or {}).get("ID")) or "",
        managers=int(sw.get("Managers") or 0),
        nodes=int(sw.get("Nodes") or 0),
        error=sw.get("Error") or "",
        manager_addresses=managers,
    )


# Every local address of the engine's host, read from the kernel by a helper on the host's network:
# the engine may be remote or in another network namespace, so this process's own interfaces say nothing.
_FIB_SCRIPT = "cat /proc/net/fib_trie"


def parse_fib_trie(text: str) -> list[str]:
    """The host's own IPv4 addresses in ``/proc/net/fib_trie`` (a ``/32 host LOCAL`` entry), no loopback."""
    found: list[str] = []
    last = ""
    for line in text.splitlines():
        m = re.search(r"[|+]-- (\d+\.\d+\.\d+\.\d+)$", line.strip())
        if m:
            last = m.group(1)
            continue
        if "/32 host LOCAL" in line and last and last not in found:
            with contextlib.suppress(ValueError):
                if not ipaddress.ip_address(last).is_loopback:
                    found.append(last)
    return found


def advertise_candidates(engine: Engine) -> list[str]:
    """Addresses of the engine's host another machine could reach, best first: the engine's own
    bridges (docker0, docker_gwbridge: only this host reaches them) last. Empty when no helper ran."""
    from gui.engine.volumes import helper_image

    def run(api) -> str:
        image = helper_image(engine)
        host = api.create_host_config(network_mode="host")
        cid = api.create_container(image, entrypoint=["sh", "-c", _FIB_SCRIPT], command=[], host_config=host,
                                   labels={HELPER_LABEL: "addresses"})["Id"]
        try:
            api.start(cid)
            api.wait(cid, timeout=20)
            return api.logs(cid, stdout=True, stderr=False).decode(errors="replace")
        finally:
            with contextlib.suppress(Exception):
                api.remove_container(cid, force=True)

    try:
        text = engine.call(run)
    except EngineError:
        return []
    bridges: list[ipaddress.IPv4Network] = []
    with contextlib.suppress(EngineError):
        for net in engine.call(lambda api: api.networks()):
            if net.get("Driver") == "bridge":
                for cfg in (net.get("IPAM") or {}).get("Config") or []:
                    with contextlib.suppress(ValueError, KeyError):
                        bridges.append(ipaddress.ip_network(cfg["Subnet"], strict=False))
    addrs = parse_fib_trie(text)
    return sorted(addrs, key=lambda a: any(ipaddress.ip_address(a) in n for n in bridges))


def init_swarm(engine: Engine, advertise_address: str, heartbeat_s: float | None = None) -> str:
    """``docker swarm init --advertise-addr``; returns this node's id."""
    if not advertise_address.strip():
        raise EngineError("Choose the address other machines reach this engine at.", ErrorKind.BAD_REQUEST)
    addr = advertise_address.strip()
    host = addr.rsplit(":", 1)[0] if addr.count(":") == 1 else addr

    def init(api):
        spec = api.create_swarm_spec(dispatcher_heartbeat_period=int(heartbeat_s * 1e9)) if heartbeat_s else None
        return api.init_swarm(advertise_addr=addr, listen_addr=f"{host}:{SWARM_PORT}", swarm_spec=spec)

    return _call(engine, "Initialize swarm", init)


def join_swarm(engine: Engine, manager_address: str, token: str, advertise_address: str = "") -> None:
    """``docker swarm join --token T MANAGER:2377``."""
    manager = manager_address.strip()
    if not manager or not token.strip():
        raise EngineError("A manager's address and a join token are needed (a manager's *Copy join "
                          "command* gives both).", ErrorKind.BAD_REQUEST)
    if ":" not in manager:
        manager = f"{manager}:{SWARM_PORT}"
    kwargs = {}
    if advertise_address.strip():
        kwargs = {"advertise_addr": advertise_address.strip(),
                  "listen_addr": f"{advertise_address.strip()}:{SWARM_PORT}"}
    _call(engine, "Join swarm", lambda api: api.join_swarm([manager], token.strip(), **kwargs))


def leave_swarm(engine: Engine, force: bool = False) -> None:
    """``docker swarm leave`` (``force``: a manager, which loses the swarm if it is the last one)."""
    try:
        engine.call(lambda api: api.leave_swarm(force=force))
    except EngineError as exc:
        if "force" in exc.message.lower() and not force:
            raise EngineError("This engine is a manager: leaving would take the swarm's state with it "
                              "when it is the last manager. Leave anyway (force)?", ErrorKind.CONFLICT,
                              exc.status) from None
        raise swarm_error(exc, "Leave swarm") from None


def join_command(engine: Engine, role: str = "worker") -> str:
    """The ``docker swarm join ...`` line another engine runs to join as ``role``."""
    sw = _call(engine, "Copy join command", lambda api: api.inspect_swarm())
    token = (sw.get("JoinTokens") or {}).get("Manager" if role == "manager" else "Worker", "")
    state = swarm_state(engine)
    addr = state.node_address
    return f"docker swarm join --token {token} {addr}:{SWARM_PORT}"


# -- nodes -----------------------------------------------------------------------------------------------


def node_info(raw: dict) -> NodeInfo:
    spec = raw.get("Spec") or {}
    desc = raw.get("Description") or {}
    res = desc.get("Resources") or {}
    status = raw.get("Status") or {}
    manager = raw.get("ManagerStatus") or {}
    return NodeInfo(
        id=raw.get("ID", ""),
        hostname=desc.get("Hostname", ""),
        role=spec.get("Role", ""),
        availability=spec.get("Availability", ""),
        status=status.get("State", ""),
        address=status.get("Addr", "") or (manager.get("Addr", "").rsplit(":", 1)[0]),
        engine_version=(desc.get("Engine") or {}).get("EngineVersion", ""),
        cpus=(res.get("NanoCPUs") or 0) / 1e9,
        memory=int(res.get("MemoryBytes") or 0),
        leader=bool(manager.get("Leader")),
        reachability=manager.get("Reachability", ""),
        labels=tuple(sorted((spec.get("Labels") or {}).items())),
        version=int((raw.get("Version") or {}).get("Index") or 0),
    )


def list_nodes(engine: Engine) -> list[NodeInfo]:
    return sorted((node_info(n) for n in _call(engine, "List nodes", lambda api: api.nodes())),
                  key=lambda n: (n.role != "manager", n.hostname, n.id))


def set_node_availability(engine: Engine, node_id: str, availability: str) -> None:
    """Drain (move its tasks away), pause, or activate a node."""
    if availability not in ("active", "pause", "drain"):
        raise EngineError(f"Unknown availability {availability!r}.", ErrorKind.BAD_REQUEST)

    def update(api):
        raw = api.inspect_node(node_id)
        spec = dict(raw.get("Spec") or {})
        spec["Availability"] = availability
        return api.update_node(node_id, raw["Version"]["Index"], spec)

    _call(engine, f"{availability.capitalize()} node", update)


def remove_node(engine: Engine, node_id: str, force: bool = False) -> None:
    """Remove a node from the swarm: it must be down (or ``force``), and not a manager."""
    try:
        engine.call(lambda api: api.remove_node(node_id, force=force))
    except EngineError as exc:
        text = exc.message
        if "is not down" in text or "must be down" in text:
            raise EngineError("The node is still up: make it leave the swarm first (or remove it by force).",
                              ErrorKind.CONFLICT, exc.status) from None
        if "is a cluster manager" in text or "manager" in text and "demote" in text:
            raise EngineError("The node is a manager: demote it first.", ErrorKind.CONFLICT, exc.status) from None
        raise swarm_error(exc, "Remove node") from None
