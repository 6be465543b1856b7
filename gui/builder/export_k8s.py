"""Export a model deployment for production elsewhere: Kubernetes (Deployment + Service, and a KServe
InferenceService for images that speak Open Inference v2) and a compose file ``docker stack deploy``
accepts.

The input is a ``Workload``, read from a swarm service's spec or a running container's inspect data, so
both exports say the same thing as what runs here. Probes use the studio protocol's health endpoint
(docs: PROTOCOL.md): ``/health`` answers 200 once the model is loaded. Plain data in, plain text out;
the small YAML writer here keeps the app free of a YAML dependency (tests read the output with PyYAML
and check it against the Kubernetes API models).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

PROTOCOL = "ai-container-studio.protocol"
PORT = "ai-container-studio.port"
STUDIO_LABEL = "ai-container-studio.exported-from"


@dataclass(frozen=True)
class Workload:
    name: str
    image: str
    replicas: int = 1
    port: int = 8080
    published_port: int = 0
    publish_mode: str = "ingress"
    env: tuple[tuple[str, str], ...] = ()
    cpu_limit: float = 0.0
    memory_limit: int = 0  # bytes
    cpu_request: float = 0.0
    memory_request: int = 0
    constraints: tuple[str, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()  # the image's labels (protocol, task ...)
    source: str = "service"  # "service" | "container"
    update_parallelism: int = 1
    update_order: str = "start-first"
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def speaks_v2(self) -> bool:
        """studio-v1 servers also answer Open Inference Protocol v2 (PROTOCOL.md)."""
        return dict(self.labels).get(PROTOCOL, "") in ("studio-v1",) or "v2" in dict(self.labels).get(
            "ai-container-studio.protocols", "")

    @property
    def k8s_name(self) -> str:
        """A DNS-1123 label: lower case letters, digits and '-', at most 63."""
        name = re.sub(r"[^a-z0-9-]+", "-", self.name.lower()).strip("-")[:63].strip("-")
        return name or "model"


def _env(raw: list[str] | None) -> tuple[tuple[str, str], ...]:
    out = []
    for item in raw or []:
        k, _eq, v = item.partition("=")
        out.append((k, v))
    return tuple(out)


def workload_from_service(spec: dict, image_labels: dict | None = None) -> Workload:
    """From a swarm service's ``Spec`` (``docker service inspect``)."""
    task = spec.get("TaskTemplate") or {}
    container = task.get("ContainerSpec") or {}
    res = task.get("Resources") or {}
    limits, reserve = res.get("Limits") or {}, res.get("Reservations") or {}
    ports = (spec.get("EndpointSpec") or {}).get("Ports") or []
    labels = image_labels or {}
    port = int(labels.get(PORT) or (ports[0].get("TargetPort") if ports else 8080) or 8080)
    first = next((p for p in ports if int(p.get("TargetPort") or 0) == port), {})
    update = spec.get("UpdateConfig") or {}
    return Workload(
        name=spec.get("Name", "model"),
        image=(container.get("Image") or "").split("@", 1)[0],
        replicas=int(((spec.get("Mode") or {}).get("Replicated") or {}).get("Replicas") or 1),
        port=port,
        published_port=int(first.get("PublishedPort") or 0),
        publish_mode=first.get("PublishMode") or "ingress",
        env=_env(container.get("Env")),
        cpu_limit=(limits.get("NanoCPUs") or 0) / 1e9,
        memory_limit=int(limits.get("MemoryBytes") or 0),
        cpu_request=(reserve.get("NanoCPUs") or 0) / 1e9,
        memory_request=int(reserve.get("MemoryBytes") or 0),
        constraints=tuple((task.get("Placement") or {}).get("Constraints") or ()),
        labels=tuple(sorted(labels.items())),
        update_parallelism=int(update.get("Parallelism") or 1),
        update_order=update.get("Order") or "start-first",
    )


