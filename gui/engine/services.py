"""Swarm services and their tasks: create, list, scale, update the image, roll back, remove; tasks with
their errors in words; the merged log of every task; and where each replica answers.

Swarm schedules and balances; the studio only shows it and asks it. A 20.10 engine sends ``service``
and ``node`` events (on managers) but no ``task`` events: tasks are re-read on service and container
events.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import datetime

from gui.engine.client import Engine
from gui.engine.errors import EngineError, ErrorKind
from gui.engine.logs import LogReader
from gui.engine.service_spec import ServiceSpec
from gui.engine.swarm import _call, list_nodes


@dataclass(frozen=True)
class PublishedPort:
    target: int
    published: int
    mode: str  # "ingress" | "host"
    protocol: str = "tcp"

    def __str__(self) -> str:
        return f"{self.published or '*'}->{self.target}/{self.protocol} ({self.mode})"


@dataclass(frozen=True)
class ServiceInfo:
    id: str
    name: str
    image: str  # as deployed, without the digest the engine pins
    mode: str  # "replicated" | "global"
    desired: int
    running: int
    ports: tuple[PublishedPort, ...] = ()
    update_state: str = ""  # "updating", "completed", "paused", "rollback_started", "rollback_completed" ...
    update_message: str = ""
    labels: tuple[tuple[str, str], ...] = ()
    created: float = 0.0
    updated: float = 0.0
    version: int = 0

    @property
    def key(self) -> str:
        return self.id

    @property
    def replicas_text(self) -> str:
        return f"{self.running}/{self.desired}"

    @property
    def ports_text(self) -> str:
        return ", ".join(str(p) for p in self.ports)

    @property
    def update_text(self) -> str:
        words = {"updating": "updating…", "completed": "updated", "paused": "update paused",
                 "rollback_started": "rolling back…", "rollback_paused": "rollback paused",
                 "rollback_completed": "rolled back"}
        return words.get(self.update_state, self.update_state)

    @property
    def automatic_rollback(self) -> bool:
        """A rollback the update started by itself (a new task failed); only said while it rolls back:
        at the end the engine's message is "rollback completed" either way."""
        return self.update_state.startswith("rollback") and "due to failure" in self.update_message

    def update_words(self, automatic: bool = False) -> str:
        """The update's state in a sentence (the engine's message is terse); ``automatic``: the caller saw
        this rollback start by itself."""
        msg = self.update_message
        if self.update_state.startswith("rollback") and (automatic or self.automatic_rollback):
            done = "Rolled back by itself" if self.update_state == "rollback_completed" else "Rolling back by itself"
            return (f"{done}: a new task failed or stopped early (its health check did not pass), so the "
                    "service went back to its previous image.")
        if self.update_state == "paused":
            return f"Update paused: {msg}. Fix the image and update again, or roll back."
        return msg[:1].upper() + msg[1:] if msg else ""


@dataclass(frozen=True)
class TaskInfo:
    id: str
    service_id: str
    slot: int
    node_id: str
    node: str  # the node's hostname ("" while not scheduled)
    node_address: str
    desired_state: str
    state: str
    message: str
    error: str  # the engine's error, as it said it
    updated: float
    image: str = ""
    container_id: str = ""
    host_ports: tuple[tuple[int, int], ...] = ()  # (target, published) of host-mode ports
    node_down: bool = False

    @property
    def key(self) -> str:
        return self.id

    @property
    def error_text(self) -> str:
        return task_error_words(self.error, self.image) if self.error else ""

    @property
    def state_text(self) -> str:
        if self.node_down and self.state in ("running", "starting", "assigned", "accepted", "preparing"):
            return f"{self.state} (node down)"
        return self.state


def _time(text: str) -> float:
    if not text:
        return 0.0
    head, _, frac = text.rstrip("Z").partition(".")
    try:
        dt = datetime.fromisoformat(head[:19] + "+00:00")
    except ValueError:
        return 0.0
    return dt.timestamp() + float("0." + (frac[:6] or "0"))


