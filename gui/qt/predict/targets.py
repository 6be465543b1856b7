"""TargetPicker: which model the panel talks to — a running container found for you, or any URL.

Container targets come from ``gui.predict.find_targets`` over the window's live container list, so they
follow containers as they start and stop. "Custom URL…" takes a URL, a protocol and, for v2 and TF Serving,
the model name and the input fields the server's metadata may not give.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from gui.predict import PROTOCOLS, Overrides, Target, find_targets
from gui.predict.connect import CUSTOM, TargetSpec
from gui.predict.pictures import SCALINGS
from gui.qt.common.style import set_role

KIND_ROLE = Qt.ItemDataRole.UserRole + 1  # "picture", "tabular" or "" (task label unknown)

NONE = ""
STOPPED = "stopped:"  # the chosen container, while it is not running (followed by its name)
PROTOCOL_TITLES = {"studio-v1": "studio-v1 (our images)", "v2": "Open Inference v2 (MLServer, KServe, Triton)",
                   "tf-serving": "TensorFlow Serving REST"}


def kind_of(task: str) -> str:
    """What a container's model takes, from its task label: ``picture``, ``tabular`` or "" (unknown)."""
    if task.startswith("tabular") or task in ("regression", "classification"):
        return "tabular"
    if task.startswith(("image", "picture")):
        return "picture"
    return ""


def parse_labels(text: str) -> tuple[str, ...] | None:
    """Labels typed as ``a, b, c`` or one a line; None when empty (the server's labels are used)."""
    sep = "\n" if "\n" in text else ","
    labels = tuple(x.strip() for x in text.split(sep) if x.strip())
    return labels or None


