"""The Predict page: choose a served model, drop pictures (or fill a table row), see the answers.

Drops, pastes and "Open…" become ``PictureSource`` records; cards are made a few at a time so a drop of
hundreds of files never freezes the window, and a ``BatchRunner`` reads, previews and predicts them off the
UI thread, four at a time. Tabular models get the ``TabularForm`` instead of the drop panel.
"""

from __future__ import annotations

import itertools
import time
from collections import deque

from PySide6.QtCore import QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QKeySequence, QPainter, QPen, QRegion, QShortcut
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from gui.predict import (
    DEFAULT_TIMEOUT,
    ModelMetadata,
    PredictError,
    helper,
    write_csv,
)
from gui.predict.connect import TargetSpec, connect
from gui.predict.models import TABULAR
from gui.predict.sources import PictureSource
from gui.qt.common import style
from gui.qt.common.tasks import DaemonExecutor, Task, message_of, run, unless_bug
from gui.qt.predict.batch import BatchRunner
from gui.qt.predict.card import CARD_HEIGHT, CARD_WIDTH, PredictionCard
from gui.qt.predict.flow import FlowLayout
from gui.qt.predict.sources import can_accept, mime_for_files, sources_from_mime
from gui.qt.predict.tabular import TabularForm
from gui.qt.predict.targets import TargetPicker
from gui.resources import sample_pictures

# The drop panel's dashed border, 2 px wide and rounded by 10 px: what the drag highlight repaints (a ring
# BORDER px wide, and CORNER px squares). Wider, it reached the empty state's labels: they were painted too.
BORDER = 3
CORNER = 12
CARDS_PER_TICK_MS = 3.0  # time spent making cards before the event loop gets a turn
CONNECT_RETRIES = 30  # a container target that does not answer yet is asked again, once a second
CONNECT_RETRY_MS = 1000
RESUBMITS = 3  # a picture whose container answered its metadata but dropped the picture this often fails
STOPPED_WAIT = "the container {name} stopped — these pictures resume when it is back, or cancel"
PICTURE_FILTER = "Pictures (*.png *.jpg *.jpeg *.webp *.bmp *.gif *.tif *.tiff);;All files (*)"


