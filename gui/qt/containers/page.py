"""The Containers page: the live list plus start/stop/.../remove, filters and the detail tools."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QModelIndex, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QComboBox, QLineEdit, QMenu, QToolBar

from gui.engine import ContainerInfo, EngineError
from gui.engine.ports import published_urls
from gui.predict.targets import PROTOCOL_LABEL
from gui.qt.common import links
from gui.qt.common.badges import StateBadgeDelegate
from gui.qt.common.feedback import confirm, show_error
from gui.qt.common.list_page import ListPage
from gui.qt.common.table_models import ContainerTableModel, RecordRole
from gui.qt.common.tasks import Op
from gui.qt.containers.projects import ARROW, ProjectNameDelegate, ProjectProxy
from gui.qt.containers.tools import add_container_tools

PORTS_COLUMN = 3
STATES = ("", "running", "exited", "created", "paused", "restarting", "dead")

# action -> (label, shortcut, states it applies to, past tense)
ACTIONS = {
    "start": ("Start", "Ctrl+Shift+S", ("created", "exited", "dead"), "started"),
    "stop": ("Stop", "Ctrl+Shift+X", ("running", "restarting", "paused"), "stopped"),
    "restart": ("Restart", "Ctrl+Shift+R", ("running", "exited", "created", "paused", "dead"), "restarted"),
    "pause": ("Pause", "", ("running",), "paused"),
    "unpause": ("Unpause", "", ("paused",), "unpaused"),
    "kill": ("Kill", "Ctrl+Shift+K", ("running", "restarting", "paused"), "killed"),
    "remove": ("Remove", "Delete", None, "removed"),
}

# Stop and Restart do not ask (as in Docker Desktop: the files in the container are kept); the row
# shows this while they run, since a process that ignores SIGTERM keeps them busy for 10 s.
TRANSITIONS = {"stop": "stopping…", "restart": "restarting…"}

ASK = {
    "kill": "The processes in {what} are killed at once, without a chance to save their work.",
    "remove": "{what} and every change made inside (the writable layer) are deleted for good. "
              "Named volumes and bind-mounted folders are kept.",
}


class ContainersPage(ListPage):
    """`tools` maps a tool name (logs, stats, inspect, exec, copy) to ``fn(container)``;
    `predictRequested(name)` asks the window to open the Predict page on that container."""

    statusMessage = Signal(str)
    predictRequested = Signal(str)
    exportRequested = Signal(str)  # a container id: the window exports it for Kubernetes / docker stack

    def __init__(self, window, parent=None):
        model = ContainerTableModel(window)
        super().__init__(model, "containersView", "container", 4, parent, proxy=ProjectProxy(model, model))
        self.main_window = window
        self.tools: dict[str, tuple[str, object]] = {}
        self.actions_by_name: dict[str, QAction] = {}

        header = self.view.horizontalHeader()
        header.resizeSection(1, 230)
        header.resizeSection(2, 110)
        self.view.setItemDelegateForColumn(0, ProjectNameDelegate(self.view))
        self.view.setItemDelegateForColumn(2, StateBadgeDelegate(self.view))
        header.resizeSection(3, 250)
        self.toolbar = QToolBar(self)
        self.toolbar.setObjectName("containersToolbar")
        for name, (label, shortcut, _states, _past) in ACTIONS.items():
            act = QAction(label, self)
            act.setObjectName(f"action{name.capitalize()}")
            if shortcut:
                act.setShortcut(QKeySequence(shortcut))
                act.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            act.triggered.connect(lambda _=False, n=name: self.request(n))
            self.addAction(act)
            self.toolbar.addAction(act)
            self.actions_by_name[name] = act
        self.toolbar.addSeparator()

        self.filter = QLineEdit(self)
        self.filter.setObjectName("containersFilter")
        self.filter.setPlaceholderText("Filter by name, image, port or id (Ctrl+F)")
        self.state_filter = QComboBox(self)
        self.state_filter.setObjectName("containersStateFilter")
        for s in STATES:
            self.state_filter.addItem(s.capitalize() if s else "All states", s)
        self.state_filter.currentIndexChanged.connect(
            lambda _i: self.proxy.set_state(self.state_filter.currentData()))
        self.add_filter_row(self.toolbar, self.filter, self.state_filter)

        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._on_context_menu)
        self.view.clicked.connect(self._on_clicked)
        self.view.doubleClicked.connect(self._on_double_clicked)
        self.view.selectionModel().selectionChanged.connect(self._update_actions)
        self.model.dataChanged.connect(self._update_actions)
        self.model.rowsRemoved.connect(self._update_actions)
        self.view.viewport().installEventFilter(self)
        self.view.installEventFilter(self)
        add_container_tools(self)
        self._update_actions()

    # -- tools ----------------------------------------------------------------------------
    def add_tool(self, name: str, label: str, open_fn, shortcut: str = "") -> QAction:
        act = QAction(label, self)
        act.setObjectName(f"tool{name.capitalize()}")
        if shortcut:
            act.setShortcut(QKeySequence(shortcut))
            act.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        act.triggered.connect(lambda _=False: self._open_tool(name))
        self.addAction(act)
        self.toolbar.addAction(act)
        self.tools[name] = (label, open_fn)
        self.actions_by_name[f"tool:{name}"] = act
        self._update_actions()
        return act

    def _open_tool(self, name: str) -> None:
        sel = self.selected_records()
        if sel:
            self.tools[name][1](sel[0])

    # -- selection --------------------------------------------------------------------
    def selected_records(self) -> list[ContainerInfo]:
        """The selected containers (the project header rows left out)."""
        return [r for r in super().selected_records() if r is not None]

    def selected_projects(self) -> list[str]:
        """The compose projects whose header rows are selected."""
        rows = sorted(self.view.selectionModel().selectedRows(), key=lambda i: i.row())
        return [p for p in (self.proxy.project_at(i) for i in rows) if p]

    def _targets(self) -> list[ContainerInfo]:
        """What Start, Stop … act on: the selected containers and every container of a selected project."""
        out = {c.id: c for c in self.selected_records()}
        for project in self.selected_projects():
            out.update((c.id, c) for c in self.proxy.headers.members(project))
        return list(out.values())

    # -- compose projects -------------------------------------------------------------
    def set_collapsed(self, project: str, collapsed: bool) -> None:
        """Hide (or show again) the rows of a compose project's containers under its header."""
        self.proxy.headers.set_collapsed(project, collapsed)

    def is_collapsed(self, project: str) -> bool:
        return project in self.proxy.headers.collapsed

    def eventFilter(self, obj, event) -> bool:
        """A click on a project's chevron collapses or expands it; so do Left and Right on its row."""
        kind = event.type()
        if obj is self.view.viewport() and kind == QEvent.Type.MouseButtonRelease \
                and event.button() == Qt.MouseButton.LeftButton:
            pos = event.position().toPoint()
            index = self.view.indexAt(pos)
            project = self.proxy.project_at(index)
            if project and index.column() == 0 and pos.x() - self.view.visualRect(index).left() < ARROW + 8:
                self.set_collapsed(project, not self.is_collapsed(project))
        elif obj is self.view and kind == QEvent.Type.KeyPress \
                and event.key() in (Qt.Key.Key_Left, Qt.Key.Key_Right):
            project = self.proxy.project_at(self.view.currentIndex())
            if project:
                self.set_collapsed(project, event.key() == Qt.Key.Key_Left)
                return True
        return super().eventFilter(obj, event)

    # -- actions ----------------------------------------------------------------------
    def _update_actions(self, *args) -> None:
        sel = self._targets()
        for name, (_label, _s, states, _p) in ACTIONS.items():
            ok = bool(sel) and (states is None or any(c.state in states for c in sel))
            if name in TRANSITIONS:  # not again while it is under way
                ok = ok and any(c.id not in self.model.transitions for c in sel)
            self.actions_by_name[name].setEnabled(ok)
        for name in self.tools:
            self.actions_by_name[f"tool:{name}"].setEnabled(len(sel) == 1)

    def request(self, action: str, containers: list[ContainerInfo] | None = None) -> None:
        """Ask when the action loses something, then run it on every applicable container (by default
        the selected ones and those of the selected compose projects)."""
        projects = [] if containers is not None else self.selected_projects()
        containers = containers if containers is not None else self._targets()
        states = ACTIONS[action][2]
        targets = [c for c in containers if states is None or c.state in states]
        if not targets:
            return
        what = f"container {targets[0].name}" if len(targets) == 1 else f"these {len(targets)} containers"
        if projects and not self.selected_records():
            what = (f"compose project {projects[0]}" if len(projects) == 1 else f"{len(projects)} compose projects")
            what += f" ({len(targets)} container{'s' if len(targets) > 1 else ''})"
        if action not in ASK:
            self._run(action, targets, False)
            return
        running = [c for c in targets if c.state in ("running", "paused", "restarting")]
        info = ASK[action].format(what=what)
        if action == "remove" and running:
            info += f"\n\n{len(running)} of them {'is' if len(running) == 1 else 'are'} running and will be killed."
        if action == "remove" and projects:
            info += "\n\nThe project's networks and named volumes are kept."
        names = ", ".join(c.name for c in targets[:10]) + (" …" if len(targets) > 10 else "")
        if projects:
            names = f"{what}: {names}"
        confirm(self, f"{ACTIONS[action][0]} {what}?", f"{ACTIONS[action][0]} {names}?",
                ACTIONS[action][0], lambda checked: self._run(action, targets, checked), info,
                "Also remove its anonymous volumes" if action == "remove" else None)

    def _run(self, action: str, targets: list[ContainerInfo], remove_volumes: bool) -> None:
        from gui.engine.actions import anonymous_volumes, container_action  # imported when first used

        session = self.main_window.session
        label, _s, _st, past = ACTIONS[action]
        moving = TRANSITIONS.get(action)
        for c in targets if moving else ():
            self.model.set_transition(c.id, moving)

        def settled(*_args) -> None:
            for c in targets if moving else ():
                self.model.set_transition(c.id, None)

        engine = session.engine

        def work() -> tuple[list[str], list[str], bool]:
            failures: list[str] = []
            volumes: list[str] = []
            gone = False
            for c in targets:
                try:
                    if action == "remove" and remove_volumes:
                        volumes += anonymous_volumes(engine, c.id)
                    container_action(engine, action, c.id, remove_volumes=remove_volumes, force=True)
                except EngineError as exc:
                    if exc.kind == "not_found":
                        exc = EngineError(f"container {c.name} no longer exists", "not_found")
                        gone = True
                    failures.append(f"{c.name}: {exc}")
            return failures, volumes, gone

        def finished(result) -> None:
            settled()
            failures, volumes, gone = result
            if gone:
                session.refresh()
            done = len(targets) - len(failures)
            if done:
                extra = f" with {len(volumes)} anonymous volume(s)" if volumes else ""
                self.statusMessage.emit(f"{done} container{'s' if done > 1 else ''} {past}{extra}")
            if failures:
                show_error(self, f"{label} failed", "\n".join(failures))

        Op(self, work, f"{label} failed").success(finished).run(session.changes).failed.connect(settled)

    # -- view events ------------------------------------------------------------------
    def _on_context_menu(self, pos) -> None:
        if not self.view.indexAt(pos).isValid():
            return
        menu = QMenu(self)
        menu.setObjectName("containersMenu")
        project = self.proxy.project_at(self.view.indexAt(pos))
        if project:
            collapsed = self.is_collapsed(project)
            act = menu.addAction("Expand" if collapsed else "Collapse",
                                 lambda: self.set_collapsed(project, not collapsed))
            act.setObjectName("actionToggleProject")
            menu.addSeparator()
        for name in ACTIONS:
            menu.addAction(self.actions_by_name[name])
        if self.tools:
            menu.addSeparator()
            for name in self.tools:
                menu.addAction(self.actions_by_name[f"tool:{name}"])
        rec = self.proxy.data(self.view.indexAt(pos), RecordRole)
        if rec is not None and rec.label_map.get(PROTOCOL_LABEL):
            menu.addSeparator()
            act = menu.addAction("Predict with this", lambda name=rec.name: self.predictRequested.emit(name))
            act.setObjectName("actionPredictWith")
            act.setToolTip("Open the Predict page with this model chosen")
            act = menu.addAction("Export for Kubernetes…", lambda cid=rec.id: self.exportRequested.emit(cid))
            act.setObjectName("actionExportK8s")
            act.setToolTip("Write a Kubernetes Deployment + Service (and a docker stack file) that run this model")
        urls = published_urls(rec) if rec else []
        if urls:
            menu.addSeparator()
            for url in urls:
                menu.addAction(f"Open {url}", lambda u=url: self.open_url(u))
        self.context_menu = menu
        menu.popup(self.view.viewport().mapToGlobal(pos))

    def _on_clicked(self, index: QModelIndex) -> None:
        if index.column() != PORTS_COLUMN or self.proxy.data(index, RecordRole) is None:
            return
        urls = published_urls(self.proxy.data(index, RecordRole))
        if len(urls) == 1:
            self.open_url(urls[0])
        elif urls:
            menu = QMenu(self)
            for url in urls:
                menu.addAction(url, lambda u=url: self.open_url(u))
            menu.popup(self.view.viewport().mapToGlobal(self.view.visualRect(index).bottomLeft()))

    def open_url(self, url: str) -> bool:
        """Open a port's address; with no browser to open it, the status bar says so."""
        return links.open_url(url, self.statusMessage.emit)

    def _on_double_clicked(self, index: QModelIndex) -> None:
        project = self.proxy.project_at(index)
        if project:
            self.set_collapsed(project, not self.is_collapsed(project))
        elif index.column() != PORTS_COLUMN and "logs" in self.tools:
            self._open_tool("logs")
