"""The Build page: template chooser, form (left), live Dockerfile (right), build log and history (below)."""

from __future__ import annotations

import time

from PySide6.QtCore import QEvent, Qt, Signal
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
from gui.builder.run import secret_env_names
from gui.predict.targets import PROTOCOL_LABEL
from gui.qt.build.failure import FailureBanner
from gui.qt.build.files import RecipeActions
from gui.qt.build.form import BuildForm
from gui.qt.build.history import BuildHistoryModel
from gui.qt.build.log import BuildLogView
from gui.qt.build.model_drop import ModelDrop
from gui.qt.build.preview import DockerfilePreview
from gui.qt.build.runner import BuildOutcome, BuildRunner
from gui.qt.common.style import set_role
from gui.qt.common.tasks import Task

STATUS_ROLES = {"succeeded": "ok", "failed": "error", "cancelled": "warning"}
# The form column's share of the width beside the Dockerfile, and its widest (pixels) on a big screen.
FORM_SHARE, FORM_MAX = 0.45, 640


def first_sentence(text: str) -> str:
    """Up to the first ". " (the whole text when there is none)."""
    head, dot, _rest = " ".join(text.split()).partition(". ")
    return head + "." if dot else head


class BuildPage(QWidget):
    """Fill the form, watch the Dockerfile, build it and follow the log; `buildFinished(BuildOutcome)`.

    `predictRequested(name)` asks the window to open the Predict page on the container just run."""

    buildFinished = Signal(object)
    predictRequested = Signal(str)
    deployRequested = Signal(str)  # the built image's tag: the window opens the Cluster page's Deploy…

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
        # Each template's form values and hand-edited Dockerfile, kept while another template is shown.
        self._edits: dict[str, tuple[dict, dict, str | None]] = {}
        self._last_layer = ""  # the last layer the running build made (" ---> abc123")
        self.started_name = ""  # the container last started from the Run dialog
        self.store = history or HistoryStore()

        self.chooser = QComboBox(self)
        self.chooser.setObjectName("templateChooser")
        self.description = QLabel(self)
        self.description.setObjectName("templateDescription")
        # One line (its first sentence; all of it in the tooltip): a long description never pushes the
        # form and the log down.
        self.description.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        set_role(self.description, "muted")
        self.files = RecipeActions(self)

        self.form = BuildForm(self)
        self.model_drop = ModelDrop(self)  # a dropped model file chooses the template and fills the form
        scroll = QScrollArea(self)
        scroll.setObjectName("builderFormScroll")
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.form)
        scroll.setMinimumWidth(400)
        self.form_scroll = scroll
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
        self.status_kind = ""  # what the status says: "succeeded", "failed", "cancelled" or ""
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # One line, always there: a new status text never re-lays out the page mid-build.
        self.status.setFixedHeight(self.status.sizeHint().height())
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.reason = QLabel(self)
        self.reason.setObjectName("buildReason")
        self.reason.setWordWrap(True)
        set_role(self.reason, "error")
        self.run_button = QPushButton("Run…", self)
        self.run_button.setObjectName("runBuilt")
        self.run_button.setEnabled(False)
        self.run_button.setToolTip("Open the Run dialog for the image the last build made")
        self.predict_button = QPushButton("Predict with it", self)
        self.predict_button.setObjectName("predictWithIt")
        self.predict_button.hide()
        self.predict_button.clicked.connect(lambda: self.predictRequested.emit(self.started_name))
        self.deploy_button = QPushButton("Deploy as service…", self)
        self.deploy_button.setObjectName("deployBuilt")
        self.deploy_button.setEnabled(False)
        self.deploy_button.setToolTip("Run the image the last build made as a swarm service, with replicas")
        self.deploy_button.clicked.connect(lambda: self.deployRequested.emit(self.deploy_tag))
        self.deploy_tag = ""

        # A failed build: why, in one sentence, on top; and the unfinished image it left, to remove.
        self.failure = FailureBanner(self)
        self.failure.statusMessage.connect(self._set_status)

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
        top.addStretch(1)
        for b in self.files.buttons:
            top.addWidget(b)
        editor = QSplitter(Qt.Orientation.Horizontal, self)
        editor.setObjectName("builderSplitter")
        editor.addWidget(scroll)
        editor.addWidget(self.preview)
        editor.setStretchFactor(0, 2)
        editor.setStretchFactor(1, 3)
        editor.setChildrenCollapsible(False)
        self.editor_split = editor
        self._split_moved = False  # the user dragged the handle: keep their split
        editor.splitterMoved.connect(self._on_split_moved)
        editor.installEventFilter(self)  # its width changed: give the form column its share again
        bar = QHBoxLayout()
        bar.addWidget(self.build_button)
        bar.addWidget(self.cancel_button)
        bar.addWidget(self.progress, 1)
        bar.addWidget(self.run_button)
        bar.addWidget(self.deploy_button)
        bar.addWidget(self.predict_button)
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
        outer.setStretchFactor(0, 1)
        outer.setStretchFactor(1, 1)
        outer.setSizes([500, 400])
        outer.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 4)
        layout.addLayout(top)
        layout.addWidget(self.description)  # its own line: it is not squeezed out at the default size
        layout.addWidget(self.model_drop.panel)
        layout.addWidget(self.failure)
        layout.addWidget(outer, 1)

    def _on_split_moved(self, *_args) -> None:
        self._split_moved = True

    def eventFilter(self, watched, event) -> bool:
        if watched is self.editor_split and event.type() == QEvent.Type.Resize:
            self._fit_form_column()
        return super().eventFilter(watched, event)

    def _fit_form_column(self) -> None:
        """The form column never narrower than the form (no horizontal scroll bar, no cut hint); until the
        user drags the handle it has FORM_SHARE of the width (at most FORM_MAX), the Dockerfile the rest."""
        scroll = self.form_scroll
        need = (self.form.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width()
                + 2 * scroll.frameWidth())
        scroll.setMinimumWidth(max(400, need))
        total = self.editor_split.width() - self.editor_split.handleWidth()
        if self._split_moved or total <= 0:
            return
        form = max(scroll.minimumWidth(), min(int(total * FORM_SHARE), FORM_MAX))
        self.editor_split.setSizes([form, max(0, total - form)])

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
        old = self.template
        if old is not None and self.form.template is old:  # keep its edits for when it comes back
            self._edits[old.name] = (self.form.build_values(), self.form.run_values(), self.preview.hand_text)
        self.template = get_template(name)
        self._check = None
        self.description.setText(first_sentence(self.template.description))
        self.description.setToolTip(self.template.description)
        edits = self._edits.get(name)
        self.preview.hand_text = None  # the other template's hand edit is not this one's
        self.form.set_template(self.template)
        self._fit_form_column()  # another template's form may need more width
        if edits is not None:
            build, run, hand = edits
            self.form.set_values(build, run)
            if hand is not None:
                self.preview.set_hand_text(hand)
            else:
                self.preview.discard_edits()
        else:
            self.preview.discard_edits()

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
        self.failure.forget_cause()
        if self.status_kind == "failed":
            self._set_status("", "")
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
        problems += self.model_drop.problems()
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
        self.record = BuildRecord(started=time.time(), template=t.name, tag=tag,
                                  trusted=self.model_drop.trusted_risk(),
                                  trusted_types=list(clean.get("trusted_types") or []))
        self.history.add(self.record)
        self.log.clear()
        self.progress.setRange(0, 0)  # busy until the first "Step n/m"
        self.progress.setFormat("Starting…")
        self._set_status("", "")
        self.run_button.setEnabled(False)
        self.run_button.setText("Run…")
        self.deploy_button.setEnabled(False)
        self.predict_button.hide()
        self._last_layer = ""
        self.failure.reset()
        self._building = (t, values, self.form.run_values(), tag, PROTOCOL_LABEL in self.preview.dockerfile())
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
        for line in batch:
            if line.layer_id:
                self._last_layer = line.layer_id
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
            self._set_status(f"Built {r.tag} ({short}) from {self._building[0].title} in {r.duration:.1f} s",
                             "succeeded")
            self.last_build = self._building
            self.run_button.setEnabled(True)
            self.run_button.setText(f"Run {r.tag}…")
            self.run_button.setToolTip(f"Open the Run dialog for {r.tag}, the image this build made")
            self.deploy_tag = r.tag
            self.deploy_button.setEnabled(True)
        elif outcome.status == "cancelled":
            self.progress.setFormat("Cancelled at step %v/%m")
            self._set_status("Build cancelled: the engine stopped it and no image was tagged.", "cancelled")
        else:
            self.progress.setFormat("Failed at step %v/%m" if outcome.step else "Failed")
            where = f"Step {outcome.step} ({outcome.instruction}) failed: " if outcome.step else "Build failed: "
            self._set_status(where + outcome.error, "failed")
            self.failure.show_failure(outcome, self.log, self._last_layer)
        self._update_build_button()
        self.buildFinished.emit(outcome)

    def _set_status(self, text: str, kind: str) -> None:
        first = text.splitlines()[0] if text else ""
        self.status.setText(first)
        self.status.setToolTip(text)
        self.status_kind = kind
        set_role(self.status, STATUS_ROLES.get(kind))
        font = self.status.font()
        font.setBold(kind in STATUS_ROLES)
        self.status.setFont(font)

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
        template, build_values, run_values, tag, _serves = self.last_build
        dlg = RunDialog(self.session, tag, self)
        dlg.started.connect(self._on_container_started)
        try:
            settings = run_settings(template, build_values, run_values)
        except ValidationError:
            settings = None
        if settings is not None:
            for container_port, host_port in settings.ports.items():
                if container_port <= 0:
                    continue  # the app listens on no port
                dlg.ports.add_row(settings.host_ip, str(host_port or ""), str(container_port), "tcp")
            for name in secret_env_names(template):  # masked whatever the variable is called
                dlg.mark_secret(name)
            for key, value in settings.environment.items():
                dlg.env.add_row(key, value)
            for host, target in settings.volumes.items():
                dlg.mounts.add_row(host, target, "no")
        self.run_dialog = dlg
        dlg.open()
        return dlg

    def _on_container_started(self, name: str) -> None:
        """A container of the built image runs: offer to predict with it when the image serves a model."""
        self.started_name = name
        serves = bool(self.last_build and self.last_build[4])
        self.predict_button.setVisible(serves)
        self.predict_button.setToolTip(f"Open the Predict page with {name} chosen, once it is healthy")
        self._set_status(f"Started container {name} from {self.last_build[3]}", "succeeded")

    def shutdown(self) -> None:
        """Stop a running build and a model being read (the window closes)."""
        self.model_drop.shutdown()
        if self.runner is not None:
            self.runner.shutdown()