class DropPanel(QFrame):
    """Takes drops of files, folders, web pictures and image data; shows the cards or an empty state."""

    dropped = Signal(list)  # [PictureSource]
    openRequested = Signal()
    samplesRequested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("dropPanel")
        self.setAcceptDrops(True)
        self.dragging = False  # a drag that can be dropped is over the panel: painted in the accent colour
        self.drop_times: list[float] = []  # perf_counter() of each drop event (for benchmarks)

        self.empty = QWidget(self)
        self.empty.setObjectName("dropEmptyState")
        glyph = QLabel("⤓", self.empty)
        glyph.setObjectName("dropGlyph")
        title = QLabel("Drop pictures here", self.empty)
        title.setObjectName("dropTitle")
        hint = QLabel("Picture files, a whole folder, or pictures dragged from a web browser.\n"
                      "Paste one with Ctrl+V. Each picture gets a card with the model's best labels\n"
                      "and the time the answer took.", self.empty)
        hint.setObjectName("dropHint")
        open_button = QPushButton("Open pictures…", self.empty)
        open_button.setObjectName("emptyOpen")
        open_button.clicked.connect(self.openRequested)
        samples_button = QPushButton("Try sample pictures", self.empty)
        samples_button.setObjectName("emptySamples")
        samples_button.setToolTip("Drop a few digit pictures shipped with the app")
        samples_button.clicked.connect(self.samplesRequested)
        col = QVBoxLayout(self.empty)
        col.addStretch(1)
        for w in (glyph, title, hint):
            w.setAlignment(Qt.AlignmentFlag.AlignCenter)
            col.addWidget(w)
        col.addSpacing(8)
        col.addWidget(open_button, 0, Qt.AlignmentFlag.AlignHCenter)
        col.addWidget(samples_button, 0, Qt.AlignmentFlag.AlignHCenter)
        col.addStretch(1)

        self.grid = QWidget()
        self.grid.setObjectName("cardGrid")
        self.flow = FlowLayout(self.grid)
        self.scroll = QScrollArea(self)
        self.scroll.setObjectName("cardScroll")
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setWidget(self.grid)
        self.scroll.viewport().setAutoFillBackground(False)
        # The empty state lies over the card grid, which stays shown: a drop only hides the empty state. A
        # stacked layout's swap showed the scroll area (its polish and first layout) in the drop's own turn,
        # 5-8 ms of it measured here; most of the 34 ms once blamed on the swap was the first card's making.
        cell = QGridLayout(self)
        cell.setContentsMargins(0, 0, 0, 0)
        cell.addWidget(self.scroll, 0, 0)
        cell.addWidget(self.empty, 0, 0)
        self.empty.raise_()

    def show_card(self, card: PredictionCard) -> None:
        """Show ``card`` in the grid; ``place()`` then puts it at the grid's end (both before the event loop
        runs again). The grid's layout rests in between: a widget shown puts its parent's layout out of
        date, and the next one shown lays the parent out again, so showing the cards of a drop one after
        the other laid the whole grid out once per card. Shown now, not on Qt's queued show: a hidden card
        would take no room yet, and the grid's height would change."""
        self.flow.setEnabled(False)
        card.setParent(self.grid)
        card.show()

    def place(self, cards: list[PredictionCard]) -> None:
        """Put ``cards`` (each shown with ``show_card``) at the end of the grid, in this order; the grid is
        laid out once, when the event loop next runs."""
        for card in cards:
            self.flow.addWidget(card)
        if not self.flow.isEnabled():
            self.flow.setEnabled(True)
            self.flow.invalidate()
        if cards and not self.empty.isHidden():
            self.empty.hide()

    def keep_room(self, cards: int) -> None:
        """Room in the grid for ``cards`` cards still to be made (its height then stays as they come)."""
        self.flow.reserve(cards, QSize(CARD_WIDTH, CARD_HEIGHT))

    def clear(self) -> None:
        while self.flow.count():
            item = self.flow.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.scroll.verticalScrollBar().setValue(0)
        self.empty.show()

    def reveal(self, card: PredictionCard) -> None:
        """Scroll so that ``card`` (just added) is in view, once the grid has placed it."""
        def show() -> None:
            if self.flow.indexOf(card) >= 0:
                self.grid.layout().activate()
                self.scroll.ensureWidgetVisible(card, 0, 10)

        QTimer.singleShot(0, show)

    def _set_dragging(self, on: bool) -> None:
        """Highlight the panel's border while a drag that it takes is over it. Painted over the stylesheet's
        border, and only the border repainted: re-polishing the panel for a stylesheet property cost 3-7 ms
        and a repaint of the whole panel (cold, under its empty state) up to ~50 ms of the drag's turn."""
        if self.dragging != on:
            self.dragging = on
            self.update(self._border())

    def _border(self) -> QRegion:
        """The dashed border: a ring as wide as its line, and the corners its rounding takes inward."""
        r = self.rect()
        ring = QRegion(r).subtracted(QRegion(r.adjusted(BORDER, BORDER, -BORDER, -BORDER)))
        for x, y in ((r.left(), r.top()), (r.right() + 1 - CORNER, r.top()), (r.left(), r.bottom() + 1 - CORNER),
                     (r.right() + 1 - CORNER, r.bottom() + 1 - CORNER)):
            ring = ring.united(QRegion(x, y, CORNER, CORNER))
        return ring

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        if not self.dragging:
            return
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(QPen(style.themed_color("accent", style.is_dark(self)), 2))  # solid: over the grey dashes
        p.drawRoundedRect(QRectF(self.rect()).adjusted(1, 1, -1, -1), 10, 10)
        p.end()

    def dragEnterEvent(self, event) -> None:
        if can_accept(event.mimeData()):
            event.acceptProposedAction()
            self._set_dragging(True)
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        if can_accept(event.mimeData()):
            event.acceptProposedAction()

    def dragLeaveEvent(self, event) -> None:
        self._set_dragging(False)

    def dropEvent(self, event) -> None:
        self.drop_times.append(time.perf_counter())
        self._set_dragging(False)
        sources = sources_from_mime(event.mimeData())
        if not sources:
            event.ignore()
            return
        event.acceptProposedAction()
        self.dropped.emit(sources)


