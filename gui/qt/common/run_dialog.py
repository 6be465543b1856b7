"""Run dialog: name, ports, mounts, environment, command, limits, restart policy, GPUs; shows `docker run`.

Safe defaults: a memory limit (half the engine host's memory, or the one chosen in Preferences), a
process limit, restart on failure for serving images, ports on 127.0.0.1. Secret variables (a token)
are masked in the environment table and named without their value in the equivalent command."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QStyledItemDelegate,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui.engine.actions import inspect_image
from gui.engine.runspec import (
    DEFAULT_PIDS_LIMIT,
    MIB,
    RESTART_POLICIES,
    MountSpec,
    PortSpec,
    RunSpec,
    default_memory_limit,
    has_nvidia_runtime,
    host_memory,
    looks_secret,
    run_container,
)
from gui.engine.volumes import list_volumes, volume_name_error
from gui.qt.common import preferences
from gui.qt.common.style import set_role
from gui.qt.common.tasks import Op, message_of, run, unless_bug


class EditableTable(QWidget):
    """A small table of text rows with Add and Remove buttons."""

    changed = Signal()

    def __init__(self, name: str, headers: list[str], parent=None, defaults: tuple[str, ...] = ()):
        super().__init__(parent)
        self.table = QTableWidget(0, len(headers), self)
        self.table.setObjectName(name)
        self.table.setHorizontalHeaderLabels(headers)
        self.table.verticalHeader().setVisible(False)
        # Columns as wide as their header (or value), the last one takes the rest: no header is cut.
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(len(headers) - 1, QHeaderView.ResizeMode.Stretch)
        self.table.setMaximumHeight(110)
        self.table.itemChanged.connect(lambda _i: self.changed.emit())
        add = QPushButton("Add", self)
        add.setObjectName(f"{name}Add")
        add.clicked.connect(lambda: self.add_row(*defaults))  # a row added by hand starts with these
        remove = QPushButton("Remove", self)
        remove.setObjectName(f"{name}Remove")
        remove.clicked.connect(self._remove_rows)
        self.buttons = QVBoxLayout()
        self.buttons.addWidget(add)
        self.buttons.addWidget(remove)
        self.buttons.addStretch(1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table, 1)
        layout.addLayout(self.buttons)

    def add_row(self, *values: str) -> None:
        row = self.table.rowCount()
        self.table.blockSignals(True)
        self.table.insertRow(row)
        for col in range(self.table.columnCount()):
            self.table.setItem(row, col, QTableWidgetItem(values[col] if col < len(values) else ""))
        self.table.blockSignals(False)
        self.changed.emit()

    def _remove_rows(self) -> None:
        for row in sorted({i.row() for i in self.table.selectedIndexes()}, reverse=True):
            self.table.removeRow(row)
        self.changed.emit()

    def rows(self) -> list[list[str]]:
        out = []
        for r in range(self.table.rowCount()):
            vals = [(self.table.item(r, c).text().strip() if self.table.item(r, c) else "")
                    for c in range(self.table.columnCount())]
            if any(vals):
                out.append(vals)
        return out


MASK = "•" * 10


class SecretValueDelegate(QStyledItemDelegate):
    """Shows the value column of a secret variable as dots and edits it as a password."""

    def __init__(self, is_secret, parent=None):
        super().__init__(parent)
        self.is_secret = is_secret  # fn(row) -> bool

    def initStyleOption(self, option, index) -> None:
        super().initStyleOption(option, index)
        if self.is_secret(index.row()) and option.text:
            option.text = MASK

    def createEditor(self, parent, option, index):
        editor = super().createEditor(parent, option, index)
        if isinstance(editor, QLineEdit) and self.is_secret(index.row()):
            editor.setEchoMode(QLineEdit.EchoMode.Password)
        return editor


def _port(text: str, what: str, problems: list[str]) -> int | None:
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        problems.append(f"{what} {text!r} is not a number")
        return None


class RunDialog(QDialog):
    started = Signal(str)  # the new container's name (or short id)

    def __init__(self, session, image: str, parent=None):
        super().__init__(parent)
        self.session = session
        self.image = image
        self.setObjectName("runDialog")
        self.setWindowTitle(f"Run {image}")
        self.resize(720, 640)

        self.name = QLineEdit(self)
        self.name.setObjectName("runName")
        self.name.setPlaceholderText("optional: the engine picks a name")
        self.ports = EditableTable("runPorts", ["Host IP", "Host port (empty: any free)", "Container port", "Protocol"],
                                   self, defaults=("127.0.0.1", "", "", "tcp"))
        self.mounts = EditableTable("runMounts", ["Host folder or volume name", "Container path", "Read-only (yes/no)"], self)
        browse = QPushButton("Folder…", self.mounts)
        browse.setObjectName("runMountsBrowse")
        browse.clicked.connect(self._browse)
        self.mounts.buttons.insertWidget(2, browse)
        volume = QPushButton("Volume…", self.mounts)
        volume.setObjectName("runMountsVolume")
        volume.setToolTip("Mount one of the engine's volumes, or a new one by name")
        volume.clicked.connect(self._pick_volume)
        self.mounts.buttons.insertWidget(3, volume)
        self.volume_button = volume
        self.volumes: list[str] | None = None  # the engine's volumes, once read (off the UI thread)
        self.volume_note = QLabel(self)
        self.volume_note.setObjectName("runVolumeNote")
        self.volume_note.setWordWrap(True)
        set_role(self.volume_note, "muted")
        self.volume_note.hide()
        self.env = EditableTable("runEnv", ["Variable", "Value"], self)
        self.secret_env: set[str] = set()  # besides names that look secret (looks_secret)
        self.env.table.setItemDelegateForColumn(1, SecretValueDelegate(self._is_secret_row, self.env.table))
        self.command = QLineEdit(self)
        self.command.setObjectName("runCommand")
        self.command.setPlaceholderText("optional: the image's default command")
        self.restart = QComboBox(self)
        self.restart.setObjectName("runRestart")
        self.restart.addItems(list(RESTART_POLICIES))
        self.memory = QSpinBox(self)
        self.memory.setObjectName("runMemory")
        self.memory.setRange(0, 1024 * 1024)
        self.memory.setSingleStep(256)
        self.memory.setSuffix(" MB")
        self.memory.setSpecialValueText("no limit")
        self.memory.setToolTip("--memory: the container is stopped (out of memory) beyond this; "
                               "the default is half the engine's memory, or the one set in Preferences")
        self.pids = QSpinBox(self)
        self.pids.setObjectName("runPidsLimit")
        self.pids.setRange(0, 1_000_000)
        self.pids.setSpecialValueText("no limit")
        self.pids.setValue(DEFAULT_PIDS_LIMIT)
        self.pids.setToolTip("--pids-limit: how many processes and threads the container may have")
        self._restart_touched = False
        self._memory_touched = False
        self.restart.activated.connect(lambda _i: setattr(self, "_restart_touched", True))
        self.gpus = QCheckBox("Request all GPUs (--gpus all)", self)
        self.gpus.setObjectName("runGpus")
        runtimes = getattr(session.info, "runtimes", ()) if session.info else ()
        self.gpus.setVisible(has_nvidia_runtime(runtimes))
        self.auto_remove = QCheckBox("Remove the container when it exits (--rm)", self)
        self.auto_remove.setObjectName("runAutoRemove")

        self.preview = QPlainTextEdit(self)
        self.preview.setObjectName("runCommandPreview")
        self.preview.setReadOnly(True)
        self.preview.setMaximumHeight(70)
        copy = QPushButton("Copy", self)
        copy.setObjectName("runCopyCommand")
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.preview.toPlainText()))
        self.problems = QLabel(self)
        self.problems.setObjectName("runProblems")
        self.problems.setWordWrap(True)
        set_role(self.problems, "error")
        self.warnings = QLabel(self)
        self.warnings.setObjectName("runWarnings")
        self.warnings.setWordWrap(True)
        set_role(self.warnings, "warning")
        self.warnings.hide()
        self.run_button = QPushButton("Run", self)
        self.run_button.setObjectName("runButton")
        self.run_button.setDefault(True)
        self.run_button.clicked.connect(self._on_run)
        cancel = QPushButton("Cancel", self)
        cancel.clicked.connect(self.reject)

        form = QFormLayout()
        form.addRow("Image", QLabel(image, self))
        form.addRow("Name", self.name)
        form.addRow("Published ports", self.ports)
        form.addRow("Volumes and folders", self.mounts)
        form.addRow("", self.volume_note)
        form.addRow("Environment", self.env)
        form.addRow("Command", self.command)
        form.addRow("Memory limit", self.memory)
        form.addRow("Process limit", self.pids)
        form.addRow("Restart policy", self.restart)
        form.addRow("", self.gpus)
        form.addRow("", self.auto_remove)
        cmd_row = QHBoxLayout()
        cmd_row.addWidget(self.preview, 1)
        cmd_row.addWidget(copy)
        buttons = QHBoxLayout()
        buttons.addWidget(self.problems, 1)
        buttons.addWidget(cancel)
        buttons.addWidget(self.run_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel("Equivalent command:", self))
        layout.addLayout(cmd_row)
        layout.addWidget(self.warnings)
        layout.addLayout(buttons)

        for sig in (self.name.textChanged, self.command.textChanged, self.ports.changed, self.mounts.changed,
                    self.env.changed, self.restart.currentIndexChanged, self.gpus.toggled,
                    self.auto_remove.toggled, self.memory.valueChanged, self.pids.valueChanged):
            sig.connect(self._update)
        self.memory.editingFinished.connect(lambda: setattr(self, "_memory_touched", True))
        self._update()
        engine, image = session.engine, self.image
        run(self, lambda: inspect_image(engine, image), self._on_image, unless_bug(lambda _exc: None), session.reads)
        self._read_volumes()
        chosen = preferences.memory_limit_mb()
        if chosen:
            self.memory.setValue(chosen)
        else:
            run(self, lambda: host_memory(engine), self._on_host_memory, unless_bug(lambda _exc: None),
                session.reads)

    def mark_secret(self, name: str) -> None:
        """Treat the variable ``name`` as a password (masked), whatever its name looks like."""
        self.secret_env.add(name)
        self.env.table.viewport().update()
        self._update()

    def is_secret_env(self, name: str) -> bool:
        return name in self.secret_env or looks_secret(name)

    def _is_secret_row(self, row: int) -> bool:
        item = self.env.table.item(row, 0)
        return item is not None and self.is_secret_env(item.text().strip())

    def _on_host_memory(self, total: int) -> None:
        if not self._memory_touched and total:
            self.memory.setValue(default_memory_limit(total) // MIB)

    def _on_image(self, data: dict) -> None:
        labels = (data.get("Config") or {}).get("Labels") or {}
        if "ai-container-studio.protocol" in labels and not self._restart_touched:
            # A model server should come back after a crash (out of memory, say), not stay down.
            self.restart.setCurrentText("on-failure")
        self._offer_ports(data)

    def _offer_ports(self, data: dict) -> None:
        """Offer the image's exposed ports, published on 127.0.0.1 on any free host port."""
        exposed = sorted((data.get("Config") or {}).get("ExposedPorts") or {})
        if self.ports.rows():
            return
        for key in exposed:
            port, _, proto = key.partition("/")
            self.ports.add_row("127.0.0.1", "", port, proto or "tcp")

    def _browse(self) -> None:
        dlg = QFileDialog(self, "Folder to mount")
        dlg.setFileMode(QFileDialog.FileMode.Directory)
        dlg.fileSelected.connect(lambda path: self.mounts.add_row(path, "/data", "no"))
        dlg.open()

    # -- volumes ----------------------------------------------------------------------
    def _read_volumes(self, then=None) -> None:
        engine = self.session.engine

        def done(volumes) -> None:
            self.volumes = [v.name for v in volumes]
            self._update()
            if then is not None:
                then()

        def failed(_exc: BaseException | None = None) -> None:
            if then is not None:
                then()  # the menu with the volumes known so far

        run(self, lambda: list_volumes(engine), done, unless_bug(failed, failed), self.session.reads)

    def _pick_volume(self) -> None:
        """A menu of the engine's volumes (read again, off the UI thread), and a new one by name."""
        self.volume_button.setEnabled(False)
        self._read_volumes(self._show_volume_menu)

    def _show_volume_menu(self) -> None:
        self.volume_button.setEnabled(True)
        if getattr(self, "volume_menu", None) is not None:
            self.volume_menu.deleteLater()
        menu = QMenu(self)
        menu.setObjectName("runVolumeMenu")
        for name in self.volumes or []:
            menu.addAction(name, lambda n=name: self.add_volume(n))
        if not self.volumes:
            menu.addAction("The engine has no volumes yet").setEnabled(False)
        menu.addSeparator()
        new = menu.addAction("New volume…", self._new_volume)
        new.setObjectName("runNewVolume")
        self.volume_menu = menu
        menu.popup(self.volume_button.mapToGlobal(self.volume_button.rect().bottomLeft()))

    def add_volume(self, name: str, target: str = "/data") -> None:
        self.mounts.add_row(name, target, "no")

    def _new_volume(self) -> None:
        """A row whose name the user types: the engine creates the volume when the container starts."""
        self.mounts.add_row("", "/data", "no")
        table = self.mounts.table
        table.setCurrentCell(table.rowCount() - 1, 0)
        table.editItem(table.item(table.rowCount() - 1, 0))
        self.volume_note.setText("Type the new volume's name in the first column: the engine creates it "
                                 "when the container starts.")
        self.volume_note.show()

    def _volume_note(self, mounts) -> str:
        if self.volumes is None:
            return ""
        new = [m.source for m in mounts
               if not m.is_bind and m.source not in self.volumes and not volume_name_error(m.source)]
        if not new:
            return ""
        names = ", ".join(new)
        return (f"New volume{'s' if len(new) > 1 else ''} {names}: the engine creates "
                f"{'them' if len(new) > 1 else 'it'} when the container starts.")

    def spec(self) -> tuple[RunSpec, list[str]]:
        problems: list[str] = []
        ports = []
        for ip, host, cport, proto in self.ports.rows():
            c = _port(cport, "container port", problems)
            if c is None:
                if not cport:
                    problems.append("every published port needs a container port")
                continue
            ports.append(PortSpec(c, _port(host, "host port", problems), ip, proto or "tcp"))
        mounts = []
        for src, target, ro in self.mounts.rows():
            if not src or not target:
                problems.append("every volume needs a host folder (or volume name) and a container path")
                continue
            mounts.append(MountSpec(src, target, ro.lower() in ("yes", "y", "true", "ro", "1")))
        env = tuple((k, v) for k, v in self.env.rows())
        spec = RunSpec(
            image=self.image, name=self.name.text().strip(), ports=tuple(ports), mounts=tuple(mounts), env=env,
            command=self.command.text().strip(), restart=self.restart.currentText(),
            gpus=self.gpus.isVisible() and self.gpus.isChecked(), auto_remove=self.auto_remove.isChecked(),
            memory=self.memory.value() * MIB, pids_limit=self.pids.value(),
        )
        local = self.session.engine.url.startswith(("unix://", "npipe://"))
        return spec, problems + spec.problems(local_engine=local)

    def _update(self, *args) -> None:
        spec, problems = self.spec()
        hidden = sorted({k for k, _v in spec.env if self.is_secret_env(k)})
        note = "".join(f"# {k} is not shown: set it in your shell first (export {k}=...)\n" for k in hidden)
        self.preview.setPlainText(note + spec.cli(hide_env=hidden))
        self.problems.setText("\n".join(f"⚠ {p}" for p in problems))
        warnings = spec.warnings()
        self.warnings.setText("\n".join(f"⚠ {w}" for w in warnings))
        self.warnings.setVisible(bool(warnings))
        note = self._volume_note(spec.mounts)
        if note or not any(not row[0] for row in self.mounts.rows()):  # else the user is typing a new name
            self.volume_note.setText(note)
            self.volume_note.setVisible(bool(note))
        self.run_button.setEnabled(not problems)
        self.run_button.setToolTip("Cannot run: " + "; ".join(problems) if problems else "")

    def _on_run(self) -> None:
        spec, problems = self.spec()
        if problems:
            return
        self.run_button.setEnabled(False)
        self.problems.setText("Starting…")
        engine = self.session.engine
        Op(self, lambda: run_container(engine, spec)).success(
            lambda cid: self._on_started(spec, cid)).failure(self._on_run_failed).run(self.session.changes)

    def _on_started(self, spec: RunSpec, cid: str) -> None:
        self.started.emit(spec.name or cid[:12])
        self.accept()

    def _on_run_failed(self, exc: BaseException) -> None:
        self.problems.setText(f"⚠ {message_of(exc)}")  # the form stays as the user filled it
        self.run_button.setEnabled(True)
