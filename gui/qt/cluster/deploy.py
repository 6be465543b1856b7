"""*Deploy as service…*: name, replicas, port and publish mode, limits and reservations, placement,
restart and update policy, environment; shows the equivalent ``docker service create`` with Copy.

The image's HEALTHCHECK decides when a task is running (swarm waits for it). When the swarm has more
than one node and the image exists only on this engine, the dialog says the other nodes cannot get it.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
)

from gui.engine.service_spec import RESTART_CONDITIONS, ServiceSpec
from gui.qt.common import style
from gui.qt.common.tasks import Op, Stream, unless_bug

PROTOCOL_PORT = "ai-container-studio.port"


def image_is_local_only(image_data: dict) -> bool:
    """True when the image has no registry digest: no other node can pull it."""
    return not [d for d in image_data.get("RepoDigests") or [] if d and not d.startswith("<none>")]


class DeployDialog(QDialog):
    """Emits ``deployed(service_id, spec)`` once the engine accepted the service."""

    deployed = Signal(str, object)

    def __init__(self, session, image: str, nodes: list, parent=None):
        super().__init__(parent)
        self.session = session
        self.nodes = nodes
        self.setObjectName("deployDialog")
        self.setWindowTitle(f"Deploy {image} as a service")
        self.resize(640, 720)
        stem = image.rsplit("/", 1)[-1].split(":")[0].split("@")[0]
        self.name = QLineEdit(stem.replace("_", "-"), self)
        self.name.setObjectName("deployName")
        self.image = QLineEdit(image, self)
        self.image.setObjectName("deployImage")
        self.replicas = QSpinBox(self)
        self.replicas.setObjectName("deployReplicas")
        self.replicas.setRange(0, 1000)
        self.replicas.setValue(max(1, len(nodes)))
        self.target_port = QSpinBox(self)
        self.target_port.setObjectName("deployTargetPort")
        self.target_port.setRange(1, 65535)
        self.target_port.setValue(8080)
        self.published = QSpinBox(self)
        self.published.setObjectName("deployPublished")
        self.published.setRange(0, 65535)
        self.published.setSpecialValueText("picked by the engine")
        self.publish_mode = QComboBox(self)
        self.publish_mode.setObjectName("deployPublishMode")
        self.publish_mode.addItem("host: each task on its node's own port", "host")
        self.publish_mode.addItem("ingress: the routing mesh, one port on every node", "ingress")
        self.cpu_limit = self._cpus("deployCpuLimit")
        self.cpu_reserve = self._cpus("deployCpuReserve")
        self.mem_limit = QLineEdit("1g", self)
        self.mem_limit.setObjectName("deployMemLimit")
        self.mem_reserve = QLineEdit("", self)
        self.mem_reserve.setObjectName("deployMemReserve")
        self.mem_reserve.setPlaceholderText("e.g. 256m")
        self.constraints = QComboBox(self)
        self.constraints.setObjectName("deployConstraint")
        self.constraints.setEditable(True)
        self.constraints.addItem("")
        for c in ["node.role==manager", "node.role==worker", *sorted({f"node.labels.{k}=={v}" for n in nodes
                                                                      for k, v in n.labels}),
                  *[f"node.hostname=={n.hostname}" for n in nodes]]:
            self.constraints.addItem(c)
        self.restart = QComboBox(self)
        self.restart.setObjectName("deployRestart")
        self.restart.addItems(list(RESTART_CONDITIONS))
        self.parallelism = QSpinBox(self)
        self.parallelism.setObjectName("deployParallelism")
        self.parallelism.setRange(0, 100)
        self.parallelism.setValue(1)
        self.delay = QDoubleSpinBox(self)
        self.delay.setObjectName("deployDelay")
        self.delay.setRange(0, 3600)
        self.delay.setSuffix(" s")
        self.start_first = QCheckBox("start the new task before stopping the old one (start-first)", self)
        self.start_first.setObjectName("deployStartFirst")
        self.start_first.setChecked(True)
        self.rollback = QCheckBox("roll back by itself when new tasks fail", self)
        self.rollback.setObjectName("deployRollback")
        self.rollback.setChecked(True)
        self.env = QPlainTextEdit(self)
        self.env.setObjectName("deployEnv")
        self.env.setPlaceholderText("NAME=value, one a line (set at run time, never in an image layer)")
        self.env.setFixedHeight(60)
        self.warning = QLabel(self)
        self.warning.setObjectName("deployWarning")
        self.warning.setWordWrap(True)
        style.set_role(self.warning, "warning")
        # Local-only image on a multi-node swarm: push it to a registry every node reaches, deploy that.
        self.push_to = QLineEdit(self)
        self.push_to.setObjectName("deployPushTo")
        self.push_to.setPlaceholderText("registry.example:5000/team/model:1")
        self.push_button = QPushButton("Push and deploy that", self)
        self.push_button.setObjectName("deployPush")
        self.push_button.clicked.connect(self.push)
        self.push_progress = QProgressBar(self)
        self.push_progress.setObjectName("deployPushProgress")
        self.push_progress.setFormat("%v of %m layers pushed")
        self.push_row = QHBoxLayout()
        for w in (self.push_to, self.push_button, self.push_progress):
            self.push_row.addWidget(w)
            w.hide()
        self._push_stream: Stream | None = None
        self._layers: dict[str, bool] = {}
        self.problem = QLabel(self)
        self.problem.setObjectName("deployProblem")
        self.problem.setWordWrap(True)
        style.set_role(self.problem, "error")
        self.cli = QPlainTextEdit(self)
        self.cli.setObjectName("deployCli")
        self.cli.setReadOnly(True)
        self.cli.setFixedHeight(90)
        copy = QPushButton("Copy", self)
        copy.setObjectName("deployCopy")
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.cli.toPlainText()))

        form = QFormLayout()
        form.addRow("Name:", self.name)
        form.addRow("Image:", self.image)
        form.addRow("Replicas:", self.replicas)
        form.addRow("Container port:", self.target_port)
        form.addRow("Published port:", self.published)
        form.addRow("Publish mode:", self.publish_mode)
        form.addRow("CPU limit / reservation:", self._pair(self.cpu_limit, self.cpu_reserve))
        form.addRow("Memory limit / reservation:", self._pair(self.mem_limit, self.mem_reserve))
        form.addRow("Placement:", self.constraints)
        form.addRow("Restart:", self.restart)
        form.addRow("Update parallelism / delay:", self._pair(self.parallelism, self.delay))
        form.addRow("", self.start_first)
        form.addRow("", self.rollback)
        form.addRow("Environment:", self.env)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel,
                                        self)
        self.deploy_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.deploy_button.setText("Deploy")
        self.deploy_button.setObjectName("deployButton")
        self.buttons.accepted.connect(self._on_deploy)
        self.buttons.rejected.connect(self.reject)
        cli_row = QHBoxLayout()
        cli_row.addWidget(self.cli, 1)
        cli_row.addWidget(copy)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.warning)
        layout.addLayout(self.push_row)
        layout.addWidget(QLabel("The same with the Docker CLI:", self))
        layout.addLayout(cli_row)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        for sig in (self.name.textChanged, self.image.textChanged, self.replicas.valueChanged,
                    self.target_port.valueChanged, self.published.valueChanged, self.publish_mode.currentIndexChanged,
                    self.cpu_limit.valueChanged, self.cpu_reserve.valueChanged, self.mem_limit.textChanged,
                    self.mem_reserve.textChanged, self.constraints.currentTextChanged, self.restart.currentIndexChanged,
                    self.parallelism.valueChanged, self.delay.valueChanged, self.start_first.toggled,
                    self.rollback.toggled, self.env.textChanged):
            sig.connect(self._update)
        self._update()
        self._read_image(image)

    def _cpus(self, name: str) -> QDoubleSpinBox:
        box = QDoubleSpinBox(self)
        box.setObjectName(name)
        box.setRange(0, 256)
        box.setDecimals(2)
        box.setSingleStep(0.5)
        box.setSpecialValueText("none")
        return box

    def _pair(self, a, b):
        row = QHBoxLayout()
        row.addWidget(a)
        row.addWidget(b)
        return row

    def _read_image(self, image: str) -> None:
        engine = self.session.engine
        Op(self, lambda: engine.call(lambda api: api.inspect_image(image)), "Could not read the image") \
            .success(self._on_image).failure(lambda exc: None).run(self.session.reads)

    def _on_image(self, data: dict) -> None:
        port = ((data.get("Config") or {}).get("Labels") or {}).get(PROTOCOL_PORT)
        if port and port.isdigit():
            self.target_port.setValue(int(port))
        if len(self.nodes) > 1 and image_is_local_only(data):
            self.warning.setText(
                f"⚠ {self.image.text()} exists only on this engine: the other {len(self.nodes) - 1} node(s) "
                "cannot get it and their tasks will fail with 'No such image'. Push it to a registry every "
                "node reaches and deploy the pushed reference (or load it on each node).")
            self.push_to.show()
            self.push_button.show()

    # -- push (the engine's own push, with progress) -------------------------------------------------------
    def push(self) -> None:
        from gui.engine.actions import tag_image
        from gui.engine.registry import push

        ref = self.push_to.text().strip()
        if not ref:
            self.problem.setText("⚠ Give the registry reference to push to (registry:port/repository:tag).")
            return
        engine, image = self.session.engine, self.image.text().strip()
        self.push_button.setEnabled(False)
        self.deploy_button.setEnabled(False)
        self._layers = {}
        self.push_progress.setRange(0, 0)
        self.push_progress.show()

        def start(_none) -> None:
            self._push_stream = Stream(self, push(engine, ref), "deploy-push")
            self._push_stream.item.connect(self._on_push_item)
            self._push_stream.failed.connect(unless_bug(self._on_push_failed, self._push_stopped))
            self._push_stream.start()

        Op(self, lambda: tag_image(engine, image, ref), "Tag failed").success(start) \
            .failure(self._on_push_failed).run(self.session.changes)

    def _on_push_item(self, item) -> None:
        from gui.engine.registry import LayerProgress, TransferResult

        if isinstance(item, LayerProgress):
            self._layers[item.id] = item.done
            self.push_progress.setRange(0, len(self._layers))
            self.push_progress.setValue(sum(self._layers.values()))
        elif isinstance(item, TransferResult):
            self.push_progress.setRange(0, max(1, len(self._layers)))
            self.push_progress.setValue(self.push_progress.maximum())
            self.image.setText(item.reference)
            self.warning.setText(f"Pushed {item.reference}: every node pulls it from there.")
            for w in (self.push_to, self.push_button):
                w.hide()
            self._update()

    def _on_push_failed(self, exc) -> None:
        self._push_stopped()
        self.problem.setText("\n".join(filter(None, (f"⚠ Push failed: {exc}", self.problem.text()))))

    def _push_stopped(self) -> None:
        self.push_button.setEnabled(True)
        self.push_progress.hide()
        self._update()  # first: it rewrites the problem line from the form's own checks

    def done(self, result: int) -> None:
        if self._push_stream is not None:
            self._push_stream.stop()
        super().done(result)

    def spec(self) -> ServiceSpec:
        env = []
        for line in self.env.toPlainText().splitlines():
            if line.strip():
                k, _eq, v = line.partition("=")
                env.append((k.strip(), v))
        constraint = self.constraints.currentText().strip()
        return ServiceSpec(
            name=self.name.text().strip(), image=self.image.text().strip(), replicas=self.replicas.value(),
            target_port=self.target_port.value(), published_port=self.published.value(),
            publish_mode=self.publish_mode.currentData(), cpu_limit=self.cpu_limit.value(),
            memory_limit=self.mem_limit.text().strip(), cpu_reservation=self.cpu_reserve.value(),
            memory_reservation=self.mem_reserve.text().strip(), constraints=(constraint,) if constraint else (),
            restart_condition=self.restart.currentText(), update_parallelism=self.parallelism.value(),
            update_delay_s=self.delay.value(), update_order="start-first" if self.start_first.isChecked() else "stop-first",
            rollback_on_failure=self.rollback.isChecked(), env=tuple(env))

    def _update(self, *args) -> None:
        spec = self.spec()
        problems = spec.problems()
        self.problem.setText("\n".join(f"⚠ {p}" for p in problems))
        self.deploy_button.setEnabled(not problems)
        secret = tuple(k for k, _v in spec.env if any(w in k.upper() for w in ("TOKEN", "SECRET", "PASSWORD", "KEY")))
        self.cli.setPlainText(spec.cli(secret) if not problems else "")

    def _on_deploy(self) -> None:
        from gui.engine.services import create_service

        spec = self.spec()
        engine = self.session.engine
        self.deploy_button.setEnabled(False)

        def done(service_id) -> None:
            self.deployed.emit(service_id, spec)
            self.accept()

        def failed(exc) -> None:
            self.problem.setText(f"⚠ {exc}")
            self.deploy_button.setEnabled(True)

        Op(self, lambda: create_service(engine, spec), "Deploy failed").success(done).failure(failed) \
            .run(self.session.changes)
