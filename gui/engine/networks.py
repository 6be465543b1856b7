"""Networks: list, create (bridge, optional subnet, internal), remove, connect and disconnect containers."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from gui.engine.client import Engine
from gui.engine.errors import EngineError

BUILT_IN = ("bridge", "host", "none")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class NetworkInfo:
    id: str
    name: str
    driver: str
    scope: str
    subnet: str
    gateway: str
    internal: bool
    containers: tuple[str, ...]  # names of the attached containers
    created: str = ""
    labels: tuple[tuple[str, str], ...] = ()

    @property
    def key(self) -> str:
        return self.id

    @property
    def built_in(self) -> bool:
        return self.name in BUILT_IN


@dataclass(frozen=True)
class Attachment:
    """One network of a container: its address there and its aliases."""

    network: str
    ip: str
    aliases: tuple[str, ...]


def _network(raw: dict) -> NetworkInfo:
    configs = ((raw.get("IPAM") or {}).get("Config") or [{}])
    first = configs[0] if configs else {}
    attached = raw.get("Containers") or {}
    return NetworkInfo(
        id=raw.get("Id", ""),
        name=raw.get("Name", ""),
        driver=raw.get("Driver", ""),
        scope=raw.get("Scope", ""),
        subnet=first.get("Subnet", "") or "",
        gateway=first.get("Gateway", "") or "",
        internal=bool(raw.get("Internal")),
        containers=tuple(sorted((c.get("Name") or cid[:12]) for cid, c in attached.items())),
        created=raw.get("Created", "") or "",
        labels=tuple(sorted((raw.get("Labels") or {}).items())),
    )


def list_networks(engine: Engine) -> list[NetworkInfo]:
    """Every network with its attached containers (the list call leaves them out: each is inspected)."""
    def read(api):
        out = []
        for n in api.networks():
            try:
                out.append(api.inspect_network(n["Id"]))
            except Exception:  # removed meanwhile
                continue
        return out

    return sorted((_network(r) for r in engine.call(read)), key=lambda n: (not n.built_in, n.name))


def network_problems(name: str, subnet: str = "", gateway: str = "") -> list[str]:
    """What is wrong with a new network's fields (empty: nothing)."""
    problems = []
    if not name:
        problems.append("a network needs a name")
    elif not _NAME.match(name):
        problems.append("a network name is letters, digits, '_', '.' or '-', starting with a letter or digit")
    elif name in BUILT_IN:
        problems.append(f"{name} is the engine's own network")
    net = None
    if subnet:
        try:
            net = ipaddress.ip_network(subnet, strict=True)
        except ValueError as exc:
            problems.append(f"subnet {subnet!r} is not a network in CIDR form such as 172.30.0.0/16 ({exc})")
    if gateway:
        try:
            gw = ipaddress.ip_address(gateway)
            if net is not None and gw not in net:
                problems.append(f"gateway {gateway} is outside the subnet {subnet}")
        except ValueError:
            problems.append(f"gateway {gateway!r} is not an IP address")
    return problems


def create_network(engine: Engine, name: str, subnet: str = "", gateway: str = "", internal: bool = False,
                   labels: dict[str, str] | None = None) -> NetworkInfo:
    problems = network_problems(name, subnet, gateway)
    if subnet and not problems:
        new = ipaddress.ip_network(subnet)
        for other in list_networks(engine):
            if other.subnet:
                try:
                    if ipaddress.ip_network(other.subnet).overlaps(new):
                        problems.append(f"subnet {subnet} overlaps {other.subnet} of network {other.name}")
                except ValueError:
                    pass
    if problems:
        raise EngineError("Cannot create the network: " + "; ".join(problems) + ".", "bad_request", 400)

    def create(api):
        ipam = None
        if subnet:
            from docker.types import IPAMConfig, IPAMPool

            ipam = IPAMConfig(pool_configs=[IPAMPool(subnet=subnet, gateway=gateway or None)])
        return api.create_network(name, driver="bridge", internal=internal, ipam=ipam,
                                  labels=labels or None, check_duplicate=True)

    try:
        created = engine.call(create)
    except EngineError as exc:
        if exc.status == 409 or "already exists" in str(exc):
            raise EngineError(f"A network named {name} already exists.", "conflict", 409) from None
        raise
    return _network(engine.call(lambda api: api.inspect_network(created["Id"])))


def remove_network(engine: Engine, network: NetworkInfo) -> None:
    """Remove a network; refused in words while containers are attached (naming them)."""
    if network.built_in:
        raise EngineError(f"{network.name} is the engine's own network and cannot be removed.", "bad_request", 400)
    current = engine.call(lambda api: api.inspect_network(network.id))
    attached = sorted((c.get("Name") or cid[:12]) for cid, c in (current.get("Containers") or {}).items())
    if attached:
        raise EngineError(f"Network {network.name} is in use by {', '.join(attached)}: disconnect "
                          f"{'it' if len(attached) == 1 else 'them'} first.", "conflict", 409)
    try:
        engine.call(lambda api: api.remove_network(network.id))
    except EngineError as exc:
        if exc.kind == "not_found":
            raise EngineError(f"Network {network.name} no longer exists.", "not_found", 404) from None
        raise


def connect(engine: Engine, network: str, container: str, aliases: list[str] | None = None) -> None:
    try:
        engine.call(lambda api: api.connect_container_to_network(container, network, aliases=aliases or None))
    except EngineError as exc:
        low = str(exc).lower()
        if "already exists" in low or "already attached" in low:
            raise EngineError(f"{container} is already connected to {network}.", "conflict", 409) from None
        raise


def disconnect(engine: Engine, network: str, container: str) -> None:
    try:
        engine.call(lambda api: api.disconnect_container_from_network(container, network))
    except EngineError as exc:
        if "is not connected" in str(exc).lower():
            raise EngineError(f"{container} is not connected to {network}.", "conflict", 409) from None
        raise


def container_networks(inspect: dict) -> list[Attachment]:
    """The networks of a container, from its inspect document."""
    nets = ((inspect.get("NetworkSettings") or {}).get("Networks") or {})
    return [Attachment(name, n.get("IPAddress", "") or "", tuple(n.get("Aliases") or ()))
            for name, n in sorted(nets.items())]
