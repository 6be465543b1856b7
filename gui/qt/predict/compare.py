"""Compare: the same labelled pictures sent to two to four models, side by side.

Accuracy and latency per target, an agreement matrix, the pictures on which they disagree (each
target's label under the thumbnail), and which is better in one sentence with the number of pictures it
rests on. Targets are the running model containers the Predict page offers, plus its chosen model.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
)

from gui.evaluate import Comparison, Dataset, PredictionRun, load_dataset, match_labels
from gui.evaluate.targets import open_client
from gui.qt.common import style
from gui.qt.common.tasks import Op, Stream, message_of
from gui.qt.predict.jobs import JobDialog
from gui.qt.predict.scores import RowsModel, ThumbnailStrip, ms

REFRESH_MS = 200


def _pct(v) -> str:
    return "–" if v is None else f"{v:.1%}"


class CompareDialog(JobDialog):
    @property
    def job(self):
        return self.run

    def __init__(self, page, parent=None):
        super().__init__(parent or page)
        self.setObjectName("compareDialog")
        self.setWindowTitle("Compare models on the same pictures")
        self.resize(1000, 720)
        self.page = page
        self.dataset: Dataset | None = None
        self.comparison: Comparison | None = None
        self.run: PredictionRun | None = None
        self.stream: Stream | None = None
        self._active = False
        self.clients: list = []

        self.targets = QListWidget(self)
        self.targets.setObjectName("compareTargets")
        self.targets.setMaximumHeight(110)
        for t in page.picker.targets:
            if t.usable:
                item = QListWidgetItem(f"{t.name} ({t.protocol}, {t.url})")
                item.setData(Qt.ItemDataRole.UserRole, (t.name, t.protocol, t.url, ""))
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                chosen = page.spec is not None and page.spec.container_id == t.container_id
                item.setCheckState(Qt.CheckState.Checked if chosen else Qt.CheckState.Unchecked)
                self.targets.addItem(item)
        spec = page.spec
        if spec is not None and not spec.container_id:  # a custom URL chosen on the page
            item = QListWidgetItem(f"{spec.name} ({spec.protocol}, {spec.url})")
            item.setData(Qt.ItemDataRole.UserRole, (spec.name, spec.protocol, spec.url, spec.model))
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            self.targets.addItem(item)
        self.targets.itemChanged.connect(lambda _i: self._update_buttons())

        self.data_label = QLabel("Tick two to four models, then choose labelled pictures (a folder with one "
                                 "subfolder per class, or a CSV of path,label).", self)
        self.data_label.setObjectName("compareData")
        self.data_label.setWordWrap(True)
        self.folder_button = self._button("Folder…", "compareFolder", self._on_folder)
        self.concurrency = QSpinBox(self)
        self.concurrency.setObjectName("compareConcurrency")
        self.concurrency.setRange(1, 16)
        self.concurrency.setValue(4)
        self.concurrency.setPrefix("concurrency ")
        self.start_button = self._button("Start", "compareStart", self.start)
        self.cancel_button = self._button("Cancel", "compareCancel", self.cancel)
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar(self)
        self.verdict = QLabel(self)
        self.verdict.setObjectName("compareVerdict")
        self.verdict.setWordWrap(True)
        self.per_target = RowsModel(["target", "accuracy", "answered", "failed", "p50", "p95", "p99"], self)
        self.per_target_view = self._table(self.per_target, "compareTargetsTable")
        self.agreement = RowsModel([], self)
        self.agreement_view = self._table(self.agreement, "compareAgreement")
        self.disagree_label = QLabel("Where they disagree", self)
        self.pictures = ThumbnailStrip(self, "compareDisagreements")

        top = QHBoxLayout()
        top.addWidget(self.folder_button)
        top.addWidget(self.concurrency)
        top.addStretch(1)
        top.addWidget(self.start_button)
        top.addWidget(self.cancel_button)
        tables = QHBoxLayout()
        tables.addWidget(self.per_target_view, 3)
        tables.addWidget(self.agreement_view, 2)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Models:", self))
        layout.addWidget(self.targets)
        layout.addWidget(self.data_label)
        layout.addLayout(top)
        layout.addWidget(self.progress)
        layout.addWidget(self.verdict)
        layout.addLayout(tables, 1)
        layout.addWidget(self.disagree_label)
        layout.addWidget(self.pictures, 2)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self._refresh)
        self._update_buttons()

    def _button(self, text: str, name: str, slot) -> QPushButton:
        b = QPushButton(text, self)
        b.setObjectName(name)
        b.clicked.connect(lambda _checked=False: slot())
        return b

    def _table(self, model, name: str) -> QTableView:
        view = QTableView(self)
        view.setObjectName(name)
        view.setModel(model)
        view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        return view

    def chosen(self) -> list[tuple[str, str, str, str]]:
        out = []
        for i in range(self.targets.count()):
            item = self.targets.item(i)
            if item.checkState() == Qt.CheckState.Checked:
                out.append(item.data(Qt.ItemDataRole.UserRole))
        return out

    def choose(self, names: list[str]) -> None:
        """Tick exactly the targets named ``names``."""
        for i in range(self.targets.count()):
            item = self.targets.item(i)
            on = item.data(Qt.ItemDataRole.UserRole)[0] in names
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)

    def _update_buttons(self) -> None:
        n = len(self.chosen())
        ok = 2 <= n <= 4 and self.dataset is not None and not self.running
        self.start_button.setEnabled(ok)
        if not 2 <= n <= 4:
            self.start_button.setToolTip("tick two to four models")

    # -- data -------------------------------------------------------------------------------------------
    def _on_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Folder with one subfolder per class")
        if path:
            self.load(path)

    def load(self, source: str) -> None:
        self.data_label.setText(f"Reading {source}…")
        Op(self, lambda: load_dataset(source)).success(self._on_loaded).failure(
            lambda exc: self._fail(message_of(exc))).run()

    def _fail(self, text: str) -> None:
        self.data_label.setText(text)
        style.set_role(self.data_label, "error")
        self._update_buttons()

    def _on_loaded(self, data: Dataset) -> None:
        if data.kind != "pictures":
            self._fail("Compare sends pictures: choose class folders or a CSV of path,label.")
            return
        style.set_role(self.data_label, None)
        self.dataset = data
        self.data_label.setText(f"{len(data.items)} pictures in {len(data.classes)} classes from {data.source}")
        self._update_buttons()

    # -- run --------------------------------------------------------------------------------------------
    def start(self) -> None:
        chosen = self.chosen()
        if not 2 <= len(chosen) <= 4 or self.dataset is None:
            return
        self.start_button.setEnabled(False)
        self.verdict.setText("Connecting to " + ", ".join(c[0] for c in chosen) + "…")
        timeout = self.page.request_timeout
        Op(self, lambda: [open_client(p, u, m, timeout) for _, p, u, m in chosen]).success(
            lambda clients: self._run(chosen, clients)).failure(
            lambda exc: self._fail(f"Cannot use every model: {message_of(exc)}")).run()

    def _run(self, chosen, clients) -> None:
        self.clients = clients
        labels = clients[0].metadata().labels  # metadata was read by open_client: no request here
        match = match_labels(self.dataset.classes, labels)
        self.comparison = Comparison([c[0] for c in chosen])
        self.run = PredictionRun(clients, self.dataset.items, match, self.concurrency.value(), name="compare")
        self.progress.setRange(0, self.run.total)
        self.stream = Stream(self, self.run, "compare-run", batched=True)
        self.stream.batch.connect(self._on_answers)
        self.stream.finished.connect(self._on_finished)
        self.cancel_button.setEnabled(True)
        self.verdict.setText(match.describe())
        self._active = True
        self.stream.start()

    def _on_answers(self, answers: list) -> None:
        for a in answers:
            self.comparison.add(a)
        if not self._timer.isActive():
            self._timer.start()

    def _on_finished(self) -> None:
        if not self._active:  # Cancel already ended the run here
            return
        self._active = False
        self._timer.stop()
        self._refresh()
        rows = self.comparison.disagreements() if self.comparison else []
        self.disagree_label.setText(f"Where they disagree: {len(rows)} pictures")
        self.pictures.show_pictures([
            (r[0].path, f"true {r[0].truth}\n" + "\n".join(
                f"{name}: {a.predicted}" for name, a in zip(self.comparison.names, r, strict=True)))
            for r in rows])
        self.cancel_button.setEnabled(False)
        for c in self.clients:
            c.close()
        self._update_buttons()

    def cancel(self) -> None:
        if self.stream is not None:
            self.stream.stop()
        if self.run is not None:
            self.run.close()
        self.cancel_button.setEnabled(False)
        self._on_finished()  # the stream says nothing once stopped: show what came

    def _refresh(self) -> None:
        c = self.comparison
        if c is None:
            return
        self.progress.setValue(sum(len(b.answers) for b in c.boards))
        rows = []
        for name, b in zip(c.names, c.boards, strict=True):
            lat = b.latency()
            rows.append([name, _pct(b.accuracy), str(b.answered), str(b.failed), ms(lat["p50"]), ms(lat["p95"]),
                         ms(lat["p99"])])
        self.per_target.set_rows(rows)
        self.agreement.headers = list(c.names)
        self.agreement.set_rows([[_pct(v) for v in row] for row in c.agreement()], list(c.names))
        self.verdict.setText(c.verdict())
