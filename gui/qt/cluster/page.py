"""The Cluster page: the engine's swarm (membership, nodes, services, the tasks of one service and its
merged log), following the engine's node and service events.

A 20.10 engine sends no task events, and the manager sees no container events of other nodes: while a
service converges (tasks starting, an update rolling) the page re-reads once a second until it is
steady again; otherwise only events (and a reconnection) cause a read.
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableView,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from gui.engine.services import (
    ServiceLogReader,
    list_services,
    list_tasks,
    remove_service,
    rollback_service,
    scale_service,
    service_spec_and_labels,
    split_details,
    update_service_image,
)
from gui.engine.swarm import (
    advertise_candidates,
    init_swarm,
    join_command,
    join_swarm,
    leave_swarm,
    list_nodes,
    remove_node,
    set_node_availability,
    swarm_state,
)
from gui.qt.cluster.deploy import DeployDialog
from gui.qt.cluster.membership import InitSwarmDialog, JoinSwarmDialog
from gui.qt.cluster.models import NodeTableModel, ServiceTableModel, TaskTableModel
from gui.qt.common.badges import StateBadgeDelegate
from gui.qt.common.feedback import confirm
from gui.qt.common.list_page import ListPage
from gui.qt.common.log_lines import LogLines
from gui.qt.common.table_models import RecordRole
from gui.qt.common.tasks import Op, Stream, Task, unless_bug

REREAD_MS = 20  # events come in bursts (a scale of 10 tasks): read once after the burst
SETTLE_MS = 1000  # while a service converges (no task events in 20.10)
STEADY = ("running", "shutdown", "complete", "failed", "rejected", "orphaned", "remove")


def _table(parent, name: str, model) -> QTableView:
    view = QTableView(parent)
    view.setObjectName(name)
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.setShowGrid(False)
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setDefaultSectionSize(24)
    view.horizontalHeader().setStretchLastSection(True)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    return view


class ClusterPage(QWidget):
    statusMessage = Signal(str)
    predictRequested = Signal(str)  # a service name
    refreshed = Signal()  # after every read applied (tests and the benchmark wait on it)

    def __init__(self, window, parent=None):
        super().__init__(parent)
        self.setObjectName("clusterPage")
        self.main_window = window
        self.state = None
        self.last_dialog = None
        self._reading = False
        self._dirty = False
        self._read_task: Task | None = None
        self._log_stream: Stream | None = None
        self._log_service = ""
        self._task_slots: dict[str, str] = {}
        self._auto_rollbacks: set[str] = set()  # services seen rolling back by themselves
        self.exported: tuple = ()  # the files of the last export

        # -- membership --------------------------------------------------------------------------
        self.status = QLabel("Reading the engine's swarm…", self)
        self.status.setObjectName("clusterStatus")
        self.status.setWordWrap(True)
        self.buttons: dict[str, QPushButton] = {}
        head = QHBoxLayout()
        head.addWidget(self.status, 1)
        for name, label, slot in (("clusterInit", "Initialize swarm…", self.init_swarm),
                                  ("clusterJoin", "Join swarm…", self.join_swarm),
                                  ("clusterJoinWorker", "Copy join command (worker)", lambda: self.copy_join("worker")),
                                  ("clusterJoinManager", "Copy join command (manager)",
                                   lambda: self.copy_join("manager")),
                                  ("clusterLeave", "Leave swarm…", self.leave_swarm)):
            b = QPushButton(label, self)
            b.setObjectName(name)
            b.clicked.connect(lambda _=False, s=slot: s())
            head.addWidget(b)
            self.buttons[name] = b

        # -- nodes ------------------------------------------------------------------------------
        self.nodes = NodeTableModel(self)
        self.nodes_view = _table(self, "clusterNodes", self.nodes)
        self.nodes_view.setItemDelegateForColumn(3, StateBadgeDelegate(self.nodes_view))
        self.node_bar = QToolBar(self)
        self.node_bar.setObjectName("clusterNodeToolbar")
        self.node_actions = self._actions(self.node_bar, (
            ("nodeDrain", "Drain", lambda: self.set_availability("drain")),
            ("nodeActivate", "Activate", lambda: self.set_availability("active")),
            ("nodeRemove", "Remove node…", self.remove_node)))

        # -- services ---------------------------------------------------------------------------
        self.services_list = ListPage(ServiceTableModel(self), "clusterView", "service", 0, self,
                                      sort_order=Qt.SortOrder.AscendingOrder)  # by name, A to Z
        self.services_list.main_window = window
        self.services = self.services_list.model
        self.view = self.services_list.view
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.service_bar = QToolBar(self)
        self.service_bar.setObjectName("clusterServiceToolbar")
        self.service_actions = self._actions(self.service_bar, (
            ("serviceDeploy", "Deploy…", lambda: self.deploy("")),
            ("serviceUpdate", "Update image…", self.update_image),
            ("serviceRollback", "Rollback", self.rollback),
            ("serviceRemove", "Remove…", self.remove_service),
            ("servicePredict", "Predict with it", self._on_predict),
            ("serviceExport", "Export…", self.export)))
        self.replicas = QSpinBox(self)
        self.replicas.setObjectName("serviceReplicas")
        self.replicas.setRange(0, 1000)
        self.replicas.setPrefix("replicas: ")
        self.replicas.setToolTip("Scale: applied at once")
        self._scale_timer = QTimer(self)
        self._scale_timer.setSingleShot(True)
        self._scale_timer.setInterval(400)  # typing 12 scales once, to 12
        self._scale_timer.timeout.connect(self._apply_scale)
        self.replicas.valueChanged.connect(lambda _v: self._scale_timer.start())
        self.service_bar.insertWidget(self.service_actions["serviceUpdate"], self.replicas)
        self.update_note = QLabel(self)
        self.update_note.setObjectName("serviceUpdateNote")
        self.update_note.setWordWrap(True)

        # -- tasks and logs ---------------------------------------------------------------------
        self.tasks = TaskTableModel(self)
        self.tasks_view = _table(self, "clusterTasks", self.tasks)
        self.tasks_view.setSortingEnabled(True)
        self.tasks_view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.tasks_view.setItemDelegateForColumn(3, StateBadgeDelegate(self.tasks_view))
        self.logs = LogLines(self)
        self.logs.setObjectName("clusterLogs")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 4)
        layout.addLayout(head)
        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(self._box("Nodes", self.node_bar, self.nodes_view))
        services_box = self._box("Services", self.service_bar, self.services_list)
        services_box.layout().addWidget(self.update_note)
        split.addWidget(services_box)
        split.addWidget(self._box("Tasks of the selected service", None, self.tasks_view))
        split.addWidget(self._box("Service log (all tasks)", None, self.logs))
        layout.addWidget(split, 1)

        self._reread = QTimer(self)
        self._reread.setSingleShot(True)
        self._reread.setInterval(REREAD_MS)
        self._reread.timeout.connect(self.refresh)
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(SETTLE_MS)
        self._settle.timeout.connect(self.refresh)
        self.view.selectionModel().selectionChanged.connect(self._on_service_selected)
        self.nodes_view.selectionModel().selectionChanged.connect(self._update_actions)
        self.last_event_at = 0.0
        self._attach(window.session)
        window.engineChanged.connect(self._attach)
        window.closing.connect(self._on_window_closing)  # the window closing ends the log stream
        self._apply_state(None)

    def _box(self, title: str, bar, body) -> QWidget:
        box = QWidget(self)
        lay = QVBoxLayout(box)
        lay.setContentsMargins(0, 4, 0, 0)
        row = QHBoxLayout()
        caption = QLabel(f"<b>{title}</b>", box)
        row.addWidget(caption)
        if bar is not None:
            row.addWidget(bar, 1)
        lay.addLayout(row)
        lay.addWidget(body, 1)
        return box

    def _actions(self, bar: QToolBar, specs) -> dict[str, QAction]:
        out = {}
        for name, label, slot in specs:
            act = QAction(label, self)
            act.setObjectName(name)
            act.triggered.connect(lambda _=False, s=slot: s())
            bar.addAction(act)
            out[name] = act
        return out

    # -- engine -----------------------------------------------------------------------------------
    @property
    def session(self):
        return self.main_window.session

    def _attach(self, session) -> None:
        self.stop_logs()
        if self._read_task is not None:  # a read of the old engine (maybe frozen): never applied here
            self._read_task.cancel()
        self._reading = self._dirty = False
        self.nodes.replace_all([])
        self.services.replace_all([])
        self.tasks.replace_all([])
        session.engineEvent.connect(self._on_event)
        session.stateChanged.connect(lambda state, _m: state == "connected" and self.refresh())
        self.refresh()

    def _on_event(self, ev) -> None:
        swarm_container = ev.type == "container" and any(k == "com.docker.swarm.service.id" for k, _v in ev.attributes)
        if ev.type in ("node", "service") or swarm_container:
            self.last_event_at = time.monotonic()
            if not self._reread.isActive():
                self._reread.start()

    def refresh(self) -> None:
        """Read the swarm, its nodes and services, and the selected service's tasks; one read at a time."""
        if self._reading:
            self._dirty = True
            return
        self._reading = True
        self._dirty = False
        engine = self.session.engine
        selected = self.selected_service()
        selected_id = selected.id if selected else ""

        def read():
            state = swarm_state(engine)
            if not state.is_manager:
                return state, [], [], []
            nodes = list_nodes(engine)
            services = list_services(engine)
            tasks = list_tasks(engine, selected_id, nodes) if selected_id in {s.id for s in services} else []
            return state, nodes, services, tasks

        task = self._read_task = Task(self, read, self.session.reads)
        task.done.connect(self._on_read)
        task.failed.connect(unless_bug(self._on_read_failed, self._on_read_stopped))
        task.start()

    def _on_read(self, result) -> None:
        self._reading = False
        state, nodes, services, tasks = result
        for s in services:
            if s.automatic_rollback:
                self._auto_rollbacks.add(s.id)
            elif not s.update_state.startswith("rollback"):
                self._auto_rollbacks.discard(s.id)
        self._apply_state(state)
        self.nodes.replace_all(nodes)
        self.services.replace_all(services)
        self.tasks.replace_all(tasks)
        self._task_slots = {t.id: f"{t.slot}@{t.node}" for t in tasks}
        self._update_actions()
        self.refreshed.emit()
        converging = any(s.running != s.desired or s.update_state in ("updating", "rollback_started")
                         for s in services) or any(t.desired_state == "running" and t.state not in STEADY
                                                   for t in tasks)
        if self._dirty:
            self.refresh()
        elif converging and not self._settle.isActive():
            self._settle.start()

    def _on_read_stopped(self) -> None:
        self._reading = False

    def _on_read_failed(self, exc) -> None:
        self._reading = False
        self.statusMessage.emit(f"Could not read the swarm: {exc}")
        if self._dirty:
            self.refresh()

    def _apply_state(self, state) -> None:
        self.state = state
        b = self.buttons
        if state is None:
            text = "Reading the engine's swarm…"
        elif state.state == "inactive":
            text = ("This engine is not in a swarm. Initialize one (this engine becomes its manager) or "
                    "join one with a manager's join command.")
        elif state.state == "active" and state.is_manager:
            text = (f"This engine is a swarm <b>manager</b> at {state.node_address} "
                    f"({state.nodes} node(s), {state.managers} manager(s)).")
        elif state.state == "active":
            text = (f"This engine is a swarm <b>worker</b> at {state.node_address}: nodes and services are "
                    f"shown on a manager ({', '.join(state.manager_addresses) or 'unknown'}).")
        else:
            text = f"Swarm state: {state.state}. {state.error}"
        self.status.setText(text)
        inactive = state is not None and state.state == "inactive"
        manager = state is not None and state.active and state.is_manager
        b["clusterInit"].setVisible(inactive)
        b["clusterJoin"].setVisible(inactive)
        b["clusterJoinWorker"].setVisible(manager)
        b["clusterJoinManager"].setVisible(manager)
        b["clusterLeave"].setVisible(state is not None and state.state not in ("inactive",))
        for w in (self.nodes_view, self.view, self.tasks_view, self.node_bar, self.service_bar):
            w.setEnabled(manager)

    # -- selection --------------------------------------------------------------------------------
    def selected_service(self):
        rows = self.view.selectionModel().selectedRows()
        return self.services_list.proxy.data(rows[0], RecordRole) if rows else None

    def selected_node(self):
        rows = self.nodes_view.selectionModel().selectedRows()
        return self.nodes.data(rows[0], RecordRole) if rows else None

    def select_service(self, name: str) -> bool:
        for row in range(self.services_list.proxy.rowCount()):
            index = self.services_list.proxy.index(row, 0)
            if self.services_list.proxy.data(index, RecordRole).name == name:
                self.view.selectRow(row)
                return True
        return False

    def _on_service_selected(self, *args) -> None:
        svc = self.selected_service()
        self.tasks.replace_all([])
        self._update_actions()
        self.follow_logs(svc.id if svc else "")
        self.refresh()

    def _update_actions(self, *args) -> None:
        svc = self.selected_service()
        node = self.selected_node()
        for name, act in self.service_actions.items():
            act.setEnabled(name == "serviceDeploy" or svc is not None)
        self.service_actions["servicePredict"].setEnabled(
            svc is not None and ("ai-container-studio.service", "1") in svc.labels)
        for act in self.node_actions.values():
            act.setEnabled(node is not None)
        self.replicas.setEnabled(svc is not None and svc.mode == "replicated")
        if svc is not None and not self._scale_timer.isActive() and not self.replicas.hasFocus():
            self.replicas.blockSignals(True)
            self.replicas.setValue(svc.desired)
            self.replicas.blockSignals(False)
        self.update_note.setText(svc.update_words(svc.id in self._auto_rollbacks) if svc is not None else "")

    # -- membership --------------------------------------------------------------------------------
    def _change(self, fn, title: str, done_text: str, after=None) -> None:
        def ok(result) -> None:
            self.statusMessage.emit(done_text)
            if after is not None:
                after(result)
            self.refresh()

        Op(self, fn, title).success(ok).run(self.session.changes)

    def init_swarm(self) -> None:
        dialog = InitSwarmDialog(self)
        self.last_dialog = dialog
        engine = self.session.engine
        Task(self, lambda: advertise_candidates(engine), self.session.reads).start().done.connect(
            dialog.set_candidates)
        dialog.accepted.connect(lambda: self._change(lambda: init_swarm(engine, dialog.value()),
                                                     "Initialize swarm failed", "Swarm initialized"))
        dialog.open()

    def join_swarm(self) -> None:
        dialog = JoinSwarmDialog(self)
        self.last_dialog = dialog
        engine = self.session.engine
        dialog.accepted.connect(lambda: self._change(lambda: join_swarm(engine, *dialog.values()),
                                                     "Join swarm failed", "Joined the swarm"))
        dialog.open()

    def copy_join(self, role: str) -> None:
        engine = self.session.engine

        def copied(cmd) -> None:
            QGuiApplication.clipboard().setText(cmd)
            self.statusMessage.emit(f"Join command for a {role} copied: run it on the other machine")

        Op(self, lambda: join_command(engine, role), "Copy join command failed").success(copied).run(
            self.session.reads)

    def leave_swarm(self) -> None:
        engine = self.session.engine
        manager = self.state is not None and self.state.is_manager
        text = "Leave the swarm?"
        info = ("This engine stops running the swarm's tasks." if not manager else
                "This engine is a manager: if it is the last one, the swarm and its services are lost.")
        self.last_dialog = confirm(self, "Leave swarm", text, "Leave", lambda _c: self._change(
            lambda: leave_swarm(engine, force=manager), "Leave swarm failed", "Left the swarm"), informative=info)

    # -- nodes -----------------------------------------------------------------------------------------
    def set_availability(self, availability: str) -> None:
        node = self.selected_node()
        if node is None:
            return
        engine = self.session.engine
        self._change(lambda: set_node_availability(engine, node.id, availability), f"{availability} failed",
                     f"Node {node.hostname}: {availability}")

    def remove_node(self) -> None:
        node = self.selected_node()
        if node is None:
            return
        engine = self.session.engine
        self.last_dialog = confirm(
            self, "Remove node", f"Remove node {node.hostname} from the swarm?", "Remove",
            lambda force: self._change(lambda: remove_node(engine, node.id, force), "Remove node failed",
                                       f"Node {node.hostname} removed"),
            informative="A node that is still up should leave the swarm itself first.",
            checkbox="Remove it even if it is up (force)")

    # -- services ---------------------------------------------------------------------------------------
    def deploy(self, image: str = "") -> DeployDialog:
        """Open *Deploy as service…* for ``image`` (the Images page and the Build page ask for it)."""
        dialog = DeployDialog(self.session, image, self.nodes.records(), self)
        self.last_dialog = dialog
        dialog.deployed.connect(self._on_deployed)
        dialog.open()
        return dialog

    def _on_deployed(self, service_id: str, spec) -> None:
        self.statusMessage.emit(f"Service {spec.name} deployed: swarm is starting {spec.replicas} task(s)")
        self._pending_select = spec.name
        self.refreshed.connect(self._select_pending)
        self.refresh()

    def _select_pending(self) -> None:
        name = getattr(self, "_pending_select", "")
        if name and self.select_service(name):
            self._pending_select = ""
            self.refreshed.disconnect(self._select_pending)

    def _apply_scale(self) -> None:
        svc = self.selected_service()
        n = self.replicas.value()
        if svc is None or n == svc.desired:
            return
        engine = self.session.engine
        self._change(lambda: scale_service(engine, svc.id, n), f"Scale {svc.name} failed",
                     f"{svc.name}: scaling to {n}")

    def update_image(self, image: str | None = None) -> None:
        svc = self.selected_service()
        if svc is None:
            return
        if image is not None:
            return self._update_to(svc, image)
        dialog = QDialog(self)
        dialog.setObjectName("updateImageDialog")
        dialog.setWindowTitle(f"Update {svc.name}")
        combo = QComboBox(dialog)
        combo.setObjectName("updateImage")
        combo.setEditable(True)
        repo = svc.image.rsplit(":", 1)[0]
        refs = sorted({i.reference for i in self.main_window.images_model.records()
                       if i.reference.rsplit(":", 1)[0] == repo and i.reference != svc.image})
        combo.addItems(refs)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, dialog)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Update")
        buttons.accepted.connect(dialog.accept)
        buttons.rejected.connect(dialog.reject)
        lay = QVBoxLayout(dialog)
        lay.addWidget(QLabel(f"A rolling update of {svc.name} from {svc.image} to:", dialog))
        lay.addWidget(combo)
        lay.addWidget(buttons)
        dialog.accepted.connect(lambda: self._update_to(svc, combo.currentText().strip()))
        self.last_dialog = dialog
        dialog.open()

    def _update_to(self, svc, image: str) -> None:
        engine = self.session.engine
        self._change(lambda: update_service_image(engine, svc.id, image), f"Update {svc.name} failed",
                     f"{svc.name}: rolling update to {image}")

    def rollback(self) -> None:
        svc = self.selected_service()
        if svc is not None:
            engine = self.session.engine
            self._change(lambda: rollback_service(engine, svc.id), f"Rollback {svc.name} failed",
                         f"{svc.name}: rolling back")

    def remove_service(self) -> None:
        svc = self.selected_service()
        if svc is None:
            return
        engine = self.session.engine
        self.last_dialog = confirm(
            self, "Remove service", f"Remove service {svc.name}?", "Remove",
            lambda _c: self._change(lambda: remove_service(engine, svc.id), f"Remove {svc.name} failed",
                                    f"Service {svc.name} removed"),
            informative=f"Its {svc.running} task(s) stop on every node.")

    def _on_predict(self) -> None:
        svc = self.selected_service()
        if svc is not None:
            self.predictRequested.emit(svc.name)

    def export(self) -> None:
        """*Export for Kubernetes / stack*: both files into a folder the user picks."""
        if self.selected_service() is None:
            return
        folder = QFileDialog.getExistingDirectory(self, "Export for Kubernetes and docker stack: choose a folder")
        if folder:
            self.export_to(folder)

    def export_to(self, folder: str) -> None:
        from gui.builder.export_k8s import workload_from_service, write_exports

        svc = self.selected_service()
        if svc is None:
            return
        engine = self.session.engine

        def export():
            spec, labels = service_spec_and_labels(engine, svc.id)
            return write_exports(workload_from_service(spec, labels), folder)

        def done(paths) -> None:
            self.exported = paths
            self.statusMessage.emit(f"Exported {paths[0].name} (Kubernetes) and {paths[1].name} (docker stack deploy) "
                                    f"to {folder}")

        Op(self, export, f"Export {svc.name} failed").success(done).run(self.session.reads)

    def export_container(self, container_id: str, folder: str = "") -> None:
        """*Export for Kubernetes* of a running container (the Containers page asks): one replica, its limits,
        env and port, into a folder the user picks."""
        from gui.builder.export_k8s import workload_from_container, write_exports

        folder = folder or QFileDialog.getExistingDirectory(self, "Export for Kubernetes: choose a folder")
        if not folder:
            return
        engine = self.session.engine

        def export():
            inspect = engine.call(lambda api: api.inspect_container(container_id))
            image = engine.call(lambda api: api.inspect_image(inspect["Image"]))
            config = image.get("Config") or {}
            return write_exports(workload_from_container(inspect, config.get("Labels") or {}, config.get("Env")),
                                 folder)

        def done(paths) -> None:
            self.exported = paths
            self.statusMessage.emit(f"Exported {paths[0].name} (Kubernetes) and {paths[1].name} (docker stack "
                                    f"deploy) to {folder}")

        Op(self, export, "Export failed").success(done).run(self.session.reads)

    # -- logs --------------------------------------------------------------------------------------------
    def follow_logs(self, service_id: str) -> None:
        if service_id == self._log_service:
            return
        self.stop_logs()
        self._log_service = service_id
        self.logs.texts.clear()
        self.logs.stamps.clear()
        self.logs.errs.clear()
        self.logs.viewport().update()
        if not service_id:
            return
        self._log_stream = Stream(self, ServiceLogReader(self.session.engine, service_id), "service-logs",
                                  batched=True)
        self._log_stream.batch.connect(self._on_log_batches)
        self._log_stream.failed.connect(unless_bug(lambda exc: self.statusMessage.emit(f"Service log: {exc}")))
        self._log_stream.start()

    def _on_log_batches(self, batches: list) -> None:
        texts, stamps = [], []
        for b in batches:
            for text, stamp in zip(b.texts, b.stamps, strict=False):
                attrs, line = split_details(text)
                who = self._task_slots.get(attrs.get("com.docker.swarm.task.id", ""), "")
                texts.append(f"[{who}] {line}" if who else line)
                stamps.append(stamp)
        self.logs.append(texts, stamps)

    def stop_logs(self) -> None:
        if self._log_stream is not None:
            self._log_stream.stop()
            self._log_stream = None
        self._log_service = ""

    def _on_window_closing(self) -> None:
        self._settle.stop()
        self.stop_logs()
