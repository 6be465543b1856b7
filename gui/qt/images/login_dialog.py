"""Log in to a registry: the engine checks the password, then it is stored as the Docker CLI stores it."""

from __future__ import annotations

import threading

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout

from gui.engine import Engine, credentials
from gui.engine.registry import login
from gui.qt.common.style import set_role
from gui.qt.common.tasks import Task, unless_bug


class LoginDialog(QDialog):

    """Registry, user name and password; ``loggedIn(registry_key, where_saved)`` on success."""

    loggedIn = Signal(str, str)

    def __init__(self, engine: Engine, registry: str = "", parent=None):
        super().__init__(parent)
        self.setObjectName("loginDialog")
        self.setWindowTitle("Log in to a registry")
        self.setMinimumWidth(440)
        self.engine = engine
        self.saved_to = ""
        self._task: Task | None = None

        self.registry = QLineEdit(registry, self)
        self.registry.setObjectName("loginRegistry")
        self.registry.setPlaceholderText("registry.example.com:5000 (empty: Docker Hub)")
        self.username = QLineEdit(self)
        self.username.setObjectName("loginUser")
        self.password = QLineEdit(self)
        self.password.setObjectName("loginPassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.message = QLabel(self)
        self.message.setObjectName("loginMessage")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.setText(f"Saved like `docker login` does, in {self._store_hint()}.")

        form = QFormLayout()
        form.addRow("Registry:", self.registry)
        form.addRow("User name:", self.username)
        form.addRow("Password or token:", self.password)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.login_button = self.buttons.addButton("Log in", QDialogButtonBox.ButtonRole.AcceptRole)
        self.login_button.setObjectName("loginButton")
        self.login_button.setDefault(True)
        self.buttons.accepted.connect(self._on_login)
        self._cancelled = threading.Event()
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        (self.username if registry else self.registry).setFocus()

    def _store_hint(self) -> str:
        try:
            helper = credentials.helper_for(self.registry.text() or credentials.DOCKER_HUB_KEY)
        except credentials.CredentialError:
            helper = None
        return f"docker-credential-{helper}" if helper else str(credentials.config_path())

    def _set_busy(self, busy: bool) -> None:
        for w in (self.registry, self.username, self.password, self.login_button):
            w.setEnabled(not busy)

    def _on_login(self) -> None:
        if self._task is not None and self._task.is_alive():
            return
        set_role(self.message, None)
        self.message.setText(f"Checking with {self.registry.text().strip() or 'Docker Hub'}…")
        self._set_busy(True)
        self._cancelled.clear()
        engine, registry, user, password = (self.engine, self.registry.text().strip(),
                                            self.username.text().strip(), self.password.text())
        cancelled = self._cancelled
        self._task = Task(self, lambda: login(engine, registry, user, password,
                                              still_wanted=lambda: not cancelled.is_set()))
        self._task.done.connect(self._on_done)
        self._task.failed.connect(unless_bug(self._on_failed, self._on_stopped))
        self._task.start()

    def reject(self) -> None:
        """Cancel (or Esc) while the registry is asked: nothing gets saved."""
        self._cancelled.set()
        super().reject()

    def _on_done(self, result) -> None:
        creds, where = result
        self.saved_to = where
        self.password.clear()
        self._set_busy(False)
        self.loggedIn.emit(creds.registry, where)
        self.accept()

    def _on_stopped(self) -> None:
        self._set_busy(False)

    def _on_failed(self, exc: object) -> None:
        self._set_busy(False)
        set_role(self.message, "error")
        self.message.setText(str(exc))
        self.password.setFocus()
        self.password.selectAll()
