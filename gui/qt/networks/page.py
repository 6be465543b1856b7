"""The Networks page (`networksView`): live list, create, remove, connect and disconnect containers."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QToolBar,
    QVBoxLayout,
)

from gui.engine.networks import (
    NetworkInfo,
    connect,
    create_network,
    disconnect,
    list_networks,
    network_problems,
    remove_network,
)
from gui.qt.common import style
from gui.qt.common.feedback import confirm
from gui.qt.common.list_page import ListPage
from gui.qt.common.table_models import Column, RecordTableModel
from gui.qt.common.tasks import Op


class NetworkTableModel(RecordTableModel):
    COLUMNS = (
        Column("Name", lambda r: r.name),
        Column("Driver", lambda r: r.driver),
        Column("Scope", lambda r: r.scope),
        Column("Subnet", lambda r: r.subnet),
        Column("Gateway", lambda r: r.gateway),
        Column("Containers", lambda r: ", ".join(r.containers), lambda r: len(r.containers)),
        Column("Internal", lambda r: "yes" if r.internal else ""),
    )


class _Form(QDialog):
    """A small form with a problem line and an OK button that is enabled only while the fields are right."""

    def __init__(self, name: str, title: str, ok: str, parent=None):
        super().__init__(parent)
        self.setObjectName(name)
        self.setWindowTitle(title)
        self.form = QFormLayout()
        self.problem = QLabel(self)
        self.problem.setObjectName(f"{name}Problem")
        self.problem.setWordWrap(True)
        style.set_role(self.problem, "error")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel,
                                        self)
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText(ok)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)

    def show_problems(self, problems: list[str]) -> None:
        self.problem.setText("\n".join(f"⚠ {p}" for p in problems))
        self.ok.setEnabled(not problems)

    def failed(self, exc: BaseException) -> None:
        self.problem.setText(f"⚠ {exc}")  # the fields stay as the user filled them
        self.buttons.setEnabled(True)


class CreateNetworkDialog(_Form):
    def __init__(self, parent=None):
        super().__init__("createNetworkDialog", "Create network", "Create", parent)
        self.name = QLineEdit(self)
        self.name.setObjectName("networkName")
        self.subnet = QLineEdit(self)
        self.subnet.setObjectName("networkSubnet")
        self.subnet.setPlaceholderText("empty: the engine picks one (e.g. 172.30.0.0/16)")
        self.gateway = QLineEdit(self)
        self.gateway.setObjectName("networkGateway")
        self.gateway.setPlaceholderText("empty: the first address of the subnet")
        self.internal = QCheckBox("Internal (no way out to other networks)", self)
        self.internal.setObjectName("networkInternal")
        self.form.addRow("Name:", self.name)
        self.form.addRow("Subnet:", self.subnet)
        self.form.addRow("Gateway:", self.gateway)
        self.form.addRow("", self.internal)
        for edit in (self.name, self.subnet, self.gateway):
            edit.textChanged.connect(self._check)
        self._check()

    def _check(self) -> None:
        self.show_problems(network_problems(self.name.text().strip(), self.subnet.text().strip(),
                                            self.gateway.text().strip()))


class ConnectDialog(_Form):
    """Connect a container to a network (with aliases), or disconnect one that is attached."""

    def __init__(self, network: NetworkInfo, containers: list[str], disconnecting: bool, parent=None):
        super().__init__("connectDialog", ("Disconnect from " if disconnecting else "Connect to ") + network.name,
                         "Disconnect" if disconnecting else "Connect", parent)
        self.container = QComboBox(self)
        self.container.setObjectName("connectContainer")
        self.container.addItems(containers)
        self.aliases = QLineEdit(self)
        self.aliases.setObjectName("connectAliases")
        self.aliases.setPlaceholderText("other names on this network, separated by spaces or commas")
        self.form.addRow("Container:", self.container)
        if not disconnecting:
            self.form.addRow("Aliases:", self.aliases)
        self.show_problems([] if containers else
                           ["no container to " + ("disconnect" if disconnecting else "connect")])

    def alias_list(self) -> list[str]:
        return [a for a in self.aliases.text().replace(",", " ").split() if a]


class NetworksPage(ListPage):
    statusMessage = Signal(str)
    sort_order = Qt.SortOrder.AscendingOrder  # by name, A to Z

    def __init__(self, window, parent=None):
        super().__init__(NetworkTableModel(), "networksView", "network", 0, parent)
        self.main_window = window
        self.last_dialog = None
        self.toolbar = QToolBar(self)
        self.toolbar.setObjectName("networksToolbar")
        self.actions_by_name = self.add_actions(self.toolbar, "network", (
            ("create", "Create…", self.create, 0),
            ("connect", "Connect…", lambda: self.connect_selected(False), 1),
            ("disconnect", "Disconnect…", lambda: self.connect_selected(True), 1),
            ("remove", "Remove", self.remove_selected, 2),
        ))
        self.filter = QLineEdit(self)
        self.filter.setObjectName("networksFilter")
        self.filter.setPlaceholderText("Filter by name, subnet or container (Ctrl+F)")
        self.add_filter_row(self.toolbar, self.filter)
        self.view.selectionModel().selectionChanged.connect(self._update_actions)  # host/none: no connect
        self.follow_engine(window, lambda ev: ev.type == "network"
                           or (ev.type == "container" and ev.action in ("destroy", "rename")))
        self._update_actions()

    @property
    def session(self):
        return self.main_window.session

    def refresh(self) -> None:
        engine = self.session.engine
        self.read_list(lambda: list_networks(engine), lambda nets: (self.model.replace_all(nets),
                                                                  self._update_actions()), "networks")

    def _update_actions(self, *args) -> None:
        rows = self.selected_records()
        self.update_actions(self.actions_by_name)
        if len(rows) == 1 and rows[0].name in ("host", "none"):
            self.actions_by_name["connect"].setEnabled(False)

    # -- actions ----------------------------------------------------------------------------
    def create(self) -> None:
        dlg = CreateNetworkDialog(self)
        engine = self.session.engine

        def accept() -> None:
            name, subnet, gateway = dlg.name.text().strip(), dlg.subnet.text().strip(), dlg.gateway.text().strip()
            internal = dlg.internal.isChecked()
            dlg.buttons.setEnabled(False)
            Op(dlg, lambda: create_network(engine, name, subnet, gateway, internal)).success(
                lambda n: (dlg.accept(), self.statusMessage.emit(f"Created network {n.name} ({n.subnet})"),
                           self.refresh())).failure(dlg.failed).run(self.session.changes)

        dlg.buttons.accepted.connect(accept)
        dlg.open()
        self.last_dialog = dlg

    def connect_selected(self, disconnecting: bool) -> None:
        rows = self.selected_records()
        if len(rows) != 1:
            return
        net: NetworkInfo = rows[0]
        if disconnecting:
            names = list(net.containers)
        else:
            names = sorted(c.name for c in self.main_window.containers_model.records()
                           if c.name not in net.containers)
        dlg = ConnectDialog(net, names, disconnecting, self)
        engine = self.session.engine

        def accept() -> None:
            container, aliases = dlg.container.currentText(), dlg.alias_list()
            dlg.buttons.setEnabled(False)
            if disconnecting:
                work, said = (lambda: disconnect(engine, net.name, container)), f"Disconnected {container} from"
            else:
                work, said = (lambda: connect(engine, net.name, container, aliases)), f"Connected {container} to"
            Op(dlg, work).success(lambda _r: (dlg.accept(), self.statusMessage.emit(f"{said} {net.name}"),
                                              self.refresh())).failure(dlg.failed).run(self.session.changes)

        dlg.buttons.accepted.connect(accept)
        dlg.open()
        self.last_dialog = dlg

    def remove_selected(self) -> None:
        rows = self.selected_records()
        if not rows:
            return
        engine = self.session.engine
        names = ", ".join(n.name for n in rows[:8]) + (" …" if len(rows) > 8 else "")
        confirm(self, "Remove networks?", f"Remove {names}?", "Remove",
                lambda _c: self.act_on_each(rows, lambda net: remove_network(engine, net), "Remove failed",
                                            "Removed {n} network(s)", self.session.changes, self.refresh),
                "Containers must be disconnected first; the engine's own networks stay.")
