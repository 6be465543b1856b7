"""The container detail tools (logs, stats beside the list, inspect, exec, copy files) of the Containers page.

The tools' own modules (and the copy-files and Jupyter ones) are imported when first used: none is needed
before the list's first paint.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QLabel, QSplitter, QVBoxLayout, QWidget

from gui.engine import ContainerInfo
from gui.qt.common.feedback import confirm
from gui.qt.common.style import set_role
from gui.qt.common.table_models import RecordRole
from gui.qt.common.tasks import Op
from gui.qt.common.tool_windows import ToolWindows

if TYPE_CHECKING:
    from gui.qt.containers.logs import LogsView
    from gui.qt.containers.stats import StatsView

STATS_STATES = ("running", "paused", "restarting")


class StatsPanel(QWidget):
    """Live stats of the one selected running container, beside the list."""

    def __init__(self, page, parent=None):
        super().__init__(parent)
        self.page = page
        self.view: StatsView | None = None
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        self.setMinimumWidth(240)
        self.hide()

    def follow(self, container: ContainerInfo | None) -> None:
        if container is None or container.state not in STATS_STATES:
            if self.view is not None:
                self.view.stop()
            self.hide()
            return
        engine = self.page.main_window.session.engine
        if self.view is None or self.view.engine is not engine:
            if self.view is not None:
                self.view.stop()
                self.view.deleteLater()
            from gui.qt.containers.stats import StatsView

            self.view = StatsView(engine, container, self)
            self.layout_.addWidget(self.view)
        elif self.view.container.id != container.id:
            self.view.set_container(container)
        self.show()


class RowDropTarget(QObject):
    """Files dropped from the file manager on a container's row are copied into its working folder."""

    def __init__(self, page):
        super().__init__(page)
        self.page = page
        page.view.setAcceptDrops(True)
        page.view.viewport().setAcceptDrops(True)
        page.view.viewport().installEventFilter(self)

    def _container_at(self, event) -> ContainerInfo | None:
        index = self.page.view.indexAt(event.position().toPoint())
        return self.page.proxy.data(index, RecordRole) if index.isValid() else None

    def eventFilter(self, obj, event) -> bool:
        kind = event.type()
        if kind not in (QEvent.Type.DragEnter, QEvent.Type.DragMove, QEvent.Type.Drop):
            return False
        from gui.qt.containers.copy_files import local_paths

        if kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove):
            if local_paths(event.mimeData()) and (kind == QEvent.Type.DragEnter or self._container_at(event)):
                event.acceptProposedAction()
            else:
                event.ignore()
            return True
        if kind == QEvent.Type.Drop:
            paths = local_paths(event.mimeData())
            container = self._container_at(event)
            if not paths or container is None:
                event.ignore()
                return True
            event.acceptProposedAction()
            self.ask(container, paths)
            return True
        return False

    def ask(self, container: ContainerInfo, paths: list[str]) -> None:
        names = ", ".join(os.path.basename(p.rstrip("/")) for p in paths[:5]) + (" …" if len(paths) > 5 else "")
        confirm(self.page, "Copy into the container?", f"Copy {names} into container {container.name}?",
                "Copy", lambda _c: self.copy(container, paths),
                "They go to the container's working folder; files of the same name there are replaced.")

    def copy(self, container: ContainerInfo, paths: list[str]) -> None:
        session = self.page.main_window.session

        engine = session.engine

        def work():
            from gui.engine.files import copy_to_container, working_dir

            target = working_dir(engine, container.id)
            return target, copy_to_container(engine, container.id, paths, target)

        def copied(answer) -> None:
            target, result = answer
            self.page.statusMessage.emit(f"Copied {result.files} file(s) into {container.name}:{target}")

        Op(self.page, work, "Copy failed").success(copied).run(session.changes)


