"""What *Deploy as service…* asks, checked, as the engine's ServiceSpec and as the equivalent
``docker service create`` line (shown with Copy, so the user can do it again without the studio).

Run-time values (env) go into the service spec, never into an image layer.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from gui.engine.errors import EngineError, ErrorKind

MANAGED_LABEL = "ai-container-studio.service"
_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$")
_CONSTRAINT = re.compile(r"^\s*[A-Za-z0-9_.\-]+(\.[A-Za-z0-9_.\-]+)*\s*(==|!=)\s*[^=!\s]\S*\s*$")
_MEMORY = re.compile(r"^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$", re.I)
RESTART_CONDITIONS = ("any", "on-failure", "none")
PUBLISH_MODES = ("host", "ingress")


def parse_memory(text: str) -> int:
    """"512m", "1g", "1.5GiB" -> bytes (0 for empty). Raises ValueError."""
    text = (text or "").strip()
    if not text:
        return 0
    m = _MEMORY.match(text)
    if not m:
        raise ValueError(f"{text!r} is not a size (e.g. 512m, 2g)")
    return int(float(m.group(1)) * 1024 ** " kmgt".index((m.group(2) or " ").lower()))


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    image: str
    replicas: int = 1
    target_port: int = 8080  # the container port (the image's ai-container-studio.port)
    published_port: int = 0  # 0: the engine picks one (host mode: one per node)
    publish_mode: str = "host"  # "ingress": the routing mesh; "host": each task on its node's port
    cpu_limit: float = 0.0
    memory_limit: str = ""
    cpu_reservation: float = 0.0
    memory_reservation: str = ""
    constraints: tuple[str, ...] = ()
    restart_condition: str = "any"
    restart_max_attempts: int = 0  # 0: no limit
    update_parallelism: int = 1
    update_delay_s: float = 0.0
    update_order: str = "start-first"
    rollback_on_failure: bool = True
    env: tuple[tuple[str, str], ...] = ()
    labels: tuple[tuple[str, str], ...] = field(default=())

    def problems(self) -> list[str]:
        """Everything wrong with the values, in words (empty: it can be deployed)."""
        out = []
        if not _NAME.match(self.name or ""):
            out.append("a service name is letters, digits, '_', '.' or '-' (up to 63), starting with a letter or digit")
        if not self.image.strip():
            out.append("choose an image")
        if not 0 <= self.replicas <= 1000:
            out.append("replicas: 0 to 1000")
        if not 1 <= self.target_port <= 65535:
            out.append("the container port is 1-65535")
        if self.published_port and not 1 <= self.published_port <= 65535:
            out.append("the published port is 1-65535, or 0 for one the engine picks")
        if self.publish_mode not in PUBLISH_MODES:
            out.append("publish mode is host or ingress")
        for label, text in (("memory limit", self.memory_limit), ("memory reservation", self.memory_reservation)):
            try:
                parse_memory(text)
            except ValueError as exc:
                out.append(f"{label}: {exc}")
        if self.cpu_limit < 0 or self.cpu_reservation < 0:
            out.append("CPUs cannot be negative")
        if self.cpu_limit and self.cpu_reservation > self.cpu_limit:
            out.append("the CPU reservation is more than the limit")
        try:
            if self.memory_limit and parse_memory(self.memory_reservation) > parse_memory(self.memory_limit):
                out.append("the memory reservation is more than the limit")
        except ValueError:
            pass
        for c in self.constraints:
            if not _CONSTRAINT.match(c):
                out.append(f"constraint {c!r} is not 'key==value' or 'key!=value' (e.g. node.role==worker)")
        if self.restart_condition not in RESTART_CONDITIONS:
            out.append("restart condition is any, on-failure or none")
        if self.update_parallelism < 0:
            out.append("update parallelism is 0 (all at once) or more")
        if self.update_order not in ("start-first", "stop-first"):
            out.append("update order is start-first or stop-first")
        for k, _v in self.env:
            if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", k):
                out.append(f"environment name {k!r} is not a variable name")
        return out

    def check(self) -> None:
        problems = self.problems()
        if problems:
            raise EngineError("Cannot deploy: " + "; ".join(problems) + ".", ErrorKind.BAD_REQUEST, 400)

    # -- the engine's form -------------------------------------------------------------------------
    def to_api(self) -> dict:
        """The body of ``POST /services/create`` (Docker Engine API 1.41)."""
        self.check()
        resources: dict = {}
        limits = {k: v for k, v in (("NanoCPUs", int(self.cpu_limit * 1e9)),
                                    ("MemoryBytes", parse_memory(self.memory_limit))) if v}
        reserve = {k: v for k, v in (("NanoCPUs", int(self.cpu_reservation * 1e9)),
                                     ("MemoryBytes", parse_memory(self.memory_reservation))) if v}
        if limits:
            resources["Limits"] = limits
        if reserve:
            resources["Reservations"] = reserve
        restart = {"Condition": self.restart_condition, "Delay": int(2e9)}
        if self.restart_max_attempts:
            restart["MaxAttempts"] = self.restart_max_attempts
        container: dict = {"Image": self.image, "Labels": {MANAGED_LABEL: self.name}}
        if self.env:
            container["Env"] = [f"{k}={v}" for k, v in self.env]
        task: dict = {"ContainerSpec": container, "RestartPolicy": restart, "Resources": resources}
        if self.constraints:
            task["Placement"] = {"Constraints": [c.strip() for c in self.constraints]}
        port = {"Protocol": "tcp", "TargetPort": self.target_port, "PublishMode": self.publish_mode}
        if self.published_port:
            port["PublishedPort"] = self.published_port
        update = {"Parallelism": self.update_parallelism, "Delay": int(self.update_delay_s * 1e9),
                  "Order": self.update_order, "Monitor": int(5e9),
                  "FailureAction": "rollback" if self.rollback_on_failure else "pause"}
        return {
            "Name": self.name,
            "Labels": {MANAGED_LABEL: "1", **dict(self.labels)},
            "TaskTemplate": task,
            "Mode": {"Replicated": {"Replicas": self.replicas}},
            "UpdateConfig": update,
            "RollbackConfig": {"Parallelism": self.update_parallelism, "Order": self.update_order,
                               "Monitor": int(5e9), "FailureAction": "pause"},
            "EndpointSpec": {"Mode": "vip", "Ports": [port]},
        }

    def cli(self, secret_names: tuple[str, ...] = ()) -> str:
        """The equivalent ``docker service create`` line (values of ``secret_names`` masked)."""
        args = ["docker", "service", "create", "--name", self.name, "--replicas", str(self.replicas)]
        publish = f"mode={self.publish_mode},target={self.target_port}"
        if self.published_port:
            publish += f",published={self.published_port}"
        args += ["--publish", publish]
        if self.cpu_limit:
            args += ["--limit-cpu", f"{self.cpu_limit:g}"]
        if self.memory_limit:
            args += ["--limit-memory", self.memory_limit.strip()]
        if self.cpu_reservation:
            args += ["--reserve-cpu", f"{self.cpu_reservation:g}"]
        if self.memory_reservation:
            args += ["--reserve-memory", self.memory_reservation.strip()]
        for c in self.constraints:
            args += ["--constraint", c.strip()]
        args += ["--restart-condition", self.restart_condition, "--restart-delay", "2s"]
        if self.restart_max_attempts:
            args += ["--restart-max-attempts", str(self.restart_max_attempts)]
        args += ["--update-parallelism", str(self.update_parallelism), "--update-delay", f"{self.update_delay_s:g}s",
                 "--update-order", self.update_order, "--update-monitor", "5s",
                 "--update-failure-action", "rollback" if self.rollback_on_failure else "pause",
                 "--rollback-parallelism", str(self.update_parallelism), "--rollback-order", self.update_order]
        for k, v in self.env:
            args += ["--env", f"{k}=******" if k in secret_names else f"{k}={v}"]
        args += ["--label", f"{MANAGED_LABEL}=1"]
        for k, v in self.labels:
            args += ["--label", f"{k}={v}"]
        args.append(self.image)
        return " ".join(shlex.quote(a) for a in args)
