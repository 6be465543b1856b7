"""Switch engines: a combo box of the local engine, Docker contexts and recent engines, and "Add engine…"."""

from __future__ import annotations

import json

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QStyle,
    QStyleOptionComboBox,
    QStylePainter,
    QVBoxLayout,
    QWidget,
)

from gui.engine import EngineError, EngineTarget
from gui.engine.contexts import EngineSpec, list_choices, make_target, probe, spec_of
from gui.qt.common.style import set_role
from gui.qt.common.tasks import Task, unless_bug

RECENT_KEY = "engines/recent"
RECENT_MAX = 8
ADD_ROLE = "add"


def load_recent(settings: QSettings) -> list[EngineSpec]:
    try:
        raw = json.loads(settings.value(RECENT_KEY, "[]") or "[]")
        return [EngineSpec.from_dict(d) for d in raw if isinstance(d, dict)]
    except (TypeError, ValueError):
        return []


def remember(settings: QSettings, spec: EngineSpec) -> None:
    """Put an engine (URL and TLS file paths, never a secret) first in the recent list."""
    recent = [s for s in load_recent(settings) if s.url != spec.url]
    recent.insert(0, spec)
    settings.setValue(RECENT_KEY, json.dumps([s.to_dict() for s in recent[:RECENT_MAX]]))


class FileField(QWidget):
    """A path line edit with a Browse… button."""

    def __init__(self, name: str, caption: str, parent=None):
        super().__init__(parent)
        self.edit = QLineEdit(self)
        self.edit.setObjectName(name)
        browse = QPushButton("Browse…", self)
        browse.clicked.connect(lambda: self._on_browse(caption))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit, 1)
        layout.addWidget(browse)

    def _on_browse(self, caption: str) -> None:
        path, _ = QFileDialog.getOpenFileName(self, caption, self.edit.text(), "PEM files (*.pem *.crt *.key);;All files (*)")
        if path:
            self.edit.setText(path)

    def text(self) -> str:
        return self.edit.text().strip()