def bare_image(image: str) -> str:
    """"repo:tag@sha256:..." -> "repo:tag" (the engine pins a digest when it can)."""
    return image.split("@", 1)[0] if "@" in image and ":" in image.split("@", 1)[0].rsplit("/", 1)[-1] else image


def task_error_words(error: str, image: str = "") -> str:
    """A task's error as a person reads it."""
    text = error.strip()
    m = re.search(r"No such image: (\S+)", text)
    if m:
        return (f"No such image: {bare_image(m.group(1))}. This node does not have it and cannot pull it: "
                "push the image to a registry every node reaches, or load it on each node.")
    m = re.search(r"no suitable node \((.*)\)", text)
    if m:
        why = m.group(1)
        if "insufficient resources" in why:
            return f"No node has the CPU or memory the service reserves ({why})."
        if "constraint" in why:
            return f"No node matches the placement constraints ({why})."
        return f"No node can run it ({why})."
    if "unhealthy" in text:
        return "The container failed its health check and was stopped."
    m = re.search(r"non-zero exit \((-?\d+)\)", text)
    if m:
        code = int(m.group(1))
        if code == 137:
            return "The container was killed (exit 137: out of memory or stopped by force)."
        return f"The container exited with code {code}."
    if "port" in text and "already" in text:
        return f"The published port is taken on that node ({text})."
    return text[:1].upper() + text[1:]


# -- reads -------------------------------------------------------------------------------------------------


def service_info(raw: dict) -> ServiceInfo:
    spec = raw.get("Spec") or {}
    mode_spec = spec.get("Mode") or {}
    mode = "global" if "Global" in mode_spec else "replicated"
    status = raw.get("ServiceStatus") or {}
    desired = (mode_spec.get("Replicated") or {}).get("Replicas") if mode == "replicated" else None
    if desired is None:
        desired = int(status.get("DesiredTasks") or 0)
    ports = []
    for p in ((raw.get("Endpoint") or {}).get("Ports") or (spec.get("EndpointSpec") or {}).get("Ports") or []):
        ports.append(PublishedPort(int(p.get("TargetPort") or 0), int(p.get("PublishedPort") or 0),
                                   p.get("PublishMode") or "ingress", p.get("Protocol") or "tcp"))
    update = raw.get("UpdateStatus") or {}
    image = ((spec.get("TaskTemplate") or {}).get("ContainerSpec") or {}).get("Image", "")
    return ServiceInfo(
        id=raw.get("ID", ""),
        name=spec.get("Name", ""),
        image=bare_image(image),
        mode=mode,
        desired=int(desired),
        running=int(status.get("RunningTasks") or 0),
        ports=tuple(ports),
        update_state=update.get("State", ""),
        update_message=update.get("Message", ""),
        labels=tuple(sorted((spec.get("Labels") or {}).items())),
        created=_time(raw.get("CreatedAt", "")),
        updated=_time(raw.get("UpdatedAt", "")),
        version=int((raw.get("Version") or {}).get("Index") or 0),
    )


def list_services(engine: Engine) -> list[ServiceInfo]:
    raw = _call(engine, "List services", lambda api: api.services(status=True))
    return sorted((service_info(s) for s in raw), key=lambda s: s.name)


def get_service(engine: Engine, service: str) -> ServiceInfo:
    """One service with its task counts (only the list call gives those: ``status=true``)."""
    raw = _call(engine, f"Service {service}", lambda api: api.inspect_service(service))
    listed = _call(engine, f"Service {service}", lambda api: api.services(filters={"id": raw["ID"]}, status=True))
    return service_info(next((s for s in listed if s.get("ID") == raw["ID"]), raw))


