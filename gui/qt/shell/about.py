"""Help > About: the app's version, the engine it talks to, and the licenses of what it bundles."""

from __future__ import annotations

import PySide6
from PySide6.QtCore import Qt, qVersion
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from gui import APP_NAME, __version__
from gui.licenses import Component, app_component, bundled_components

QT_LICENSE_NOTE = ("Qt and Qt for Python (PySide6, shiboken6) are used under the GNU Lesser General Public "
                   "License v3 (LGPL-3.0-only); their libraries ship unmodified as separate shared "
                   "libraries, which you may replace with your own build. Full text: "
                   "https://www.gnu.org/licenses/lgpl-3.0.html")


def engine_text(session) -> str:
    """One line about the engine: where it is and which version answers there."""
    url = session.target.url
    info = session.info
    if session.state == "connected" and info is not None:
        return f"{url}: Docker Engine {info.version} (API {info.api_version})"
    if session.state == "connected":
        return f"{url}: connected"
    return f"{url}: not connected"


class AboutDialog(QDialog):
    def __init__(self, window, parent=None):
        super().__init__(parent or window)
        self.setObjectName("aboutDialog")
        self.setWindowTitle(f"About {APP_NAME}")
        self.resize(680, 560)
        self.components = [app_component(), *bundled_components()]

        logo = QLabel(self)
        logo.setPixmap(window.windowIcon().pixmap(96, 96) if not window.windowIcon().isNull()
                       else QIcon().pixmap(96, 96))
        title = QLabel(f"<h2>{APP_NAME}</h2>"
                       f"<p>Version {__version__}<br>Build, run and manage AI containers on a Docker Engine."
                       f"</p><p>Qt {qVersion()}, PySide6 {PySide6.__version__}</p>", self)
        title.setObjectName("aboutTitle")
        title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.engine = QLabel(f"<b>Engine:</b> {engine_text(window.session)}", self)
        self.engine.setObjectName("aboutEngine")
        self.engine.setWordWrap(True)
        self.engine.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.table = QTableWidget(len(self.components), 3, self)
        self.table.setObjectName("aboutLicenses")
        self.table.setHorizontalHeaderLabels(["Component", "Version", "License"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        for row, comp in enumerate(self.components):
            for col, text in enumerate((comp.name, comp.version, comp.license)):
                self.table.setItem(row, col, QTableWidgetItem(text))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)

        self.text = QPlainTextEdit(self)
        self.text.setObjectName("aboutLicenseText")
        self.text.setReadOnly(True)
        self.table.currentCellChanged.connect(self._on_row)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)

        top = QHBoxLayout()
        top.addWidget(logo, 0, Qt.AlignmentFlag.AlignTop)
        top.addWidget(title, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.engine)
        layout.addWidget(QLabel("Bundled components and their licenses:", self))
        layout.addWidget(self.table, 3)
        layout.addWidget(self.text, 2)
        layout.addWidget(buttons)
        self.table.selectRow(0)
        self._window = window
        self._follow(window.session)
        if hasattr(window, "engineChanged"):  # the user switched engines while the dialog is open
            window.engineChanged.connect(self._follow)

    def _follow(self, session) -> None:
        session.infoChanged.connect(self._on_engine)
        session.stateChanged.connect(self._on_engine)
        self._on_engine()

    def _on_engine(self, *_args) -> None:
        self.engine.setText(f"<b>Engine:</b> {engine_text(self._window.session)}")

    def _on_row(self, row: int, *_args) -> None:
        if 0 <= row < len(self.components):
            self.text.setPlainText(license_body(self.components[row]))


def license_body(comp: Component) -> str:
    if comp.license_text:
        return comp.license_text
    if comp.name.lower().startswith(("pyside6", "shiboken6")):
        return QT_LICENSE_NOTE
    if comp.name == "AI Container Studio":
        return "AI Container Studio is free software under the MIT License."
    if comp.name == "Python":
        return "Python is distributed under the Python Software Foundation License (PSF-2.0)."
    return f"{comp.name} is distributed under: {comp.license}"