def workload_from_container(inspect: dict, image_labels: dict | None = None, image_env: list[str] | None = None
                            ) -> Workload:
    """From a running container's inspect data (one replica); ``image_env``: the image's own ``Env``,
    left out (the image brings it)."""
    config = inspect.get("Config") or {}
    host = inspect.get("HostConfig") or {}
    labels = image_labels if image_labels is not None else (config.get("Labels") or {})
    port = int(labels.get(PORT) or 8080)
    bindings = ((host.get("PortBindings") or {}).get(f"{port}/tcp")) or []
    published = int(bindings[0].get("HostPort") or 0) if bindings else 0
    return Workload(
        name=(inspect.get("Name") or "model").lstrip("/"),
        image=config.get("Image", ""),
        port=port,
        published_port=published,
        env=tuple((k, v) for k, v in _env(config.get("Env"))
                  if f"{k}={v}" not in (image_env or ()) and k not in ("PATH", "LANG", "GPG_KEY", "PYTHON_VERSION",
                                                                        "PYTHON_SHA256")),
        cpu_limit=(host.get("NanoCpus") or 0) / 1e9,
        memory_limit=int(host.get("Memory") or 0),
        memory_request=int(host.get("MemoryReservation") or 0),
        labels=tuple(sorted(labels.items())),
        source="container",
    )


# -- Kubernetes -------------------------------------------------------------------------------------


def _quantity_memory(n: int) -> str:
    for unit, size in (("Gi", 1 << 30), ("Mi", 1 << 20), ("Ki", 1 << 10)):
        if n and n % size == 0:
            return f"{n // size}{unit}"
    return str(n)


def _quantity_cpu(c: float) -> str:
    return f"{round(c * 1000)}m"


def _resources(w: Workload) -> dict:
    limits, requests = {}, {}
    if w.cpu_limit:
        limits["cpu"] = _quantity_cpu(w.cpu_limit)
    if w.memory_limit:
        limits["memory"] = _quantity_memory(w.memory_limit)
    if w.cpu_request:
        requests["cpu"] = _quantity_cpu(w.cpu_request)
    if w.memory_request:
        requests["memory"] = _quantity_memory(w.memory_request)
    out = {}
    if limits:
        out["limits"] = limits
    if requests:
        out["requests"] = requests
    return out


def _probe(path: str, port: int, period: int, failures: int, initial: int = 0) -> dict:
    probe = {"httpGet": {"path": path, "port": port}, "periodSeconds": period, "timeoutSeconds": 3,
             "failureThreshold": failures}
    if initial:
        probe["initialDelaySeconds"] = initial
    return probe


def _container(w: Workload, name: str) -> dict:
    c: dict = {
        "name": name,
        "image": w.image,
        "ports": [{"name": "http", "containerPort": w.port, "protocol": "TCP"}],
        "readinessProbe": _probe("/health", w.port, 5, 3),
        "livenessProbe": _probe("/health", w.port, 10, 3, initial=30),
    }
    if w.env:
        c["env"] = [{"name": k, "value": v} for k, v in w.env]
    resources = _resources(w)
    if resources:
        c["resources"] = resources
    return c


def kubernetes_manifests(w: Workload) -> list[dict]:
    """Deployment + Service (+ a KServe InferenceService when the image speaks Open Inference v2)."""
    name = w.k8s_name
    labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/managed-by": "ai-container-studio"}
    selector = {"app.kubernetes.io/name": name}
    for key in ("ai-container-studio.task", "ai-container-studio.protocol"):
        if dict(w.labels).get(key):
            labels[key] = re.sub(r"[^A-Za-z0-9_.-]", "-", dict(w.labels)[key])[:63]
    strategy = {"type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": w.update_parallelism if w.update_order == "start-first" else 0,
                                  "maxUnavailable": 0 if w.update_order == "start-first" else w.update_parallelism}}
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": w.replicas,
            "selector": {"matchLabels": selector},
            "strategy": strategy,
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [_container(w, "model")]}},
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "labels": labels},
        "spec": {"selector": selector, "ports": [{"name": "http", "port": w.port, "targetPort": "http",
                                                  "protocol": "TCP"}]},
    }
    docs = [deployment, service]
    if w.speaks_v2:
        predictor = _container(w, "kserve-container")
        predictor["readinessProbe"] = _probe("/v2/health/ready", w.port, 5, 3)
        predictor["livenessProbe"] = _probe("/v2/health/live", w.port, 10, 3, initial=30)
        docs.append({
            "apiVersion": "serving.kserve.io/v1beta1",
            "kind": "InferenceService",
            "metadata": {"name": name, "labels": labels},
            "spec": {"predictor": {"minReplicas": w.replicas, "containers": [predictor]}},
        })
    return docs


