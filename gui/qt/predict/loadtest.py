"""Load test: a concurrency sweep against the chosen model, drawn while it runs.

Pictures come from a folder or the bundled samples (at most 64 are read, off the UI thread). Each level
runs for N seconds or a request cap, whichever comes first (gui.evaluate.LoadSweep); the plot shows
requests/s per level (bars) and p95 latency (line), so where latency bends is seen. Cancel stops at
once; results export as CSV.
"""

from __future__ import annotations

import os

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QPainter, QPainterPath, QPalette, QPen
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from gui.evaluate import LevelProgress, LevelResult, LoadSweep, picture_request
from gui.evaluate.dataset import PICTURE_SUFFIXES
from gui.evaluate.loadtest import write_levels_csv
from gui.qt.common import style
from gui.qt.common.tasks import Op, Stream, message_of
from gui.qt.predict.jobs import JobDialog
from gui.qt.predict.scores import RowsModel, ms
from gui.resources import sample_pictures

MAX_PICTURES = 64


def read_pictures(folder: str) -> list[bytes]:
    """Up to MAX_PICTURES picture files of ``folder`` (and below), or the bundled samples."""
    if folder:
        paths = sorted(os.path.join(r, f) for r, _, fs in os.walk(folder) for f in fs
                       if f.lower().endswith(PICTURE_SUFFIXES))
    else:
        paths = [str(p) for p in sample_pictures("digits")]
    out = []
    for p in paths[:MAX_PICTURES]:
        with open(p, "rb") as fh:
            out.append(fh.read())
    if not out:
        raise OSError(f"no pictures in {folder or 'the bundled samples'}")
    return out