class _SummaryText(QLabel):
    """The summary's text (``text()``); hidden: ``SummaryLine`` paints it, shortened to fit."""

    def setText(self, text: str) -> None:
        super().setText(text)
        line = self.parentWidget()
        line.setToolTip(text)  # all of it, where the bar is too narrow for the line
        line.update()


class SummaryLine(QWidget):
    """The page's one-line summary, which changes several times a second in a batch; ``label`` holds it.

    The line takes the room the bar leaves it and never asks for more; a text too long for it ends in "…"
    (the tooltip has all of it). A QLabel in the bar asked for its whole text: a longer summary widened the
    window itself (1200 px to 1436 in bench_predict), and even at the same size each new text went up the
    layouts to the tab widget, which repaints all of itself on a layout request: every visible card, 5-10
    times a second while a batch ran (~130 full repaints a batch). A new text here repaints this line only.
    """

    def __init__(self, parent=None):
        super().__init__(parent)
        self.label = _SummaryText(self)
        self.label.hide()
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(40)

    def sizeHint(self) -> QSize:
        return QSize(40, self.fontMetrics().height() + 4)

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.setPen(self.palette().windowText().color())
        text = self.fontMetrics().elidedText(self.label.text(), Qt.TextElideMode.ElideRight, self.width())
        p.drawText(self.rect(), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, text)
        p.end()


