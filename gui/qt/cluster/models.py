"""Table models of the Cluster page: nodes, services and the tasks of one service, updated in place."""

from __future__ import annotations

from PySide6.QtCore import Qt

from gui.engine.services import ServiceInfo, TaskInfo
from gui.engine.swarm import NodeInfo
from gui.qt.common.table_models import BadgeRole, Column, RecordTableModel, exact_time, human_age, human_size

NODE_BADGES = {"ready": "running", "down": "exited", "disconnected": "exited", "unknown": "created"}
TASK_BADGES = {"running": "running", "failed": "exited", "rejected": "exited", "shutdown": "created",
               "complete": "created", "orphaned": "exited", "starting": "restarting", "preparing": "restarting",
               "pending": "paused", "assigned": "restarting", "accepted": "restarting", "ready": "restarting"}


class NodeTableModel(RecordTableModel):
    COLUMNS = (
        Column("Hostname", lambda n: n.hostname, tooltip=lambda n: n.id),
        Column("Role", lambda n: n.role_text),
        Column("Availability", lambda n: n.availability),
        Column("Status", lambda n: n.status),
        Column("Address", lambda n: n.address),
        Column("Engine", lambda n: n.engine_version),
        Column("CPUs", lambda n: f"{n.cpus:g}", lambda n: n.cpus),
        Column("Memory", lambda n: human_size(n.memory), lambda n: n.memory),
    )

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if role == BadgeRole and index.isValid() and index.column() == 3:
            return NODE_BADGES.get(self._rows[index.row()].status, "created")
        return super().data(index, role)

    def by_hostname(self, hostname: str) -> NodeInfo | None:
        return next((n for n in self.records() if n.hostname == hostname), None)


class ServiceTableModel(RecordTableModel):
    COLUMNS = (
        Column("Name", lambda s: s.name, tooltip=lambda s: s.id),
        Column("Image", lambda s: s.image, tooltip=lambda s: s.image),
        Column("Mode", lambda s: s.mode),
        Column("Replicas", lambda s: s.replicas_text, lambda s: (s.running, s.desired)),
        Column("Ports", lambda s: s.ports_text),
        Column("Update", lambda s: s.update_text, tooltip=lambda s: s.update_message),
    )

    def by_name(self, name: str) -> ServiceInfo | None:
        return next((s for s in self.records() if s.name == name), None)


class TaskTableModel(RecordTableModel):
    COLUMNS = (
        Column("Slot", lambda t: str(t.slot or ""), lambda t: (t.slot, -t.updated)),
        Column("Node", lambda t: t.node or "—"),
        Column("Desired", lambda t: t.desired_state),
        Column("Current", lambda t: t.state_text, tooltip=lambda t: t.message),
        Column("Image", lambda t: t.image),
        Column("Error", lambda t: t.error_text, tooltip=lambda t: t.error),
        Column("Age", lambda t: human_age(t.updated), lambda t: t.updated, tooltip=lambda t: exact_time(t.updated)),
    )

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if role == BadgeRole and index.isValid() and index.column() == 3:
            return TASK_BADGES.get(self._rows[index.row()].state, "created")
        return super().data(index, role)

    def running(self) -> list[TaskInfo]:
        return [t for t in self.records() if t.state == "running" and t.desired_state == "running"]