def list_tasks(engine: Engine, service_id: str, nodes=None) -> list[TaskInfo]:
    """The tasks of one service, newest first per slot, with their node's name and address."""
    raw = _call(engine, "List tasks", lambda api: api.tasks(filters={"service": service_id}))
    by_id = {n.id: n for n in (nodes if nodes is not None else list_nodes(engine))}
    out = []
    for t in raw:
        status = t.get("Status") or {}
        node = by_id.get(t.get("NodeID") or "")
        ports = []
        for p in ((status.get("PortStatus") or {}).get("Ports") or []):
            if p.get("PublishMode") == "host" and p.get("PublishedPort"):
                pair = (int(p.get("TargetPort") or 0), int(p["PublishedPort"]))
                if pair not in ports:  # 20.10 lists each host port twice
                    ports.append(pair)
        spec = t.get("Spec") or {}
        out.append(TaskInfo(
            id=t.get("ID", ""),
            service_id=t.get("ServiceID", ""),
            slot=int(t.get("Slot") or 0),
            node_id=t.get("NodeID") or "",
            node=node.hostname if node else "",
            node_address=node.address if node else "",
            desired_state=t.get("DesiredState", ""),
            state=status.get("State", ""),
            message=status.get("Message", ""),
            error=status.get("Err", "") or "",
            updated=_time(t.get("UpdatedAt", "") or status.get("Timestamp", "")),
            image=bare_image((spec.get("ContainerSpec") or {}).get("Image", "")),
            container_id=((status.get("ContainerStatus") or {}).get("ContainerID")) or "",
            host_ports=tuple(ports),
            node_down=bool(node and node.status == "down"),
        ))
    return sorted(out, key=lambda t: (t.slot, -t.updated))


# -- changes ---------------------------------------------------------------------------------------------


def create_service(engine: Engine, spec: ServiceSpec) -> str:
    """Deploy ``spec``; returns the service id. The image's HEALTHCHECK decides when a task runs."""
    body = spec.to_api()

    def create(api):
        res = api._post_json(api._url("/services/create"), data=body)
        return api._result(res, True)["ID"]

    return _call(engine, f"Deploy {spec.name}", create)


def _update(engine: Engine, service: str, doing: str, mutate=None, rollback: bool = False) -> None:
    """POST the service's spec back, changed by ``mutate(spec)``, at the version it was read at."""

    def update(api):
        raw = api.inspect_service(service)
        spec = raw["Spec"]
        if mutate is not None:
            mutate(spec)
        params = {"version": raw["Version"]["Index"]}
        if rollback:
            if not raw.get("PreviousSpec"):
                raise EngineError("the service has no previous version to go back to (after an automatic "
                                  "rollback the engine keeps none).",
                                  ErrorKind.CONFLICT, 409)
            params["rollback"] = "previous"
        res = api._post_json(api._url("/services/{0}/update", raw["ID"]), data=spec, params=params)
        api._raise_for_status(res)

    # Swarm's allocator bumps a new service's version (its ports) right after create: a spec read just
    # before that is "out of sequence". Read it again and retry, a few times.
    for attempt in range(4):
        try:
            return _call(engine, doing, update)
        except EngineError as exc:
            if attempt == 3 or "changed meanwhile" not in exc.message:
                raise
            time.sleep(0.1 * (attempt + 1))


def scale_service(engine: Engine, service: str, replicas: int) -> None:
    if not 0 <= replicas <= 1000:
        raise EngineError("Replicas: 0 to 1000.", ErrorKind.BAD_REQUEST, 400)

    def mutate(spec):
        if "Replicated" not in (spec.get("Mode") or {}):
            raise EngineError("A global service runs one task per node: it cannot be scaled.",
                              ErrorKind.BAD_REQUEST, 400)
        spec["Mode"]["Replicated"]["Replicas"] = replicas

    _update(engine, service, f"Scale to {replicas}", mutate)


def update_service_image(engine: Engine, service: str, image: str) -> None:
    """A rolling update to ``image`` (the service's update policy: order, parallelism, rollback on failure)."""
    if not image.strip():
        raise EngineError("Choose the image to update to.", ErrorKind.BAD_REQUEST, 400)

    def mutate(spec):
        spec["TaskTemplate"]["ContainerSpec"]["Image"] = image.strip()
        spec["TaskTemplate"]["ForceUpdate"] = int(spec["TaskTemplate"].get("ForceUpdate") or 0)

    _update(engine, service, f"Update to {image}", mutate)


