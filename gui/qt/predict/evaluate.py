"""Evaluate: score the chosen model on labelled pictures (class folders or a CSV of path,label) or rows.

The data is listed off the UI thread and its class names matched to the model's labels before the run
(names that match none are shown then, with Start still possible). The run is a
``gui.evaluate.PredictionRun`` on a ``Stream``; answers arrive in batches into one ``Scoreboard`` and the
figures are redrawn at most every ``REFRESH_MS``: accuracy, per-class report, the confusion heat map
(click a cell: its pictures), the surest mistakes and latency p50/p95/p99. Export writes the HTML
report with its JSON and CSV.
"""

from __future__ import annotations

import os

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from gui.evaluate import Dataset, PredictionRun, Scoreboard, load_dataset, match_labels
from gui.evaluate.report import write_report
from gui.predict.models import TABULAR
from gui.qt.common import style
from gui.qt.common.tasks import Op, Stream, message_of
from gui.qt.predict.jobs import JobDialog
from gui.qt.predict.scores import ANSWERS_ROLE, ConfusionModel, RowsModel, ThumbnailStrip, ms, report_rows

REFRESH_MS = 150
# Answers reach the UI thread in batches at least this far apart (the figures are redrawn every
# REFRESH_MS anyway). Without it a run woke the UI thread for nearly every answer (~1.6 answers a batch at
# 500 pictures/s, 3,700 wakes for 4,800 answers; now ~110), and each wake had to win the GIL and a CPU
# back from the request threads: the UI thread's CPU in the run fell by a third.
PACE_MS = 100
# The request threads run this far below the UI thread's priority (Linux; as the Predict page's batch
# workers): on 2 busy cores they otherwise keep the UI thread waiting for a CPU.
WORKER_NICE = 10


def dropped_path(mime) -> str:
    """The one local folder or file a drop carries, else ""."""
    urls = [u for u in mime.urls() if u.isLocalFile()] if mime.hasUrls() else []
    return urls[0].toLocalFile() if len(urls) == 1 else ""