# -- compose stack -----------------------------------------------------------------------------------


def compose_stack(w: Workload) -> dict:
    """A compose file (format 3.8) for ``docker stack deploy``."""
    deploy: dict = {
        "mode": "replicated",
        "replicas": w.replicas,
        "restart_policy": {"condition": "any", "delay": "2s"},
        "update_config": {"parallelism": w.update_parallelism, "order": w.update_order,
                          "failure_action": "rollback", "monitor": "5s"},
        "labels": {STUDIO_LABEL: w.source},
    }
    resources: dict = {}
    if w.cpu_limit or w.memory_limit:
        resources["limits"] = {k: v for k, v in (("cpus", f"{w.cpu_limit:g}" if w.cpu_limit else ""),
                                                 ("memory", f"{w.memory_limit}b" if w.memory_limit else "")) if v}
    if w.cpu_request or w.memory_request:
        resources["reservations"] = {k: v for k, v in (("cpus", f"{w.cpu_request:g}" if w.cpu_request else ""),
                                                       ("memory", f"{w.memory_request}b" if w.memory_request else ""))
                                     if v}
    if resources:
        deploy["resources"] = resources
    if w.constraints:
        deploy["placement"] = {"constraints": list(w.constraints)}
    port: dict = {"target": w.port, "protocol": "tcp", "mode": w.publish_mode if w.source == "service" else "ingress"}
    if w.published_port:
        port["published"] = w.published_port
    service: dict = {"image": w.image, "ports": [port], "deploy": deploy}
    if w.env:
        service["environment"] = {k: v for k, v in w.env}
    return {"version": "3.8", "services": {w.k8s_name: service}}


# -- YAML ------------------------------------------------------------------------------------------------

_PLAIN = re.compile(r"^[A-Za-z_/][A-Za-z0-9_./-]*$")
_RESERVED = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}


def _scalar(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return json.dumps(v)
    if v is None:
        return "null"
    s = str(v)
    if _PLAIN.match(s) and s.lower() not in _RESERVED:
        return s
    return json.dumps(s)  # a JSON string is a YAML double-quoted scalar


def _emit(v, indent: int, out: list[str]) -> None:
    pad = "  " * indent
    if isinstance(v, dict):
        for k, item in v.items():
            if isinstance(item, dict | list) and item:
                out.append(f"{pad}{_scalar(k)}:")
                _emit(item, indent + (1 if isinstance(item, dict) else 0), out)
            else:
                out.append(f"{pad}{_scalar(k)}: {_scalar(item) if not isinstance(item, dict | list) else '{}' if isinstance(item, dict) else '[]'}")
    elif isinstance(v, list):
        for item in v:
            if isinstance(item, dict) and item:
                sub: list[str] = []
                _emit(item, indent + 1, sub)
                first = sub[0].lstrip()
                out.append(f"{pad}- {first}")
                out.extend(sub[1:])
            else:
                out.append(f"{pad}- {_scalar(item)}")


def to_yaml(*docs: dict) -> str:
    """Block-style YAML of plain dicts, lists and scalars; several documents separated by ``---``."""
    parts = []
    for doc in docs:
        lines: list[str] = []
        _emit(doc, 0, lines)
        parts.append("\n".join(lines) + "\n")
    return "---\n".join(parts)


def write_exports(w: Workload, folder: str | Path) -> tuple[Path, Path]:
    """Write ``<name>-kubernetes.yaml`` and ``<name>-stack.yml`` into ``folder``; returns both paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    k8s = folder / f"{w.k8s_name}-kubernetes.yaml"
    stack = folder / f"{w.k8s_name}-stack.yml"
    header = f"# Exported by AI Container Studio from the {w.source} {w.name} ({w.image}).\n"
    k8s.write_text(header + to_yaml(*kubernetes_manifests(w)), encoding="utf-8")
    stack.write_text(header + to_yaml(compose_stack(w)), encoding="utf-8")
    return k8s, stack