def rollback_service(engine: Engine, service: str) -> None:
    """Go back to the service's previous spec (``docker service rollback``)."""
    _update(engine, service, "Rollback", rollback=True)


def remove_service(engine: Engine, service: str) -> None:
    _call(engine, "Remove service", lambda api: api.remove_service(service))


# -- logs and endpoints -------------------------------------------------------------------------------


class ServiceLogReader(LogReader):
    """``docker service logs``: every task's lines merged, with ``details`` (the task id leads each line)."""

    PATH = "/services/{0}/logs"

    def __init__(self, engine: Engine, service_id: str, *, follow: bool = True, tail: int | str = 200):
        super().__init__(engine, service_id, follow=follow, timestamps=True, tail=tail, tty=False)

    def params(self) -> dict:
        return {**super().params(), "details": 1}


def split_details(line: str) -> tuple[dict[str, str], str]:
    """A service-log line with ``details``: "com.docker.swarm.node.id=..,...task.id=.. text" -> (attrs, text)."""
    head, sep, rest = line.partition(" ")
    if sep and "com.docker.swarm" in head:
        attrs = dict(kv.split("=", 1) for kv in head.split(",") if "=" in kv)
        return attrs, rest
    return {}, line


@dataclass(frozen=True)
class ReplicaEndpoint:
    """Where one replica answers: a task's own host-mode port on its node, or the routing mesh."""

    host: str
    port: int
    slot: int = 0  # 0: the routing mesh (any replica)
    node: str = ""
    task_id: str = ""

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def label(self) -> str:
        return f"replica {self.slot} on {self.node}" if self.slot else f"routing mesh {self.host}:{self.port}"


def task_endpoints(tasks: list[TaskInfo], target_port: int) -> list[ReplicaEndpoint]:
    """Running tasks' host-mode endpoints (node address + published port), one per slot."""
    out, seen = [], set()
    for t in tasks:
        if t.state != "running" or t.desired_state != "running" or t.node_down or not t.node_address:
            continue
        for target, published in t.host_ports:
            if target == target_port and t.slot not in seen:
                seen.add(t.slot)
                out.append(ReplicaEndpoint(t.node_address, published, t.slot, t.node, t.id))
    return sorted(out, key=lambda e: e.slot)


def mesh_endpoints(service: ServiceInfo, nodes, target_port: int) -> list[ReplicaEndpoint]:
    """The routing mesh's address on each ready node, when the port is published in ingress mode."""
    ports = [p for p in service.ports if p.mode == "ingress" and p.target == target_port and p.published]
    if not ports:
        return []
    return [ReplicaEndpoint(n.address, ports[0].published, 0, n.hostname)
            for n in nodes if n.status == "ready" and n.address]


def replica_endpoints(engine: Engine, service_id: str, target_port: int) -> tuple[list[ReplicaEndpoint], list[ReplicaEndpoint]]:
    """``(mesh, tasks)``: the routing-mesh addresses and the tasks' own endpoints; the caller probes the
    mesh and falls back to the tasks (a kernel without IP_VS has no working mesh)."""
    nodes = list_nodes(engine)
    service = get_service(engine, service_id)
    return mesh_endpoints(service, nodes, target_port), task_endpoints(list_tasks(engine, service_id, nodes),
                                                                        target_port)


def service_spec_and_labels(engine: Engine, service: str) -> tuple[dict, dict]:
    """The service's spec and its image's labels (empty when the image is not on this engine), for an export."""
    raw = _call(engine, "Export", lambda api: api.inspect_service(service))
    image = bare_image(((raw["Spec"].get("TaskTemplate") or {}).get("ContainerSpec") or {}).get("Image", ""))
    try:
        labels = (engine.call(lambda api: api.inspect_image(image)).get("Config") or {}).get("Labels") or {}
    except EngineError:
        labels = {}
    return raw["Spec"], labels