class SweepPlot(QWidget):
    """Requests/s per level as bars (the live level grows as it runs) and p95 latency as a line."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("loadPlot")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.levels: list[int] = []
        self.rps: dict[int, float] = {}
        self.p95: dict[int, float] = {}

    def sizeHint(self) -> QSize:
        return QSize(600, 260)

    def reset(self, levels: list[int]) -> None:
        self.levels, self.rps, self.p95 = list(levels), {}, {}
        self.update()

    def set_level(self, level: int, rps: float, p95: float | None = None) -> None:
        self.rps[level] = rps
        if p95 is not None:
            self.p95[level] = p95
        self.update()

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        r = QRectF(self.rect()).adjusted(1, 1, -1, -1)
        p.fillRect(r, pal.color(QPalette.ColorRole.Base))
        fm = self.fontMetrics()
        plot = r.adjusted(48, fm.height() + 8, -56, -(fm.height() + 8))
        n = len(self.levels)
        p.setPen(pal.color(QPalette.ColorRole.Text))
        p.drawText(r.adjusted(6, 2, -6, 0), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
                   "requests/s (bars)")
        p.drawText(r.adjusted(6, 2, -6, 0), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop,
                   "p95 latency (line)")
        if not n or plot.height() < 10:
            p.end()
            return
        top_rps = max(self.rps.values(), default=0.0) or 1.0
        top_ms = max(self.p95.values(), default=0.0) or 1.0
        slot = plot.width() / n
        bar = style.color("chart-1", self)
        line = style.color("error", self)
        points = []
        for i, level in enumerate(self.levels):
            x = plot.left() + i * slot
            p.setPen(pal.color(QPalette.ColorRole.Text))
            p.drawText(QRectF(x, plot.bottom() + 2, slot, fm.height() + 4), Qt.AlignmentFlag.AlignCenter,
                       f"{level}")
            if level in self.rps:
                h = plot.height() * self.rps[level] / top_rps
                p.fillRect(QRectF(x + slot * 0.2, plot.bottom() - h, slot * 0.6, h), bar)
                p.drawText(QRectF(x, plot.bottom() - h - fm.height() - 2, slot, fm.height()),
                           Qt.AlignmentFlag.AlignCenter, f"{self.rps[level]:.0f}")
            if level in self.p95:
                points.append(QPointF(x + slot / 2, plot.bottom() - plot.height() * self.p95[level] / top_ms))
        p.setPen(pal.color(QPalette.ColorRole.Mid))
        p.drawLine(plot.bottomLeft(), plot.bottomRight())
        p.drawText(QRectF(r.left(), plot.top(), 44, fm.height()), Qt.AlignmentFlag.AlignRight, f"{top_rps:.0f}")
        p.drawText(QRectF(plot.right() + 4, plot.top(), 52, fm.height()), Qt.AlignmentFlag.AlignLeft,
                   f"{top_ms:.0f} ms")
        if points:
            path = QPainterPath(points[0])
            for pt in points[1:]:
                path.lineTo(pt)
            p.setPen(QPen(line, 2))
            p.drawPath(path)
            for pt in points:
                p.drawEllipse(pt, 3, 3)
        p.end()


class LoadTestDialog(JobDialog):
    @property
    def job(self):
        return self.sweep

    def __init__(self, page, parent=None):
        super().__init__(parent or page)
        self.setObjectName("loadTestDialog")
        self.setWindowTitle("Load test")
        self.resize(860, 620)
        self.page = page
        self.client = page.client
        self.sweep: LoadSweep | None = None
        self.stream: Stream | None = None
        self._active = False
        self.folder = ""
        self.results: list[LevelResult] = []

        name = page.spec.name if page.spec is not None else "no model"
        self.title = QLabel(f"Requests go only to {name} ({getattr(self.client, 'url', '')}).", self)
        self.levels = QLineEdit("1, 2, 4, 8, 16", self)
        self.levels.setObjectName("loadLevels")
        self.seconds = QDoubleSpinBox(self)
        self.seconds.setObjectName("loadSeconds")
        self.seconds.setRange(0.5, 120)
        self.seconds.setValue(5)
        self.seconds.setSuffix(" s per level")
        self.max_requests = QSpinBox(self)
        self.max_requests.setObjectName("loadMaxRequests")
        self.max_requests.setRange(1, 100000)
        self.max_requests.setValue(5000)
        self.max_requests.setPrefix("at most ")
        self.max_requests.setSuffix(" requests")
        self.pictures_label = QLabel("Pictures: the bundled samples", self)
        self.folder_button = self._button("Pictures…", "loadFolder", self._on_folder)
        self.start_button = self._button("Start", "loadStart", self.start)
        self.cancel_button = self._button("Cancel", "loadCancel", self.cancel)
        self.cancel_button.setEnabled(False)
        self.export_button = self._button("Export CSV…", "loadExport", self._on_export)
        self.export_button.setEnabled(False)
        self.status = QLabel(self)
        self.status.setObjectName("loadStatus")
        self.plot = SweepPlot(self)
        self.table = RowsModel(["clients", "requests/s", "requests", "errors", "p50", "p95", "p99"], self)
        view = QTableView(self)
        view.setObjectName("loadTable")
        view.setModel(self.table)
        view.verticalHeader().hide()
        view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)

        row = QHBoxLayout()
        row.addWidget(QLabel("Clients:", self))
        row.addWidget(self.levels, 1)
        row.addWidget(self.seconds)
        row.addWidget(self.max_requests)
        row2 = QHBoxLayout()
        row2.addWidget(self.pictures_label, 1)
        for w in (self.folder_button, self.start_button, self.cancel_button, self.export_button):
            row2.addWidget(w)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(row)
        layout.addLayout(row2)
        layout.addWidget(self.status)
        layout.addWidget(self.plot, 2)
        layout.addWidget(view, 1)
        if self.client is None:
            self.status.setText("Choose a model on the Predict page first.")
            style.set_role(self.status, "error")
            self.start_button.setEnabled(False)

    def _button(self, text: str, name: str, slot) -> QPushButton:
        b = QPushButton(text, self)
        b.setObjectName(name)
        b.clicked.connect(lambda _checked=False: slot())
        return b

    def _on_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Pictures to send")
        if path:
            self.folder = path
            self.pictures_label.setText(f"Pictures: {path}")

    def parsed_levels(self) -> list[int] | None:
        try:
            levels = [int(x) for x in self.levels.text().replace(" ", "").split(",") if x]
        except ValueError:
            return None
        return levels if levels and all(1 <= n <= 256 for n in levels) else None

    def start(self) -> None:
        levels = self.parsed_levels()
        if levels is None:
            self.status.setText("Clients: whole numbers from 1 to 256, like 1, 2, 4, 8")
            style.set_role(self.status, "error")
            return
        style.set_role(self.status, None)
        self.start_button.setEnabled(False)
        self.status.setText("Reading the pictures…")
        folder = self.folder
        Op(self, lambda: read_pictures(folder)).success(lambda pics: self._run(levels, pics)).failure(
            self._on_failed).run()

    def _on_failed(self, exc: BaseException) -> None:
        self.status.setText(message_of(exc))
        style.set_role(self.status, "error")
        self.start_button.setEnabled(True)

    def _run(self, levels: list[int], pictures: list[bytes]) -> None:
        self.results = []
        self.table.set_rows([])
        self.plot.reset(levels)
        self.sweep = LoadSweep(picture_request(self.client, pictures), levels, self.seconds.value(),
                               self.max_requests.value())
        self.stream = Stream(self, self.sweep, "load-test", batched=True)
        self.stream.batch.connect(self._on_steps)
        self.stream.finished.connect(self._on_finished)
        self.cancel_button.setEnabled(True)
        self.export_button.setEnabled(False)
        self.status.setText(f"{len(pictures)} pictures, {len(levels)} levels…")
        self._active = True
        self.stream.start()

    def _on_steps(self, steps: list) -> None:
        for step in steps:
            if isinstance(step, LevelProgress):
                self.plot.set_level(step.concurrency, step.rps)
                self.status.setText(f"{step.concurrency} clients: {step.elapsed:.1f} s, {step.requests} answered, "
                                    f"{step.errors} errors")
            elif isinstance(step, LevelResult):
                self.results.append(step)
                self.plot.set_level(step.concurrency, step.rps, step.p95)
        self.table.set_rows([[str(r.concurrency), f"{r.rps:.1f}", str(r.requests), str(r.errors), ms(r.p50),
                              ms(r.p95), ms(r.p99)] for r in self.results])

    def _on_finished(self) -> None:
        if not self._active:  # Cancel already ended the run here
            return
        self._active = False
        done = len(self.results)
        cancelled = self.sweep is not None and done < len(self.sweep.levels)
        self.status.setText(f"Cancelled after {done} levels." if cancelled else f"Done: {done} levels.")
        self.cancel_button.setEnabled(False)
        self.start_button.setEnabled(self.client is not None)
        self.export_button.setEnabled(bool(self.results))

    def cancel(self) -> None:
        """Stop at once: no request starts after this."""
        if self.stream is not None:
            self.stream.stop()
        self.cancel_button.setEnabled(False)
        self._on_finished()  # the stream says nothing once stopped

    def _on_export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export the load test", "load-test.csv", "CSV (*.csv)")
        if path:
            results = list(self.results)
            Op(self, lambda: write_levels_csv(path, results), "Export failed").success(
                lambda n: self.status.setText(f"Exported {n} levels to {path}")).run()