class PredictPage(QWidget):
    """The Predict tab. ``window`` gives the live container list (``containers_model``)."""

    def __init__(self, window, parent=None):
        super().__init__(parent)
        self.setObjectName("predictPage")
        self.main_window = window
        self.request_timeout = DEFAULT_TIMEOUT
        self.spec: TargetSpec | None = None
        self.client = None
        self.meta: ModelMetadata | None = None
        self.problem = ""
        self._awaited = ""  # a container to choose once it runs and is healthy (choose_container)
        self._connecting = False
        self._retries = 0
        self._connect_seq = itertools.count(1)
        self._connect_id = 0
        self.cards: dict[int, PredictionCard] = {}
        self._tally = dict.fromkeys(("waiting", "done", "failed", "cancelled"), 0)  # cards by state
        self._ids = itertools.count(1)
        self._pending: deque[tuple[int, PictureSource]] = deque()
        self._held: list[tuple[int, PictureSource]] = []
        # A picture goes only to the container its batch was sent to: while that container is away its
        # pictures wait here (by container name) and resume when it runs again, never sent elsewhere.
        self._jobs: dict[int, tuple[PictureSource, str]] = {}  # job id -> (source, container name or "")
        self._parked: dict[str, list[tuple[int, PictureSource]]] = {}
        self._resubmits: dict[int, int] = {}
        self._reveal_next = False
        self._batch_start: float | None = None
        self._last_answer: float | None = None

        self.runner = BatchRunner(parent=self)
        self.runner.thumbnail.connect(self._on_thumbnail)
        self.runner.answered.connect(self._on_answered)
        self.runner.failed.connect(self._on_failed)
        self.runner.expanded.connect(self._on_expanded)
        self.runner.idle.connect(self._update_summary)
        self._call_pool = DaemonExecutor(max_workers=2, name="predict-call")
        self._calls: list[Task] = []

        self.picker = TargetPicker(self)
        self.picker.targetChanged.connect(self._on_target)
        self.panel = DropPanel(self)
        self.panel.dropped.connect(self.add_sources)
        self.panel.openRequested.connect(self._on_open)
        self.panel.samplesRequested.connect(self.try_samples)
        self.tabular = TabularForm(self)
        self.tabular.predictRequested.connect(self._on_predict_rows)

        self.open_button = self._button("Open…", "predictOpen", self._on_open)
        self.samples_button = self._button("Try sample pictures", "predictSamples", self.try_samples)
        self.samples_button.setToolTip("Drop a few digit pictures shipped with the app")
        self.description = QLabel(self)
        self.description.setObjectName("modelDescription")
        self.description.setWordWrap(True)
        self.description.hide()
        self.cancel_button = self._button("Cancel", "predictCancel", self.cancel)
        self.export_button = self._button("Export CSV…", "predictExport", self._on_export)
        self.clear_button = self._button("Clear", "predictClear", self.clear)
        self.evaluate_button = self._button("Evaluate…", "predictEvaluate", self.open_evaluate)
        self.evaluate_button.setToolTip("Score the model on labelled pictures: accuracy, per-class figures, "
                                        "confusion matrix, latency")
        self.compare_button = self._button("Compare…", "predictCompare", self.open_compare)
        self.compare_button.setToolTip("Send the same labelled pictures to two to four models")
        self.load_button = self._button("Load test…", "predictLoadTest", self.open_load_test)
        self.load_button.setToolTip("Requests/s and latency at 1, 2, 4, 8, 16 clients")
        self.tools: list[QWidget] = []  # the open Evaluate, Compare and Load test dialogs
        self.top_k = QSpinBox(self)
        self.top_k.setObjectName("predictTopK")
        self.top_k.setRange(1, 20)
        self.top_k.setValue(3)
        self.top_k.setPrefix("top ")
        self.summary_line = SummaryLine(self)
        self.summary = self.summary_line.label
        self.summary.setObjectName("predictSummary")

        bar = QHBoxLayout()
        bar.addWidget(self.open_button)
        bar.addWidget(self.samples_button)
        bar.addWidget(self.top_k)
        bar.addWidget(self.summary_line, 1)
        for b in (self.evaluate_button, self.compare_button, self.load_button):
            bar.addWidget(b)
        for b in (self.cancel_button, self.export_button, self.clear_button):
            bar.addWidget(b)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.panel)
        self.stack.addWidget(self.tabular)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 10, 10, 10)
        layout.addWidget(self.picker)
        layout.addWidget(self.description)
        layout.addLayout(bar)
        layout.addWidget(self.stack, 1)

        self._summary_timer = QTimer(self)
        self._summary_timer.setSingleShot(True)
        self._summary_timer.setInterval(50)
        self._summary_timer.timeout.connect(self._write_summary)
        self._pump_timer = QTimer(self)
        self._pump_timer.setSingleShot(True)
        self._pump_timer.setInterval(0)
        self._pump_timer.timeout.connect(self._pump)
        self._targets_timer = QTimer(self)
        self._targets_timer.setSingleShot(True)
        self._targets_timer.setInterval(0)
        self._targets_timer.timeout.connect(self._refresh_targets)
        # Ctrl+V anywhere in the window while the page is shown (text fields still paste into themselves).
        self._paste = QShortcut(QKeySequence.StandardKey.Paste, self)
        self._paste.setContext(Qt.ShortcutContext.WindowShortcut)
        self._paste.setEnabled(False)
        self._paste.activated.connect(self.paste)
        self.tabular.changed.connect(self._update_summary)

        model = window.containers_model
        for sig in (model.modelReset, model.rowsInserted, model.rowsRemoved, model.dataChanged):
            sig.connect(self._targets_timer.start)
        window.engineChanged.connect(lambda _session: self._targets_timer.start())
        self._services_timer = QTimer(self)  # swarm services that serve a model, re-read on service events
        self._services_timer.setSingleShot(True)
        self._services_timer.setInterval(100)
        self._services_timer.timeout.connect(self._read_services)
        self._awaited_service = ""
        window.engineChanged.connect(self._watch_services)
        self._watch_services(window.session)
        window.closing.connect(self.shutdown)
        self._refresh_targets()
        self._write_summary()

    def _button(self, text: str, name: str, slot) -> QPushButton:
        b = QPushButton(text, self)
        b.setObjectName(name)
        b.clicked.connect(lambda _checked=False: slot())
        return b

    def showEvent(self, event) -> None:
        self._paste.setEnabled(True)
        super().showEvent(event)

    def hideEvent(self, event) -> None:
        self._paste.setEnabled(False)
        super().hideEvent(event)

    @property
    def tabular_mode(self) -> bool:
        return self.stack.currentWidget() is self.tabular

    def _show_mode(self) -> None:
        """Only the controls for what the model takes: pictures, or table rows."""
        pictures = not self.tabular_mode
        for w in (self.open_button, self.samples_button, self.top_k, self.cancel_button):
            w.setVisible(pictures)
        self._update_summary()

    def shutdown(self) -> None:
        """Stop all prediction work (the window is closing)."""
        self._pump_timer.stop()
        self.runner.close()
        for tool in self.tools:
            tool.cancel()
        for task in self._calls:
            task.cancel()
        self._call_pool.shutdown(wait=False, cancel_futures=True)

    def _call(self, fn, on_done, on_error) -> None:
        """``fn()`` off the UI thread (connect, read metadata, predict rows); ``on_error`` gets a sentence."""
        failed = unless_bug(lambda exc: on_error(message_of(exc)),
                            lambda: on_error("an unexpected error in the app (see the crash report)"))
        self._calls = [t for t in self._calls if t.is_alive()]
        self._calls.append(run(self, fn, on_done, failed, self._call_pool))

    # -- targets --------------------------------------------------------------------------------------
    def set_request_timeout(self, seconds: float) -> None:
        """Seconds a request may take; reconnects to the chosen model with it."""
        self.request_timeout = seconds
        self._on_target(self.picker.current_spec())

    def choose_container(self, name: str) -> None:
        """Choose the container ``name`` (or id; the Build page's "Predict with it", the Containers page's
        menu).

        A container just started is chosen once it is listed, running and healthy (or has no health
        check); until then the chooser says it waits for it."""
        self._awaited = name
        self._refresh_targets()

    def choose_service(self, name: str) -> None:
        """Choose the swarm service ``name`` (the Cluster page's "Predict with it") once it is listed."""
        self._awaited_service = name
        self._read_services()

    def _watch_services(self, session) -> None:
        session.engineEvent.connect(lambda ev: ev.type == "service" and self._services_timer.start())
        self._services_timer.start()

    def _read_services(self) -> None:
        from gui.predict.replicas import service_targets

        engine = self.main_window.session.engine
        self._call(lambda: service_targets(engine), self._on_services, lambda _message: None)

    def _on_services(self, services: list) -> None:
        self.picker.set_services(services)
        chosen = next((s for s in services if s.name == self._awaited_service), None)
        if chosen is not None:
            self._awaited_service = ""
            self.picker.select(f"service:{chosen.service_id}")

    def _refresh_targets(self) -> None:
        records = self.main_window.containers_model.records()
        awaited = self._awaited
        if awaited:
            c = next((c for c in records if c.name == awaited), None) or \
                next((c for c in records if c.id.startswith(awaited)), None)
            if c is not None and c.state == "running" and c.health in ("", "healthy"):
                self._awaited = ""
                self.picker.chosen_name = c.name
                self.picker.targets = []  # fill the chooser again, even when the list is the same
            else:  # not offered before it is ready (the chooser would take it as the first model found)
                why = "starting" if c is None or c.state == "running" else c.state
                self.picker.set_containers([r for r in records if c is None or r.id != c.id])
                self.picker.set_status(f"Waiting for {c.name if c else awaited} to be healthy ({why})…")
                return
        self.picker.set_containers(records)

    def _on_target(self, spec: TargetSpec | None) -> None:
        self.spec, self.client, self.meta = spec, None, None
        self.description.hide()
        connect_id = self._connect_id = next(self._connect_seq)
        if spec is None:
            self._connecting = False
            stopped = self.picker.stopped_name
            self.problem = "no model chosen: pick a running container or a URL above"
            if stopped:
                self._resubmits.clear()  # its pictures failed because it stopped: they may try again
                self.picker.set_status(f"{stopped} is not running: its pictures wait until it is back "
                                       "(Cancel stops them).", ok=False)
            else:
                self.picker.set_status("Choose a model to send pictures to.")
            self._release_held()
            return
        self._connecting = True
        self._retries = CONNECT_RETRIES
        self.problem = ""
        self.picker.set_status(f"Connecting to {spec.url}…")
        # A model is chosen, pictures come next: the helper processes for lock-holding pictures start now,
        # in the background, not at a batch's first big WebP (until they answer, ~0.5 s, pictures are
        # prepared on the workers, holding Python's lock that the UI thread needs).
        helper.warm()
        timeout = self.request_timeout
        engine = self.main_window.session.engine
        self._call(lambda: connect(spec, timeout, engine),
                   lambda result: self._on_connected(connect_id, result),
                   lambda message: self._on_connect_failed(connect_id, message))

    def _on_connected(self, connect_id: int, result) -> None:
        if connect_id != self._connect_id:
            return
        self._connecting = False
        self.client, meta = result
        if isinstance(meta, PredictError):
            spec = self.spec
            if spec is not None and spec.container_id and meta.kind in ("connection", "http") \
                    and self._retries > 0:
                # A container that has just started may not listen yet: ask again for a while.
                self._retries -= 1
                self.picker.set_status(f"Waiting for {spec.name} to answer… ({meta.message})")
                # With the page as context: the retry is dropped if the page goes away (the window closed).
                QTimer.singleShot(CONNECT_RETRY_MS, self, lambda: self._retry_connect(connect_id))
            else:
                self.picker.set_status(f"Cannot read the model's metadata: {meta.message}", ok=False)
        else:
            self.meta = meta
            self.picker.set_status(describe(meta), ok=True)
            self.description.setText(meta.description)
            self.description.setVisible(bool(meta.description))
            if meta.input_kind == TABULAR:
                self.tabular.set_model(meta)
                self.stack.setCurrentWidget(self.tabular)
            else:
                self.stack.setCurrentWidget(self.panel)
            self._show_mode()
        self._release_held()
        if self.meta is not None and self.spec is not None and self.spec.container_id:
            self._resume(self.spec.name)

    def _retry_connect(self, connect_id: int) -> None:
        if connect_id == self._connect_id and self.spec is not None and self.meta is None:
            retries = self._retries
            self._on_target(self.spec)
            self._retries = retries

    def _on_connect_failed(self, connect_id: int, message: str) -> None:
        if connect_id != self._connect_id:
            return
        self._connecting = False
        self.problem = f"cannot use {self.spec.name if self.spec else 'the model'}: {message}"
        self.picker.set_status(self.problem, ok=False)
        self._release_held()

    def _release_held(self) -> None:
        held, self._held = self._held, []
        for job_id, source in held:
            self._submit(job_id, source)

    # -- pictures in ----------------------------------------------------------------------------------
    def add_sources(self, sources: list[PictureSource]) -> None:
        """Make a card for each picture (folders are listed off the UI thread first) and predict it."""
        self._reveal_next = True
        for src in sources:
            if src.folder:
                self.runner.expand(-next(self._ids), src.folder)
            else:
                self._pending.append((next(self._ids), src))
        if self._batch_start is None or not self.runner.busy:
            self._batch_start, self._last_answer = time.perf_counter(), None
        self._pump()

    def add_files(self, paths: list[str]) -> None:
        self.add_sources(sources_from_mime(mime_for_files(paths)))

    def try_samples(self) -> None:
        """Drop the sample digit pictures shipped with the app."""
        found = sample_pictures("digits")
        if found:
            self.add_files([str(p) for p in found])
        else:
            self.summary.setText("No sample pictures were installed with the app.")

    def paste(self) -> None:
        """Predict what the clipboard holds (a picture, files or URLs)."""
        sources = sources_from_mime(QGuiApplication.clipboard().mimeData(), origin="pasted")
        if sources:
            self.add_sources(sources)
        else:
            self.summary.setText("The clipboard holds no picture, file or web address.")

    def _pump(self) -> None:
        start = time.perf_counter()
        made = []
        try:
            while self._pending and (time.perf_counter() - start) * 1000.0 < CARDS_PER_TICK_MS:
                job_id, src = self._pending.popleft()
                self.runner.coming = len(self._pending)  # a big drop's first jobs already run as a batch
                card = PredictionCard(src.name, on_state=self._on_card_state)
                self._tally["waiting"] += 1
                self.cards[job_id] = card
                self.panel.show_card(card)
                made.append(card)
                if self._connecting:
                    self._held.append((job_id, src))
                else:
                    self._submit(job_id, src)
        finally:  # the cards shown are placed (and the grid's layout works again) whatever went wrong
            self.panel.place(made)
        if made and self._reveal_next:  # the first card of what was just added comes into view
            self._reveal_next = False
            self.panel.reveal(made[0])
        if self._pending:
            self._pump_timer.start()
        self.panel.keep_room(len(self._pending))
        self._update_summary()

    def _submit(self, job_id: int, src: PictureSource) -> None:
        stopped = self.picker.stopped_name
        if self.client is None and stopped:
            self._park(stopped, job_id, src)
            return
        spec = self.spec
        bound = spec.name if spec is not None and spec.container_id and self.client is not None else ""
        self._jobs[job_id] = (src, bound)
        self.runner.submit(job_id, src, self.client, self.top_k.value(), self.problem)

    def _park(self, name: str, job_id: int, src: PictureSource) -> None:
        """Hold a picture until the container ``name`` answers again."""
        card = self._waiting_card(job_id)
        if card is None:
            return
        first = name not in self._parked
        self._parked.setdefault(name, []).append((job_id, src))
        card.set_waiting(STOPPED_WAIT.format(name=name))
        spec = self.spec
        if first and spec is not None and spec.name == name and spec.container_id and not self._connecting:
            self._on_target(spec)  # stopped, or only restarting? Ask again; the picker tells if it is gone
        self._update_summary()

    def _resume(self, name: str) -> None:
        """The container ``name`` answers again: send it the pictures that waited for it."""
        for job_id, src in self._parked.pop(name, []):
            if self._waiting_card(job_id) is not None:
                self._submit(job_id, src)

    def parked(self) -> dict[str, int]:
        """Pictures waiting for a container to come back, by container name."""
        return {name: len(jobs) for name, jobs in self._parked.items() if jobs}

    def _on_expanded(self, _folder_id: int, found: list) -> None:
        if not found:
            found = [PictureSource(name="(empty folder)", problem="the folder holds no files")]
        self.add_sources(found)

    # -- answers --------------------------------------------------------------------------------------
    def _waiting_card(self, job_id: int) -> PredictionCard | None:
        card = self.cards.get(job_id)
        return card if card is not None and card.state == "waiting" else None

    def _on_thumbnail(self, job_id: int, image) -> None:
        card = self.cards.get(job_id)
        if card is not None:
            card.set_thumbnail(image)

    def _on_answered(self, job_id: int, prediction) -> None:
        self._jobs.pop(job_id, None)
        self._resubmits.pop(job_id, None)
        card = self._waiting_card(job_id)
        if card is not None:
            card.set_prediction(prediction)
            self._last_answer = time.perf_counter()
            self._update_summary()

    def _on_failed(self, job_id: int, kind: str, message: str) -> None:
        src, bound = self._jobs.pop(job_id, (None, ""))
        card = self._waiting_card(job_id)
        tries = self._resubmits.get(job_id, 0)
        if card is not None and kind == "connection" and bound and src is not None and tries < RESUBMITS:
            self._resubmits[job_id] = tries + 1
            self._park(bound, job_id, src)
            return
        self._resubmits.pop(job_id, None)
        if card is not None:
            card.set_failed(message, kind)
            self._last_answer = time.perf_counter()
            self._update_summary()

    def cancel(self) -> None:
        """Stop the batch: cards not answered yet say so; answers already shown stay."""
        self._pending.clear()
        self._held.clear()
        self._parked.clear()
        self._jobs.clear()
        self._resubmits.clear()
        self._pump_timer.stop()
        self.runner.coming = 0
        self.panel.keep_room(0)
        self.runner.cancel()
        for card in self.cards.values():
            if card.state == "waiting":
                card.set_failed("cancelled before the answer came")
        self._write_summary()

    def clear(self) -> None:
        if self.tabular_mode:
            self.tabular.clear_results()
            self._update_summary()
            return
        self.cancel()
        self.cards.clear()
        self._tally = dict.fromkeys(self._tally, 0)
        self.panel.clear()
        self._batch_start = None
        self._update_summary()

    def _on_card_state(self, old: str, new: str) -> None:
        self._tally[old] -= 1
        self._tally[new] = self._tally.get(new, 0) + 1

    def counts(self) -> dict[str, int]:
        """Cards by state, and pictures without a card yet as waiting. Kept as cards change (answers
        land hundreds at a time: counting 200 cards per answer was the page's own largest cost)."""
        out = dict(self._tally)
        out["waiting"] += len(self._pending)
        return out

    def _update_summary(self) -> None:
        """Buttons at once; the summary line at most once per 50 ms while a burst of answers lands."""
        c = self.counts()
        self.cancel_button.setEnabled(bool(c["waiting"]))
        self._enable_results()
        if not self._summary_timer.isActive():
            self._summary_timer.start()

    def _enable_results(self) -> None:
        if self.tabular_mode:
            has = bool(self.tabular.results())
            self.export_button.setEnabled(has)
            self.clear_button.setEnabled(has)
            return
        c = self.counts()
        self.export_button.setEnabled(bool(c["done"] or c["failed"]))
        self.clear_button.setEnabled(bool(self.cards))

    def _write_summary(self) -> None:
        c = self.counts()
        total = sum(c.values())
        busy = bool(c["waiting"])
        self.cancel_button.setEnabled(busy)
        self._enable_results()
        if self.tabular_mode:
            self.summary.setText("")
            return
        if not total:
            self.summary.setText("")
            return
        parts = [f"{total} picture{'s' if total != 1 else ''}", f"{c['done']} answered"]
        if c["failed"]:
            parts.append(f"{c['failed']} failed")
        if c["cancelled"]:
            parts.append(f"{c['cancelled']} cancelled")
        parked = self.parked()
        if busy and c["waiting"] > sum(parked.values()):
            parts.append(f"{c['waiting'] - sum(parked.values())} waiting")
        for name, n in parked.items():
            parts.append(f"{n} wait for {name} to run again")
        if self._batch_start and self._last_answer and c["done"] > 1:
            seconds = self._last_answer - self._batch_start
            if seconds > 0:
                parts.append(f"{(c['done'] + c['failed']) / seconds:.0f} pictures/s")
        retries = getattr(self.client, "retries", 0)  # a service's client: requests sent to another replica
        if retries:
            parts.append(f"{retries} sent again to another replica")
        self.summary.setText(" · ".join(parts))

    # -- evaluate, compare, load test (dialogs; their work runs in gui.evaluate) ---------------------------
    def _open_tool(self, make):
        tool = make(self)
        tool.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        tool.destroyed.connect(lambda _obj=None, t=tool: self.tools.remove(t) if t in self.tools else None)
        self.tools.append(tool)
        tool.show()
        return tool

    def open_evaluate(self):
        from gui.qt.predict.evaluate import EvaluateDialog

        return self._open_tool(EvaluateDialog)

    def open_compare(self):
        from gui.qt.predict.compare import CompareDialog

        return self._open_tool(CompareDialog)

    def open_load_test(self):
        from gui.qt.predict.loadtest import LoadTestDialog

        return self._open_tool(LoadTestDialog)

    # -- files ----------------------------------------------------------------------------------------
    def _on_open(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Pictures to predict", "", PICTURE_FILTER)
        if paths:
            self.add_files(paths)

    def results(self) -> list[tuple[str, object]]:
        """(file, Prediction or error text) for every answered or failed card, in card order."""
        out = []
        for card in self.cards.values():
            if card.state == "done":
                out.append((card.name, card.prediction))
            elif card.state in ("failed", "cancelled"):
                out.append((card.name, card.error or "cancelled"))
        return out

    def export_csv(self, path: str) -> int:
        if self.tabular_mode:
            return self.tabular.write_csv(path)
        return write_csv(path, self.results())

    def _on_export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export predictions", "predictions.csv", "CSV (*.csv)")
        if not path:
            return
        try:
            rows = self.export_csv(path)
        except OSError as exc:
            self.summary.setText(f"Export failed: {exc.strerror or exc}")
            return
        self.summary.setText(f"Exported {rows} rows to {path}")

    # -- tabular --------------------------------------------------------------------------------------
    def _on_predict_rows(self, rows: list) -> None:
        client = self.client
        if client is None:
            self.tabular.show_error(self.problem or "no model chosen")
            return
        start = time.perf_counter()
        self._call(lambda: client.predict_rows(rows),
                   lambda preds: self.tabular.show_results(rows, preds, (time.perf_counter() - start) * 1000.0),
                   self.tabular.show_error)


def describe(meta: ModelMetadata) -> str:
    """One line about a model: ``● digits 1.0.0 · image-classification · 8×8×1 · 10 labels``."""
    parts = [f"● {meta.name or 'model'}{' ' + meta.version if meta.version else ''}"]
    if meta.task:
        parts.append(meta.task)
    if meta.input_kind == TABULAR:
        parts.append(f"{len(meta.features)} features")
    elif meta.has_input_size:
        parts.append(f"{meta.width}×{meta.height}×{meta.channels}")
    else:
        parts.append("input size not given")
    if meta.labels:
        parts.append(f"{len(meta.labels)} labels")
    return " · ".join(parts)