def add_container_tools(page) -> None:
    """Logs, Stats, Inspect, Exec and Copy files for the Containers page (called by the page itself)."""
    windows = ToolWindows(page.main_window)
    page.tool_windows = windows

    def engine():
        return page.main_window.session.engine

    def make_logs(c: ContainerInfo) -> LogsView:
        from gui.qt.containers.logs import LogsView

        view = LogsView(engine(), c)
        page.main_window.session.containersChanged.connect(view.on_containers_changed)  # resume on a start
        return view

    def logs(c: ContainerInfo):
        return windows.show("logs", c.id, f"Logs: {c.name}", lambda: make_logs(c))

    def inspect(c: ContainerInfo):
        from gui.qt.common.inspect_view import InspectView

        return windows.show("inspect", c.id, f"Inspect: {c.name}", lambda: InspectView(engine(), c))

    def exec_(c: ContainerInfo):
        from gui.qt.containers.exec_dialog import ExecDialog

        dlg = ExecDialog(engine(), c, page)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.open()
        page.last_dialog = dlg
        return dlg

    def copy(c: ContainerInfo):
        from gui.qt.containers.copy_files import CopyFilesPanel

        return windows.show("copy", c.id, f"Copy files: {c.name}", lambda: CopyFilesPanel(engine(), c))

    page.add_tool("logs", "Logs", logs, "Ctrl+L")
    page.add_tool("inspect", "Inspect", inspect, "Ctrl+I")
    page.add_tool("exec", "Exec…", exec_, "Ctrl+E")
    page.add_tool("copy", "Copy files…", copy, "")

    def jupyter(c: ContainerInfo):
        from gui.qt.containers.jupyter import JupyterPanel

        panel = windows.show("jupyter", c.id, f"Jupyter: {c.name}", lambda: JupyterPanel(engine(), c))
        panel.resize(620, 180)
        return panel

    jupyter_action = page.add_tool("jupyter", "Jupyter", jupyter, "")
    jupyter_action.setToolTip("The token and Open JupyterLab for a container of the Jupyter template")

    def enable_jupyter(*_args):  # after the page's own update, which enables every tool for one row
        sel = page.selected_records()
        if len(sel) != 1:
            jupyter_action.setEnabled(False)
            return
        from gui.qt.containers.jupyter import is_jupyter

        jupyter_action.setEnabled(is_jupyter(sel[0]))

    # Stats beside the list for the selected container.
    layout = page.layout()
    index = layout.indexOf(page.view)
    splitter = QSplitter(Qt.Orientation.Horizontal, page)
    splitter.setObjectName("containersSplitter")
    layout.removeWidget(page.view)
    splitter.addWidget(page.view)
    # The stats live in a slot of fixed width that is always there: selecting a row never narrows the list.
    slot = QWidget(splitter)
    slot.setObjectName("statsSlot")
    slot.setFixedWidth(270)
    slot_layout = QVBoxLayout(slot)
    slot_layout.setContentsMargins(6, 0, 0, 0)
    page.stats_panel = StatsPanel(page, slot)
    placeholder = QLabel("Select a running container to follow its CPU, memory and network use here.", slot)
    placeholder.setObjectName("statsPlaceholder")
    placeholder.setWordWrap(True)
    set_role(placeholder, "muted")
    slot_layout.addWidget(page.stats_panel)
    slot_layout.addWidget(placeholder)
    slot_layout.addStretch(1)
    splitter.addWidget(slot)
    splitter.setStretchFactor(0, 1)
    splitter.setStretchFactor(1, 0)
    splitter.setCollapsible(0, False)
    layout.insertWidget(index, splitter, 1)

    def on_selection(*_args):
        sel = page.selected_records()
        page.stats_panel.follow(sel[0] if len(sel) == 1 else None)
        placeholder.setVisible(page.stats_panel.isHidden())

    page.row_drop = RowDropTarget(page)
    page.view.selectionModel().selectionChanged.connect(on_selection)
    for sig in (page.view.selectionModel().selectionChanged, page.model.dataChanged, page.model.rowsRemoved):
        sig.connect(enable_jupyter)
    enable_jupyter()
    page.model.dataChanged.connect(on_selection)
    page.model.rowsRemoved.connect(on_selection)
    page.main_window.engineChanged.connect(lambda _s: (windows.close_all(), page.stats_panel.follow(None)))
