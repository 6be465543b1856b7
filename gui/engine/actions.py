"""Changes to containers and images, each one call that raises only EngineError."""

from __future__ import annotations

import re
from dataclasses import dataclass

from gui.engine.client import Engine
from gui.engine.errors import EngineError
from gui.engine.reference import reference_error, split_reference

CONTAINER_ACTIONS = ("start", "stop", "restart", "pause", "unpause", "kill", "remove")

_BIND_TAKEN = re.compile(r"Bind for (?P<ip>[\d.:\[\]a-fA-F]*?):(?P<port>\d+) failed: port is already allocated")
_ADDR_IN_USE = re.compile(r"listen tcp[46]? (?P<ip>[\d.:\[\]a-fA-F]*?):(?P<port>\d+): bind: address already in use")


def port_owner(engine: Engine, port: int) -> str | None:
    """Name of the running container that publishes host port ``port``, if any."""
    for c in engine.list_containers():
        if c.state in ("running", "restarting", "paused") and any(p.host_port == port for p in c.ports):
            return c.name
    return None


def explain_port_conflict(engine: Engine, err: EngineError) -> EngineError:
    """'port 8080 is already used by container web-1' instead of the engine's proxy error."""
    text = str(err)
    m = _BIND_TAKEN.search(text) or _ADDR_IN_USE.search(text)
    if not m:
        return err
    port = int(m.group("port"))
    try:
        owner = port_owner(engine, port)
    except EngineError:
        owner = None
    if owner:
        msg = f"port {port} is already used by container {owner}"
    else:
        msg = f"port {port} is already in use on the host by another program"
    return EngineError(msg, "conflict", err.status)


def container_action(engine: Engine, action: str, container_id: str, *, remove_volumes: bool = False,
                     force: bool = False, stop_timeout: int = 10) -> None:
    """Run one of CONTAINER_ACTIONS on one container."""
    if action not in CONTAINER_ACTIONS:
        raise ValueError(action)

    def call(api):
        if action == "start":
            api.start(container_id)
        elif action == "stop":
            api.stop(container_id, timeout=stop_timeout)
        elif action == "restart":
            api.restart(container_id, timeout=stop_timeout)
        elif action == "pause":
            api.pause(container_id)
        elif action == "unpause":
            api.unpause(container_id)
        elif action == "kill":
            api.kill(container_id)
        else:
            api.remove_container(container_id, v=remove_volumes, force=force)

    try:
        engine.call(call)
    except EngineError as err:
        if action in ("start", "restart"):
            raise explain_port_conflict(engine, err) from None
        raise


def anonymous_volumes(engine: Engine, container_id: str) -> list[str]:
    """Names of the anonymous volumes `docker rm -v` would remove with this container."""
    data = engine.call(lambda api: api.inspect_container(container_id))
    named = set()
    for m in data.get("Mounts") or []:
        if m.get("Type") == "volume" and m.get("Name") and len(m["Name"]) == 64:
            named.add(m["Name"])
    return sorted(named)


# -- images -----------------------------------------------------------------------------
def tag_image(engine: Engine, image: str, reference: str) -> None:
    problem = reference_error(reference, allow_digest=False)
    if problem:
        raise EngineError(f"Cannot tag as {reference!r}: {problem}.", "bad_request")
    repo, tag = split_reference(reference)
    engine.call(lambda api: api.tag(image, repo, tag, force=True))


def remove_image(engine: Engine, reference: str, force: bool = False) -> list[str]:
    """Remove one reference (untag) or image; returns what the engine deleted/untagged."""
    result = engine.call(lambda api: api.remove_image(reference, force=force, noprune=False))
    out = []
    for item in result or []:
        out.extend(f"{k.lower()} {v}" for k, v in item.items())
    return out


@dataclass(frozen=True)
class PruneResult:
    deleted: tuple[str, ...]
    space_reclaimed: int


def prune_dangling_images(engine: Engine) -> PruneResult:
    data = engine.call(lambda api: api.prune_images(filters={"dangling": True}))
    deleted = tuple(
        v for item in (data.get("ImagesDeleted") or []) for k, v in item.items() if k == "Deleted"
    )
    return PruneResult(deleted, int(data.get("SpaceReclaimed") or 0))


@dataclass(frozen=True)
class LayerInfo:
    id: str
    created: float
    created_by: str
    size: int
    tags: tuple[str, ...]


def image_history(engine: Engine, image: str) -> list[LayerInfo]:
    rows = engine.call(lambda api: api.history(image))
    return [
        LayerInfo(
            id=r.get("Id") or "<missing>",
            created=float(r.get("Created") or 0),
            created_by=(r.get("CreatedBy") or "").replace("/bin/sh -c #(nop) ", "").strip(),
            size=int(r.get("Size") or 0),
            tags=tuple(r.get("Tags") or ()),
        )
        for r in rows
    ]


def inspect_image(engine: Engine, image: str) -> dict:
    return engine.call(lambda api: api.inspect_image(image))


def inspect_container(engine: Engine, container: str) -> dict:
    return engine.call(lambda api: api.inspect_container(container))
