"""The Jupyter tool of a container made from the jupyter template: its token (masked, Copy) and a
button that opens JupyterLab with it. The token is read from the container's environment, the only
place it is kept (never in the image, never in a recipe)."""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from gui.engine import ContainerInfo, Engine
from gui.engine.inspect import inspect_container
from gui.engine.ports import published_url
from gui.qt.common import links
from gui.qt.common.style import set_role
from gui.qt.common.tasks import message_of, run, unless_bug

TEMPLATE_LABEL = "ai-container-studio.template"
PORT_LABEL = "ai-container-studio.port"
TOKEN_ENV = "JUPYTER_TOKEN"
DEFAULT_PORT = 8888


def is_jupyter(container: ContainerInfo | None) -> bool:
    return container is not None and dict(container.labels).get(TEMPLATE_LABEL) == "jupyter"


def lab_url(container: ContainerInfo, token: str) -> str:
    """``http://127.0.0.1:<host port>/lab?token=...``; "" when the notebook port is not published."""
    try:
        port = int(dict(container.labels).get(PORT_LABEL) or DEFAULT_PORT)
    except ValueError:
        port = DEFAULT_PORT
    base = published_url(container, port)
    if not base:
        return ""
    return f"{base}/lab?token={token}" if token else f"{base}/lab"


def env_value(inspected: dict, name: str) -> str:
    for entry in (inspected.get("Config") or {}).get("Env") or []:
        key, _, value = entry.partition("=")
        if key == name:
            return value
    return ""


class JupyterPanel(QWidget):
    """Token (masked) with Copy, and Open JupyterLab."""

    def __init__(self, engine: Engine, container: ContainerInfo, parent=None):
        super().__init__(parent)
        self.setObjectName("jupyterPanel")
        self.container = container
        self.token = ""
        self.url = ""
        self.token_edit = QLineEdit(self)
        self.token_edit.setObjectName("jupyterToken")
        self.token_edit.setReadOnly(True)
        self.token_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.token_edit.setPlaceholderText("reading the container's environment…")
        self.copy_button = QPushButton("Copy", self)
        self.copy_button.setObjectName("jupyterCopyToken")
        self.copy_button.setToolTip("Copy the token to the clipboard")
        self.copy_button.clicked.connect(self._on_copy)
        self.open_button = QPushButton("Open JupyterLab", self)
        self.open_button.setObjectName("jupyterOpen")
        self.open_button.clicked.connect(self.open_lab)
        self.status = QLabel(self)
        self.status.setObjectName("jupyterStatus")
        self.status.setWordWrap(True)
        for button in (self.copy_button, self.open_button):
            button.setEnabled(False)
        row = QHBoxLayout()
        row.addWidget(QLabel("Token", self))
        row.addWidget(self.token_edit, 1)
        row.addWidget(self.copy_button)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.open_button)
        layout.addWidget(self.status)
        layout.addStretch(1)
        cid = container.id
        run(self, lambda: inspect_container(engine, cid), self._on_inspected, unless_bug(self._on_failed))

    def _on_inspected(self, data: dict) -> None:
        self.token = env_value(data, TOKEN_ENV)
        self.url = lab_url(self.container, self.token)
        self.token_edit.setPlaceholderText("")
        self.token_edit.setText(self.token)
        self.copy_button.setEnabled(bool(self.token))
        self.open_button.setEnabled(bool(self.url))
        if not self.token:
            self._say(f"This container has no {TOKEN_ENV}: Jupyter printed its own token in the log.", "warning")
        elif not self.url:
            self._say("The notebook port is not published: start the container (or run the image with "
                      "its port published) to open JupyterLab.", "warning")
        else:
            self._say(f"JupyterLab answers at {self.url.split('?')[0]}", "muted")

    def _on_failed(self, exc: BaseException) -> None:
        self._say(message_of(exc), "error")

    def _say(self, text: str, role: str) -> None:
        self.status.setText(text)
        set_role(self.status, role)

    def _on_copy(self) -> None:
        QGuiApplication.clipboard().setText(self.token)
        self._say("Token copied to the clipboard.", "muted")

    def open_lab(self) -> bool:
        if not self.url:
            return False
        return links.open_url(self.url, lambda text: self._say(text, "error"))
