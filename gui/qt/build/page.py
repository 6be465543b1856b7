"""The Build page: template chooser, form (left), live Dockerfile (right), build log and history (below)."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from gui.builder import (
    TemplateError,
    ValidationError,
    get_template,
    lint_dockerfile,
    lint_values,
    list_templates,
    render_dockerfile,
    run_settings,
)
from gui.builder.history import BuildRecord, HistoryStore
from gui.qt.build.files import RecipeActions
from gui.qt.build.form import BuildForm
from gui.qt.build.history import BuildHistoryModel
from gui.qt.build.log import BuildLogView
from gui.qt.build.preview import DockerfilePreview
from gui.qt.build.runner import BuildOutcome, BuildRunner
from gui.qt.common.tasks import Task

STATUS_COLORS = {"succeeded": "#1e7b34", "failed": "#b3261e", "cancelled": "#8a5a00", "": ""}


class BuildPage(QWidget):
    """Fill the form, watch the Dockerfile, build it and follow the log; `buildFinished(BuildOutcome)`."""

    buildFinished = Signal(object)

    def __init__(self, window, parent=None, history: HistoryStore | None = None):
        super().__init__(parent)
        self.setObjectName("buildPage")
        self.main_window = window
        self._check: tuple[dict, dict[str, str], dict[str, str]] | None = None
        self.template = None
        self.runner: BuildRunner | None = None
        self.record: BuildRecord | None = None
        self.last_build: tuple | None = None  # (template, build values, run values, tag) of the last success
        self.run_dialog = None
        self._building: tuple | None = None
        self.store = history or HistoryStore()

        self.chooser = QComboBox(self)
        self.chooser.setObjectName("templateChooser")
        self.description = QLabel(self)
        self.description.setObjectName("templateDescription")
        self.description.setWordWrap(True)
        self.description.setStyleSheet("color: palette(placeholder-text);")
        self.files = RecipeActions(self)

        self.form = BuildForm(self)
        scroll = QScrollArea(self)
        scroll.setObjectName("builderFormScroll")
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.form)
        scroll.setMinimumWidth(400)
        self.preview = DockerfilePreview(self)

        self.build_button = QPushButton("Build", self)
        self.build_button.setObjectName("buildButton")
        self.build_button.setDefault(True)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setObjectName("buildCancel")
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar(self)
        self.progress.setObjectName("buildProgress")
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("Not started")
        self.progress.setTextVisible(True)
        self.status = QLabel(self)
        self.status.setObjectName("buildStatus")
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # One line, always there: a new status text never re-lays out the page mid-build.
        self.status.setFixedHeight(self.status.sizeHint().height())
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.reason = QLabel(self)
        self.reason.setObjectName("buildReason")
        self.reason.setWordWrap(True)
        self.reason.setStyleSheet("color: #b3261e;")
        self.run_button = QPushButton("Run…", self)
        self.run_button.setObjectName("runBuilt")
        self.run_button.setEnabled(False)
        self.run_button.setToolTip("Open the Run dialog for the image the last build made")

        self.log = BuildLogView(self)
        self.history = BuildHistoryModel(self.store.load(), self)
        self.history_view = QTableView(self)
        self.history_view.setObjectName("buildHistory")
        self.history_view.setModel(self.history)
        self.history_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.history_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.history_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.history_view.verticalHeader().setVisible(False)
        self.history_view.setShowGrid(False)
        self.history_view.setWordWrap(False)
        header = self.history_view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self._layout(scroll)

        self.chooser.currentIndexChanged.connect(self._on_template_chosen)
        self.form.changed.connect(self._on_form_changed)
        self.preview.textChanged.connect(self._on_dockerfile_changed)
        self.build_button.clicked.connect(self.start_build)
        self.cancel_button.clicked.connect(self.cancel_build)
        self.run_button.clicked.connect(self.open_run_dialog)
        self.history_view.selectionModel().currentRowChanged.connect(self._on_history_row)
        self._attach_session(window.session)
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        if hasattr(window, "engineChanged"):
            window.engineChanged.connect(self._attach_session)
        for t in list_templates():
            self.chooser.addItem(t.title, t.name)
        default = self.chooser.findData("sklearn-regression")
        self.chooser.setCurrentIndex(max(default, 0))
        self._on_template_chosen()

    def _layout(self, scroll: QScrollArea) -> None:
        top = QHBoxLayout()
        top.addWidget(QLabel("Template:", self))
        top.addWidget(self.chooser)
        top.addWidget(self.description, 1)
        for b in self.files.buttons:
            top.addWidget(b)
        editor = QSplitter(Qt.Orientation.Horizontal, self)
        editor.setObjectName("builderSplitter")
        editor.addWidget(scroll)
        editor.addWidget(self.preview)
        editor.setStretchFactor(0, 2)
        editor.setStretchFactor(1, 3)
        editor.setChildrenCollapsible(False)
        bar = QHBoxLayout()
        bar.addWidget(self.build_button)
        bar.addWidget(self.cancel_button)
        bar.addWidget(self.progress, 1)
        bar.addWidget(self.run_button)
        below = QWidget(self)
        below_layout = QVBoxLayout(below)
        below_layout.setContentsMargins(0, 4, 0, 0)
        below_layout.addLayout(bar)
        below_layout.addWidget(self.reason)
        below_layout.addWidget(self.status)
        logs = QSplitter(Qt.Orientation.Horizontal, below)
        logs.addWidget(self._captioned("Build log", self.log))
        logs.addWidget(self._captioned("History", self.history_view))
        logs.setStretchFactor(0, 3)
        logs.setStretchFactor(1, 2)
        below_layout.addWidget(logs, 1)
        outer = QSplitter(Qt.Orientation.Vertical, self)
        outer.setObjectName("buildSplitter")
        outer.addWidget(editor)
        outer.addWidget(below)
        outer.setStretchFactor(0, 3)
        outer.setStretchFactor(1, 2)
        outer.setSizes([560, 300])
        outer.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 4)
        layout.addLayout(top)
        layout.addWidget(outer, 1)

    def _captioned(self, caption: str, widget: QWidget) -> QWidget:
        box = QWidget(self)
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(QLabel(f"<b>{caption}</b>", box))
        layout.addWidget(widget, 1)
        return box

    # -- engine -------------------------------------------------------------------------
    @property
    def session(self):
        return self.main_window.session

    def _attach_session(self, session) -> None:
        session.imagesLoaded.connect(self._on_images)
        images_model = getattr(self.main_window, "images_model", None)
        if images_model is not None:  # the page may be made after the lists loaded
            self._on_images(images_model.records())
        session.stateChanged.connect(lambda *_: self._update_build_button())
        self._update_build_button()

    def _on_images(self, images: list) -> None:
        self.form.set_local_images(sorted({i.reference for i in images}))

    # -- form and preview ---------------------------------------------------------------
    def set_template(self, name: str) -> None:
        i = self.chooser.findData(name)
        if i < 0:
            raise TemplateError(f"no template named {name!r}")
        if i == self.chooser.currentIndex():
            self._on_template_chosen()
        else:
            self.chooser.setCurrentIndex(i)

    def _on_template_chosen(self, *args) -> None:
        name = self.chooser.currentData()
        if not name:
            return
        self.template = get_template(name)
        self._check = None
        self.description.setText(self.template.description)
        self.description.setToolTip(self.template.description)
        self.form.set_template(self.template)

    def _checked(self) -> tuple[dict, dict[str, str], dict[str, str]]:
        """The form checked once per change: (clean build values, build errors, run errors)."""
        if self._check is None:
            if self.template is None:
                self._check = ({}, {}, {})
            else:
                clean, errors = self.template.check_build(self.form.build_values())
                _, run_errors = self.template.check_run(self.form.run_values())
                self._check = (clean, errors, run_errors)
        return self._check

    def field_errors(self) -> dict[str, str]:
        _, errors, run_errors = self._checked()
        return {**errors, **run_errors}

    def _on_form_changed(self) -> None:
        self._check = None
        if self.template is None:
            return
        values = self.form.build_values()
        _, errors, _ = self._checked()
        self.form.show_errors(self.field_errors())
        if errors:
            self.preview.set_stale("Not updated: fix the fields marked in red")
        else:
            try:
                self.preview.set_rendered(render_dockerfile(self.template, values))
                self.preview.set_stale("")
            except (ValidationError, ValueError) as exc:
                self.preview.set_stale(f"Cannot render: {exc}")
        self._on_dockerfile_changed()

    def _on_dockerfile_changed(self) -> None:
        if self.template is None:
            return
        clean, _, _ = self._checked()
        self.preview.set_lint(lint_dockerfile(self.preview.dockerfile()) + lint_values(clean))
        self._update_build_button()

    def build_problems(self) -> list[str]:
        """Why Build is not possible now (empty: it is)."""
        problems = []
        if self.template is None:
            return ["choose a template"]
        _, errors, _ = self._checked()
        problems += [f"{self.form.field_label(k)}: {v}" for k, v in errors.items()]
        text = self.preview.dockerfile()
        if not text.strip():
            problems.append("the Dockerfile is empty")
        problems += [f"Dockerfile: {w.message}" for w in lint_dockerfile(text) if w.severity == "error"]
        if self.runner is not None:
            problems.append("a build is running")
        if self.session.state != "connected":
            problems.append("not connected to the engine")
        return problems

    def _update_build_button(self) -> None:
        problems = self.build_problems()
        self.build_button.setEnabled(not problems)
        shown = [p for p in problems if p != "a build is running"]
        self.build_button.setToolTip("Cannot build: " + "; ".join(problems) if problems else
                                     "Build the image with the Dockerfile shown")
        self.reason.setText("Cannot build: " + "; ".join(shown) if shown else "")
        self.reason.setVisible(bool(shown))
        self.files.update_enabled(not any(k for k in self._build_errors()))

    def _build_errors(self) -> dict[str, str]:
        return self._checked()[1]

    # -- building -----------------------------------------------------------------------
    def start_build(self) -> None:
        if self.build_problems():
            return
        t = self.template
        values = self.form.build_values()
        clean = t.clean_build(values)
        tag = clean["tag"]
        self.record = BuildRecord(started=time.time(), template=t.name, tag=tag)
        self.history.add(self.record)
        self.log.clear()
        self.progress.setRange(0, 0)  # busy until the first "Step n/m"
        self.progress.setFormat("Starting…")
        self._set_status("", "")
        self.run_button.setEnabled(False)
        self._building = (t, values, self.form.run_values(), tag)
        self.runner = BuildRunner(self.session, t, values, self.preview.dockerfile(), tag, parent=self)
        self.runner.lines.connect(self._on_lines)
        self.runner.progress.connect(self._on_progress)
        self.runner.stage.connect(lambda text: self._set_status(text, ""))
        self.runner.finished.connect(self._on_finished)
        self.cancel_button.setEnabled(True)
        self._update_build_button()
        self.runner.start()

    def cancel_build(self) -> None:
        if self.runner is not None:
            self.cancel_button.setEnabled(False)
            self.runner.cancel()

    def _on_lines(self, batch: list) -> None:
        self.log.add_lines(batch)
        if self.record is not None:
            self.record.log.extend(line.text for line in batch)

    def _on_progress(self, step: int, total: int) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(step)
        self.progress.setFormat("Step %v/%m")

    def _on_finished(self, outcome: BuildOutcome) -> None:
        runner, self.runner = self.runner, None
        runner.deleteLater()
        self.cancel_button.setEnabled(False)
        r = self.record
        r.result = outcome.status
        r.duration = time.time() - r.started
        r.image_id = outcome.image_id
        r.error = outcome.error
        r.failed_step = outcome.step
        self.history.updated(r)
        data, store = HistoryStore.snapshot(self.history.records), self.store
        Task(self, lambda: store.write(data)).start()
        if self.progress.maximum() == 0:
            self.progress.setRange(0, 1)
        if outcome.status == "succeeded":
            self.progress.setValue(self.progress.maximum())
            self.progress.setFormat("Built")
            short = outcome.image_id.removeprefix("sha256:")[:12]
            self._set_status(f"Built {r.tag} ({short}) in {r.duration:.1f} s", "succeeded")
            self.last_build = self._building
            self.run_button.setEnabled(True)
        elif outcome.status == "cancelled":
            self.progress.setFormat("Cancelled at step %v/%m")
            self._set_status("Build cancelled: the engine stopped it and no image was tagged.", "cancelled")
        else:
            self.progress.setFormat("Failed at step %v/%m" if outcome.step else "Failed")
            where = f"Step {outcome.step} ({outcome.instruction}) failed: " if outcome.step else "Build failed: "
            self._set_status(where + outcome.error, "failed")
        self._update_build_button()
        self.buildFinished.emit(outcome)

    def _set_status(self, text: str, kind: str) -> None:
        first = text.splitlines()[0] if text else ""
        self.status.setText(first)
        self.status.setToolTip(text)
        color = STATUS_COLORS.get(kind, "")
        self.status.setStyleSheet(f"color: {color}; font-weight: bold;" if color else "")

    def _on_history_row(self, current, _previous) -> None:
        if self.runner is not None or not current.isValid():
            return
        r = self.history.records[current.row()]
        lines = r.log if not r.lines_dropped else [f"… {r.lines_dropped} earlier lines not kept", *r.log]
        self.log.set_text_lines(lines)

    # -- after a build ------------------------------------------------------------------
    def open_run_dialog(self):
        """The Run dialog for the last built image, with the run fields as its defaults."""
        from gui.qt.common.run_dialog import RunDialog

        if self.last_build is None:
            return None
        template, build_values, _, tag = self.last_build
        dlg = RunDialog(self.session, tag, self)
        try:
            settings = run_settings(template, build_values, self.form.run_values()
                                    if self.template is template else {})
        except ValidationError:
            settings = None
        if settings is not None:
            for container_port, host_port in settings.ports.items():
                if container_port <= 0:
                    continue  # the app listens on no port
                dlg.ports.add_row(settings.host_ip, str(host_port or ""), str(container_port), "tcp")
            for key, value in settings.environment.items():
                dlg.env.add_row(key, value)
            for host, target in settings.volumes.items():
                dlg.mounts.add_row(host, target, "no")
        self.run_dialog = dlg
        dlg.open()
        return dlg

    def shutdown(self) -> None:
        """Stop a running build (the window closes)."""
        if self.runner is not None:
            self.runner.shutdown()