class AddEngineDialog(QDialog):
    """URL and optional TLS files; OK connects once and accepts only when the engine answers."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("addEngineDialog")
        self.setWindowTitle("Add engine")
        self.setMinimumWidth(520)
        self.target: EngineTarget | None = None
        self.spec: EngineSpec | None = None
        self._worker: Task | None = None

        self.url = QLineEdit(self)
        self.url.setObjectName("engineUrl")
        self.url.setPlaceholderText("tcp://host:2376, ssh://user@host or unix:///path/to/docker.sock")
        self.ca = FileField("engineCa", "CA certificate", self)
        self.cert = FileField("engineCert", "Client certificate", self)
        self.key = FileField("engineKey", "Client key", self)
        self.verify = QCheckBox("Verify the engine's certificate", self)
        self.verify.setObjectName("engineVerify")
        self.verify.setChecked(True)
        self.message = QLabel("TLS files are needed only for tcp:// engines that use TLS (port 2376). "
                              "ssh:// uses your ~/.ssh keys and known_hosts.", self)
        self.message.setObjectName("engineMessage")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        form = QFormLayout()
        form.addRow("Address:", self.url)
        form.addRow("CA certificate:", self.ca)
        form.addRow("Client certificate:", self.cert)
        form.addRow("Client key:", self.key)
        form.addRow("", self.verify)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.connect_button = self.buttons.addButton("Connect", QDialogButtonBox.ButtonRole.AcceptRole)
        self.connect_button.setObjectName("engineConnect")
        self.connect_button.setDefault(True)
        self.buttons.accepted.connect(self._on_connect)
        self.buttons.rejected.connect(self._on_cancel)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)

    def _show_error(self, text: str) -> None:
        set_role(self.message, "error")
        self.message.setText(text)
        self.connect_button.setEnabled(True)

    def _on_connect(self) -> None:
        if self._worker is not None and self._worker.is_alive():
            return
        spec = EngineSpec(self.url.text().strip(), self.ca.text(), self.cert.text(), self.key.text(),
                          self.verify.isChecked())
        try:
            target = make_target(spec)
        except EngineError as exc:
            self._show_error(str(exc))
            return
        self.spec = spec
        set_role(self.message, None)
        self.message.setText(f"Connecting to {target.url}…")
        self.connect_button.setEnabled(False)
        self._worker = Task(self, lambda: probe(target))
        self._worker.done.connect(lambda info: self._on_answered(target, info))
        self._worker.failed.connect(unless_bug(lambda exc: self._show_error(str(exc)), lambda: self._show_error(
            "The connection check stopped on an unexpected error (see the crash report).")))
        self._worker.start()

    def _on_cancel(self) -> None:
        """Cancel means no switch, even when a probe still in flight answers later."""
        if self._worker is not None:
            self._worker.cancel()
            self._worker = None
        self.reject()

    def _on_answered(self, target: EngineTarget, info) -> None:
        if self._worker is None or not self.isVisible():
            return  # cancelled while connecting
        self.target = target
        self.message.setText(f"Docker Engine {info.version} answers at {target.url}.")
        self.accept()


class EngineSwitcher(QComboBox):
    """Lists engines; choosing one emits ``engineChosen(EngineTarget)``. The last entry adds one."""

    engineChosen = Signal(object)

    def __init__(self, current: EngineTarget | None = None, settings: QSettings | None = None, parent=None):
        super().__init__(parent)
        self.setObjectName("engineSwitcher")
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.settings = settings or QSettings()
        self.current = current
        self.add_dialog: AddEngineDialog | None = None
        self.refresh()
        self.activated.connect(self._on_activated)

    def refresh(self) -> None:
        """Re-read contexts and recent engines; keeps the current engine selected."""
        self.blockSignals(True)
        self.clear()
        choices = list_choices(load_recent(self.settings))
        if self.current is not None and all(c.target.url != self.current.url for c in choices):
            self.addItem(self.current.url, self.current)
        for choice in choices:
            self.addItem(choice.label, choice.target)
            self.setItemData(self.count() - 1, choice.target.source, Qt.ItemDataRole.ToolTipRole)
        self.insertSeparator(self.count())
        self.addItem("Add engine…", ADD_ROLE)
        self._select_current()
        self.blockSignals(False)

    def _select_current(self) -> None:
        if self.current is None:
            self.setCurrentIndex(0)
        else:
            for i in range(self.count()):
                data = self.itemData(i)
                if isinstance(data, EngineTarget) and data.url == self.current.url:
                    self.setCurrentIndex(i)
                    break
        self.setToolTip(f"The engine this window manages: {self.currentText()}")

    def paintEvent(self, _event) -> None:
        """The chosen engine elided in the middle when the sidebar is narrower than it ("Local —
        unix:///…/docker.sock", not "Local — unix:///var/run/dc"); the list shows it whole."""
        painter = QStylePainter(self)
        opt = QStyleOptionComboBox()
        self.initStyleOption(opt)
        painter.drawComplexControl(QStyle.ComplexControl.CC_ComboBox, opt)
        field = self.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, opt,
                                            QStyle.SubControl.SC_ComboBoxEditField, self)
        opt.currentText = self.fontMetrics().elidedText(opt.currentText, Qt.TextElideMode.ElideMiddle,
                                                        field.width())
        painter.drawControl(QStyle.ControlElement.CE_ComboBoxLabel, opt)

    def set_current(self, target: EngineTarget) -> None:
        self.current = target
        self.refresh()

    def choose(self, target: EngineTarget) -> None:
        """Make ``target`` current and announce it."""
        self.current = target
        if target.source in ("added", "recent"):
            remember(self.settings, spec_of(target))
        self.refresh()
        self.engineChosen.emit(target)

    def _on_activated(self, index: int) -> None:
        data = self.itemData(index)
        if data == ADD_ROLE:
            self._select_current()
            self.open_add_dialog()
        elif isinstance(data, EngineTarget) and (self.current is None or data.url != self.current.url
                                                 or data.tls is not self.current.tls):
            self.choose(data)

    def open_add_dialog(self) -> AddEngineDialog:
        """Open "Add engine…" (non-modal, so tests and the loop keep running); returns the dialog."""
        dialog = AddEngineDialog(self.window())
        self.add_dialog = dialog
        dialog.accepted.connect(lambda: self.choose(dialog.target))
        dialog.open()
        return dialog