class InputFields(QFrame):
    """Input size, channels, scaling and labels for servers whose metadata does not say them."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("inputFields")
        self.width_box = self._size_box("inputWidth")
        self.height_box = self._size_box("inputHeight")
        self.channels = QComboBox(self)
        self.channels.setObjectName("inputChannels")
        for text, value in (("from metadata", None), ("1 (grey)", 1), ("3 (RGB)", 3), ("4 (RGBA)", 4)):
            self.channels.addItem(text, value)
        self.scaling = QComboBox(self)
        self.scaling.setObjectName("inputScaling")
        self.scaling.addItem("from metadata", None)
        for s in SCALINGS:
            self.scaling.addItem(s, s)
        self.labels = QLineEdit(self)
        self.labels.setObjectName("inputLabels")
        self.labels.setPlaceholderText("labels in class order, e.g. cat, dog (empty: from the server)")
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        for text, w in (("Width", self.width_box), ("Height", self.height_box), ("Channels", self.channels),
                        ("Scaling", self.scaling)):
            row.addWidget(QLabel(text, self))
            row.addWidget(w)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.labels)

    def _size_box(self, name: str) -> QSpinBox:
        box = QSpinBox(self)
        box.setObjectName(name)
        box.setRange(0, 8192)
        box.setSpecialValueText("auto")
        return box

    def overrides(self) -> Overrides:
        return Overrides(
            width=self.width_box.value() or None,
            height=self.height_box.value() or None,
            channels=self.channels.currentData(),
            scaling=self.scaling.currentData(),
            labels=parse_labels(self.labels.text()),
        )


class TargetPicker(QWidget):
    """The model chooser (combo ``targetPicker``) with the custom-URL and input-field panels below it."""

    targetChanged = Signal(object)  # TargetSpec, or None when nothing usable is chosen

    def __init__(self, parent=None):
        super().__init__(parent)
        self.targets: list[Target] = []
        # The container the user chose, by name: kept while it is stopped (never replaced by another
        # running model behind the user's back) and found again when it runs, even with a new id or port.
        self.chosen_name = ""
        self._emitted: TargetSpec | None = None
        self.combo = QComboBox(self)
        self.combo.setObjectName("targetPicker")
        self.combo.setMinimumWidth(360)
        self.combo.setModel(QStandardItemModel(self.combo))
        self.combo.setToolTip("Running containers that serve a model (their image carries the "
                              "ai-container-studio.protocol label), or any server by URL")
        self.status = QLabel(self)
        self.status.setObjectName("targetStatus")
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.custom = QFrame(self)
        self.custom.setObjectName("customTarget")
        self.url = QLineEdit(self.custom)
        self.url.setObjectName("customUrl")
        self.url.setPlaceholderText("http://127.0.0.1:8080")
        self.protocol = QComboBox(self.custom)
        self.protocol.setObjectName("customProtocol")
        for key in PROTOCOLS:
            self.protocol.addItem(PROTOCOL_TITLES.get(key, key), key)
        self.model_name = QLineEdit(self.custom)
        self.model_name.setObjectName("customModel")
        self.model_name.setPlaceholderText("model name (v2 and TF Serving)")
        form = QFormLayout(self.custom)
        form.setContentsMargins(0, 4, 0, 0)
        form.addRow("URL", self.url)
        form.addRow("Protocol", self.protocol)
        form.addRow("Model", self.model_name)

        self.inputs = InputFields(self)
        self.apply = QPushButton("Connect", self)
        self.apply.setObjectName("targetApply")
        self.apply.setDefault(True)

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(QLabel("Model:", self))
        top.addWidget(self.combo)
        top.addWidget(self.status, 1)
        details = QHBoxLayout()
        details.setContentsMargins(0, 0, 0, 0)
        col = QVBoxLayout()
        col.addWidget(self.custom)
        col.addWidget(self.inputs)
        details.addLayout(col, 1)
        details.addWidget(self.apply, 0, Qt.AlignmentFlag.AlignBottom)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addLayout(details)

        self.combo.currentIndexChanged.connect(self._on_index)
        self.protocol.currentIndexChanged.connect(self._show_details)
        self.apply.clicked.connect(self._emit_current)
        self.url.returnPressed.connect(self._emit_current)
        self.services: list = []  # gui.predict.replicas.ServiceTarget of the engine's swarm
        self._fill([])

    # -- container list -------------------------------------------------------------------------------
    def set_containers(self, containers) -> None:
        """Offer the running containers that serve a model; keeps the choice while its container runs."""
        targets = find_targets(containers)
        if targets == self.targets and self.combo.count():
            return
        self.targets = targets
        self._fill(targets)

    def set_services(self, services: list) -> None:
        """Offer the swarm services that serve a model (``ServiceTarget``), after the containers."""
        if services != self.services:
            self.services = list(services)
            self._fill(self.targets)

    def _fill(self, targets: list[Target]) -> None:
        before = self.combo.currentData()
        model: QStandardItemModel = self.combo.model()
        self.combo.blockSignals(True)
        model.clear()
        if not any(t.usable for t in targets) and not self.services:
            item = QStandardItem("No running model found — start a serving container, or use a URL")
            item.setData(NONE, Qt.ItemDataRole.UserRole)
            model.appendRow(item)
        for t in targets:
            kind = kind_of(t.task)
            where = t.url.split("://", 1)[-1] if t.usable else "no host port"
            text = "  ·  ".join(filter(None, [t.name, kind and f"{kind} model", t.protocol, where]))
            item = QStandardItem(text)
            item.setData(f"container:{t.container_id}", Qt.ItemDataRole.UserRole)
            item.setData(kind, KIND_ROLE)
            item.setToolTip(t.problem or f"{t.task or 'model'} served at {t.url}")
            if not t.usable:
                item.setEnabled(False)
            model.appendRow(item)
        for s in self.services:
            item = QStandardItem(f"service {s.name}  ·  {s.replicas} replicas  ·  {s.protocol}")
            item.setData(f"service:{s.service_id}", Qt.ItemDataRole.UserRole)
            item.setData(kind_of(s.task), KIND_ROLE)
            item.setToolTip(f"Swarm service {s.name}: each picture goes to its least busy replica")
            model.appendRow(item)
        chosen = next((t for t in targets if t.usable and t.name == self.chosen_name), None)
        if self.chosen_name and chosen is None:
            item = QStandardItem(f"{self.chosen_name}  ·  stopped — waiting for it to run again")
            item.setData(STOPPED + self.chosen_name, Qt.ItemDataRole.UserRole)
            item.setToolTip("The model you chose is not running. Pictures sent to it wait until it runs "
                            "again; choose another model for new pictures.")
            model.appendRow(item)
        custom = QStandardItem("Custom URL…")
        custom.setData(CUSTOM, Qt.ItemDataRole.UserRole)
        model.appendRow(custom)
        if self.chosen_name:
            index = self.combo.findData(f"container:{chosen.container_id}" if chosen else STOPPED + self.chosen_name)
        else:
            index = self.combo.findData(before) if before else -1
        if index < 0 or not model.item(index).isEnabled():
            index = next((i for i in range(model.rowCount()) if model.item(i).isEnabled()
                          and str(model.item(i).data(Qt.ItemDataRole.UserRole)).startswith("container:")), 0)
        self.combo.setCurrentIndex(index)
        self.combo.blockSignals(False)
        if self.combo.currentData() != before or before is None:
            self._on_index()
        elif self.current_spec() != self._emitted:  # the same container on a new port or id
            self._emit_current()

    @property
    def stopped_name(self) -> str:
        """The chosen container's name while it is not running, else ""."""
        key = str(self.combo.currentData() or "")
        return key[len(STOPPED):] if key.startswith(STOPPED) else ""

    # -- choosing -------------------------------------------------------------------------------------
    def select(self, key: str) -> bool:
        """Choose ``container:<id>`` or ``custom``; False when no such entry."""
        index = self.combo.findData(key)
        if index >= 0:
            self.combo.setCurrentIndex(index)
        return index >= 0

    def use_url(self, url: str, protocol: str = "studio-v1", model: str = "") -> None:
        """Choose "Custom URL…" with these fields and connect (what a user does by typing them)."""
        self.url.setText(url)
        self.protocol.setCurrentIndex(max(0, self.protocol.findData(protocol)))
        self.model_name.setText(model)
        self.select(CUSTOM)
        self._emit_current()

    def current_spec(self) -> TargetSpec | None:
        key = self.combo.currentData()
        if key == CUSTOM:
            url = self.url.text().strip()
            if not url:
                return None
            return TargetSpec(name=url, protocol=self.protocol.currentData(), url=url,
                              model=self.model_name.text().strip(), overrides=self.inputs.overrides())
        if not key or key.startswith(STOPPED):
            return None
        if key.startswith("service:"):
            s = next((s for s in self.services if s.service_id == key.split(":", 1)[1]), None)
            if s is None:
                return None
            return TargetSpec(name=f"service {s.name}", protocol=s.protocol, url=f"swarm://{s.name}", task=s.task,
                              service_id=s.service_id, port=s.port)
        cid = key.split(":", 1)[1]
        t = next((t for t in self.targets if t.container_id == cid), None)
        if t is None or not t.usable:
            return None
        overrides = self.inputs.overrides() if t.protocol != "studio-v1" else Overrides()
        return TargetSpec(name=t.name, protocol=t.protocol, url=t.url, task=t.task, container_id=cid,
                          overrides=overrides)

    def _on_index(self, *_args) -> None:
        key = str(self.combo.currentData() or "")
        if key.startswith("container:"):
            t = next((t for t in self.targets if t.container_id == key.split(":", 1)[1]), None)
            self.chosen_name = t.name if t else self.chosen_name
        elif not key.startswith(STOPPED):
            self.chosen_name = ""
        self._show_details()
        if self.combo.currentData() == CUSTOM and not self.url.text().strip():
            self._emitted = None
            self.targetChanged.emit(None)
            self.url.setFocus()
            return
        self._emit_current()

    def _show_details(self, *_args) -> None:
        key = self.combo.currentData()
        custom = key == CUSTOM
        if custom:
            protocol = self.protocol.currentData()
        else:
            t = next((t for t in self.targets if key and t.container_id == key.split(":", 1)[-1]), None)
            protocol = t.protocol if t else "studio-v1"
        self.custom.setVisible(custom)
        self.model_name.setEnabled(protocol != "studio-v1")
        self.inputs.setVisible(protocol in ("v2", "tf-serving"))
        self.apply.setVisible(custom or protocol in ("v2", "tf-serving"))
        self.apply.setText("Connect" if custom else "Apply")

    def _emit_current(self) -> None:
        self._emitted = self.current_spec()
        self.targetChanged.emit(self._emitted)

    def set_status(self, text: str, ok: bool | None = None) -> None:
        set_role(self.status, {True: "ok", False: "error"}.get(ok, "muted"))
        self.status.setText(text)
        self.status.setToolTip(text)
