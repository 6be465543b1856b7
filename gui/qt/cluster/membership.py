"""Dialogs of the Cluster page for swarm membership: *Initialize swarm* and *Join swarm*."""

from __future__ import annotations

import re

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
)

from gui.qt.common import style

_JOIN = re.compile(r"--token\s+(\S+)\s+(\S+)")


def parse_join_command(text: str) -> tuple[str, str]:
    """``docker swarm join --token T ADDR:2377`` -> (ADDR:2377, T); ("", "") when it is not one."""
    m = _JOIN.search(text or "")
    return (m.group(2), m.group(1)) if m else ("", "")


class InitSwarmDialog(QDialog):
    """Choose the address other machines reach this engine at (the engine host's addresses, best first)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("initSwarmDialog")
        self.setWindowTitle("Initialize swarm")
        self.address = QComboBox(self)
        self.address.setObjectName("advertiseAddress")
        self.address.setEditable(True)
        self.address.setPlaceholderText("reading the engine host's addresses…")
        note = QLabel("This engine becomes the swarm's first manager. Other machines join it at this "
                      "address (port 2377 must be open between them).", self)
        note.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Advertise address:", self.address)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel,
                                        self)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Initialize")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addLayout(form)
        layout.addWidget(self.buttons)

    def set_candidates(self, addresses: list[str]) -> None:
        typed = self.address.currentText()
        self.address.clear()
        self.address.addItems(addresses)
        if typed:
            self.address.setEditText(typed)
        elif not addresses:
            self.address.setPlaceholderText("type an address of the engine's host")

    def value(self) -> str:
        return self.address.currentText().strip()


class JoinSwarmDialog(QDialog):
    """A manager's address and a join token; pasting a whole ``docker swarm join`` line fills both."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("joinSwarmDialog")
        self.setWindowTitle("Join swarm")
        self.command = QLineEdit(self)
        self.command.setObjectName("joinCommand")
        self.command.setPlaceholderText("paste a manager's 'docker swarm join --token …' line")
        self.manager = QLineEdit(self)
        self.manager.setObjectName("joinManager")
        self.manager.setPlaceholderText("10.0.0.5:2377")
        self.token = QLineEdit(self)
        self.token.setObjectName("joinToken")
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.advertise = QLineEdit(self)
        self.advertise.setObjectName("joinAdvertise")
        self.advertise.setPlaceholderText("optional: this engine's address the others reach")
        self.problem = QLabel(self)
        self.problem.setObjectName("joinProblem")
        style.set_role(self.problem, "error")
        form = QFormLayout()
        form.addRow("Join command:", self.command)
        form.addRow("Manager:", self.manager)
        form.addRow("Token:", self.token)
        form.addRow("Advertise address:", self.advertise)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel,
                                        self)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Join")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self.command.textChanged.connect(self._on_command)
        for edit in (self.manager, self.token):
            edit.textChanged.connect(self._check)
        self._check()

    def _on_command(self, text: str) -> None:
        manager, token = parse_join_command(text)
        if token:
            self.manager.setText(manager)
            self.token.setText(token)

    def _check(self) -> None:
        missing = [w for w, e in (("the manager's address", self.manager), ("the token", self.token))
                   if not e.text().strip()]
        self.problem.setText(f"⚠ Give {' and '.join(missing)}." if missing else "")
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not missing)

    def values(self) -> tuple[str, str, str]:
        return self.manager.text().strip(), self.token.text().strip(), self.advertise.text().strip()