class EvaluateDialog(JobDialog):
    """Non-modal: the page stays usable. ``page`` gives the chosen model (``client``, ``meta``, ``spec``)."""
    @property
    def job(self):
        return self.run


    finished_run = Signal()

    def __init__(self, page, parent: QWidget | None = None):
        super().__init__(parent or page)
        self.setObjectName("evaluateDialog")
        self.setWindowTitle("Evaluate the model on labelled data")
        self.resize(1000, 720)
        self.page = page
        self.client = page.client
        self.meta = page.meta
        self.target_name = page.spec.name if page.spec is not None else ""
        self.dataset: Dataset | None = None
        self.match = None
        self.board: Scoreboard | None = None
        self.run: PredictionRun | None = None
        self.stream: Stream | None = None
        self._active = False

        self.data_label = QLabel("Drop or choose labelled data: a folder with one subfolder per class, or a "
                                 "CSV of path,label (table models: a CSV with a label or target column).", self)
        self.data_label.setObjectName("evaluateData")
        self.data_label.setWordWrap(True)
        self.folder_button = self._button("Folder…", "evaluateFolder", self._on_folder)
        self.csv_button = self._button("CSV…", "evaluateCsv", self._on_csv)
        self.concurrency = QSpinBox(self)
        self.concurrency.setObjectName("evaluateConcurrency")
        self.concurrency.setRange(1, 32)
        self.concurrency.setValue(4)
        self.concurrency.setPrefix("concurrency ")
        self.start_button = self._button("Start", "evaluateStart", self.start)
        self.start_button.setEnabled(False)
        self.cancel_button = self._button("Cancel", "evaluateCancel", self.cancel)
        self.cancel_button.setEnabled(False)
        self.export_button = self._button("Export report…", "evaluateExport", self._on_export)
        self.export_button.setEnabled(False)
        self.match_label = QLabel(self)
        self.match_label.setObjectName("evaluateMatch")
        self.match_label.setWordWrap(True)
        self.progress = QProgressBar(self)
        self.progress.setObjectName("evaluateProgress")
        self.figures = QLabel(self)
        self.figures.setObjectName("evaluateFigures")
        self.figures.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.latency = QLabel(self)
        self.latency.setObjectName("evaluateLatency")

        self.confusion = ConfusionModel(self)
        self.matrix_view = QTableView(self)
        self.matrix_view.setObjectName("confusionMatrix")
        self.matrix_view.setModel(self.confusion)
        self.matrix_view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.matrix_view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.matrix_view.clicked.connect(self._on_cell)
        self.report = RowsModel(["class", "precision", "recall", "F1", "support"], self)
        self.report_view = QTableView(self)
        self.report_view.setObjectName("classReport")
        self.report_view.setModel(self.report)
        self.report_view.verticalHeader().hide()
        self.report_view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.cell_label = QLabel("Most confident mistakes", self)
        self.cell_label.setObjectName("evaluateCellTitle")
        self.pictures = ThumbnailStrip(self, "evaluatePictures")

        top = QHBoxLayout()
        for w in (self.folder_button, self.csv_button, self.concurrency):
            top.addWidget(w)
        top.addStretch(1)
        for w in (self.start_button, self.cancel_button, self.export_button):
            top.addWidget(w)
        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.addWidget(self.matrix_view)
        split.addWidget(self.report_view)
        lower = QWidget(self)
        col = QVBoxLayout(lower)
        col.setContentsMargins(0, 0, 0, 0)
        col.addWidget(self.cell_label)
        col.addWidget(self.pictures)
        vsplit = QSplitter(Qt.Orientation.Vertical, self)
        vsplit.addWidget(split)
        vsplit.addWidget(lower)
        layout = QVBoxLayout(self)
        layout.addWidget(self.data_label)
        layout.addLayout(top)
        layout.addWidget(self.match_label)
        layout.addWidget(self.progress)
        layout.addWidget(self.figures)
        layout.addWidget(self.latency)
        layout.addWidget(vsplit, 1)

        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(REFRESH_MS)
        self._refresh_timer.timeout.connect(self._refresh)
        self.setAcceptDrops(True)
        if self.client is None or self.meta is None:
            self.match_label.setText("Choose a model on the Predict page first.")
            style.set_role(self.match_label, "error")
            for b in (self.folder_button, self.csv_button):
                b.setEnabled(False)

    # -- drops: a class folder or a CSV dropped anywhere on the dialog ---------------------------------
    def dragEnterEvent(self, event) -> None:
        if dropped_path(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        path = dropped_path(event.mimeData())
        if path and self.folder_button.isEnabled():
            event.acceptProposedAction()
            self.load(path)

    def _button(self, text: str, name: str, slot) -> QPushButton:
        b = QPushButton(text, self)
        b.setObjectName(name)
        b.clicked.connect(lambda _checked=False: slot())
        return b

    # -- data -------------------------------------------------------------------------------------------
    def _on_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Folder with one subfolder per class")
        if path:
            self.load(path)

    def _on_csv(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Labelled data", "", "CSV (*.csv *.tsv *.txt)")
        if path:
            self.load(path)

    def load(self, source: str) -> None:
        """List ``source`` off the UI thread, then show how its classes match the model's labels."""
        self.start_button.setEnabled(False)
        self.data_label.setText(f"Reading {source}…")
        Op(self, lambda: load_dataset(source)).success(self._on_loaded).failure(self._on_load_failed).run()

    def _on_load_failed(self, exc: BaseException) -> None:
        self.dataset = None
        self.data_label.setText(message_of(exc))
        style.set_role(self.data_label, "error")

    def _on_loaded(self, data: Dataset) -> None:
        style.set_role(self.data_label, None)
        self.dataset = data
        wants_rows = self.meta.input_kind == TABULAR
        if wants_rows != (data.kind == "rows"):
            self.data_label.setText(f"The model takes {'table rows' if wants_rows else 'pictures'}; "
                                    f"{data.source} holds {'table rows' if data.kind == 'rows' else 'pictures'}.")
            style.set_role(self.data_label, "error")
            return
        what = "rows" if data.kind == "rows" else "pictures"
        text = f"{len(data.items)} {what} in {len(data.classes)} classes from {data.source}"
        if data.problems:
            text += f" · {len(data.problems)} cannot be sent (listed as failed)"
        if data.skipped:
            text += f" · {len(data.skipped)} skipped: " + "; ".join(data.skipped[:3])
        self.data_label.setText(text)
        regression = self._regression
        self.match = None if regression else match_labels(data.classes, self.meta.labels)
        sentence = self.match.describe() if self.match is not None else "regression: MAE, RMSE and R²"
        self.match_label.setText(sentence or f"All {len(data.classes)} classes are labels of the model.")
        style.set_role(self.match_label, "warning" if self.match is not None and self.match.unmatched else None)
        self.start_button.setEnabled(True)

    @property
    def _regression(self) -> bool:
        return "regress" in (self.meta.task or "")

    # -- run --------------------------------------------------------------------------------------------
    def start(self) -> None:
        if self.dataset is None or self.client is None:
            return
        self.cancel()
        self.board = Scoreboard(self._regression)
        self.run = PredictionRun([self.client], self.dataset.items, self.match, self.concurrency.value(),
                                 self._regression, nice=WORKER_NICE)
        self.progress.setRange(0, self.run.total)
        self.progress.setValue(0)
        self.pictures.clear()
        self.stream = Stream(self, self.run, "evaluate-run", batched=True, pace_ms=PACE_MS)
        self.stream.batch.connect(self._on_answers)
        self.stream.finished.connect(self._on_finished)
        self.start_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.export_button.setEnabled(False)
        self._active = True
        self.stream.start()

    def _on_answers(self, answers: list) -> None:
        if self.board is None:
            return
        self.board.extend(answers)
        if not self._refresh_timer.isActive():
            self._refresh_timer.start()

    def _on_finished(self) -> None:
        if not self._active:  # Cancel already ended the run here
            return
        self._active = False
        self._refresh_timer.stop()
        self._refresh()
        self._show_mistakes()
        self.start_button.setEnabled(self.dataset is not None)
        self.cancel_button.setEnabled(False)
        self.export_button.setEnabled(bool(self.board and self.board.answers))
        self.finished_run.emit()

    def cancel(self) -> None:
        """Stop at once: no request starts after this; the figures so far stay."""
        if self.stream is not None:
            self.stream.stop()
        if self.run is not None:
            self.run.close()
        self.cancel_button.setEnabled(False)
        self.start_button.setEnabled(self.dataset is not None)
        self._on_finished()  # the stream says nothing once stopped: show what came

    # -- figures ----------------------------------------------------------------------------------------
    def _refresh(self) -> None:
        b = self.board
        if b is None:
            return
        self.progress.setValue(len(b.answers))
        if b.regression:
            r = b.regression_scores()
            self.figures.setText("no answers yet" if r is None else
                                 f"MAE {r['mae']:.4g} · RMSE {r['rmse']:.4g} · R² {r['r2']:.4f} "
                                 f"on {r['count']} rows · {b.failed} failed")
        else:
            acc = b.accuracy
            self.figures.setText(
                f"Accuracy {acc:.1%} ({b.right} of {b.answered})" if acc is not None else "no answers yet")
            if b.failed:
                self.figures.setText(self.figures.text() + f" · {b.failed} failed")
            labels, matrix = b.matrix()
            self.confusion.set_matrix(labels, matrix)
            self.report.set_rows(report_rows(b.report()))
        lat = b.latency()
        self.latency.setText(f"Latency p50 {ms(lat['p50'])} · p95 {ms(lat['p95'])} · p99 {ms(lat['p99'])}")

    def summary(self) -> dict:
        return self.board.summary() if self.board is not None else {}

    def _show_mistakes(self) -> None:
        if self.board is None or self.board.regression:
            return
        self.cell_label.setText("Most confident mistakes" if self.board.failed == 0 else
                                f"Most confident mistakes ({self.board.failed} pictures failed: see the report)")
        self.pictures.show_pictures([
            (a.path, f"true {a.truth}\nsaid {a.predicted}" + (f" {a.score:.0%}" if a.score is not None else ""))
            for a in self.board.mistakes(24)])

    def _on_cell(self, index) -> None:
        truth, predicted = self.confusion.data(index, ANSWERS_ROLE)
        answers = self.board.in_cell(truth, predicted) if self.board is not None else []
        self.cell_label.setText(f"True {truth}, predicted {predicted}: {len(answers)} pictures")
        self.pictures.show_pictures([(a.path, os.path.basename(a.name)) for a in answers])

    # -- export -----------------------------------------------------------------------------------------
    def _on_export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export the report", "evaluation.html", "HTML (*.html)")
        if path:
            self.export(path)

    def export(self, path: str) -> None:
        """Write the HTML report and its .json and .csv (off the UI thread: thumbnails are made for it)."""
        board, dataset = self.board, self.dataset
        target = {"name": self.target_name, "url": getattr(self.client, "url", ""),
                  "protocol": getattr(self.client, "protocol", ""), "model": self.meta.name}
        spec = self.page.spec
        if spec is not None and spec.container_id:
            target["container_id"] = spec.container_id
            c = self.page.main_window.containers_model.record(spec.container_id)
            if c is not None:
                target.update(image=c.image, image_id=c.image_id)
        data = {"source": dataset.source, "kind": dataset.kind, "items": len(dataset.items)}
        Op(self, lambda: write_report(path, board, target, data), "Export failed").success(
            lambda paths: self.match_label.setText("Exported " + ", ".join(paths))).run()
