"""LogsView: follow one container's log live, search it, load older lines, copy and save it.

When the container stops the view waits; started again, it follows on after the last line it showed,
with a line that marks the gap. When the engine goes away (killed, frozen) the view asks it again, less
and less often, and follows on once it is back and the container runs."""

from __future__ import annotations

import re
import time

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from gui.engine import ContainerInfo, Engine
from gui.engine.logs import LogBatch, LogEnded, LogFollower, LogReader, older_lines, write_log
from gui.engine.state import container_state, ended_message
from gui.qt.common.log_lines import MAX_LINES, LogLines
from gui.qt.common.style import set_role
from gui.qt.common.tasks import Stream, Task, message_of, run, unless_bug

FIRST_LINES = 1000  # shown first, and added by each "Load more"
ENGINE_RETRY_MS = (1000, 10_000)  # first and longest wait between asks while the engine is away


class LogsView(QWidget):
    """The log of ``container``, followed from the moment the view is created until it closes.

    ``linesShown(total_received, lag_seconds)`` fires after each batch reaches the view.
    """

    linesShown = Signal(int, float)
    saved = Signal(str, int)  # path, lines written

    def __init__(self, engine: Engine, container: ContainerInfo, parent: QWidget | None = None,
                 tail: int | str = FIRST_LINES, max_lines: int = MAX_LINES):
        super().__init__(parent)
        self.engine = engine
        self.container = container
        self.tail = tail
        self.step = tail if isinstance(tail, int) and tail > 0 else FIRST_LINES  # lines per "Load more"
        self.received = 0
        self.more_available = True
        self._worker: Stream | None = None
        self._follower: LogFollower | None = None
        self._calls: list[Task] = []
        self._save_reader: list[LogReader] = []
        self.ended: LogEnded | None = None  # why the follow stopped, while it waits for a new start
        self._lost_at = ""  # when the engine went away ("HH:MM:SS"), while it is away
        self._engine_retry = QTimer(self, singleShot=True, interval=ENGINE_RETRY_MS[0])
        self._engine_retry.timeout.connect(self._ask_engine)
        self.setWindowTitle(f"Logs: {container.name}")
        self.setObjectName("logsView")

        self.lines = LogLines(self, max_lines=max_lines)
        self.lines.setObjectName("logView")
        self.search = QLineEdit(self, objectName="logSearch", placeholderText="Search (Enter: next)",
                                clearButtonEnabled=True)
        self.regex = QCheckBox("Regex", self, objectName="logRegex")
        self.prev_btn = QPushButton("◀", self, objectName="logSearchPrev", toolTip="Previous match (Shift+Enter)")
        self.next_btn = QPushButton("▶", self, objectName="logSearchNext", toolTip="Next match (Enter)")
        self.search_status = QLabel(self, objectName="logSearchStatus")
        self.stamps = QCheckBox("Timestamps", self, objectName="logTimestamps")
        self.load_more = QPushButton("Load more", self, objectName="logLoadMore",
                                     toolTip=f"Show {self.step:,} older lines")
        self.copy_btn = QPushButton("Copy", self, objectName="logCopy", toolTip="Copy the selected lines (or all)")
        self.save_btn = QPushButton("Save…", self, objectName="logSave",
                                    toolTip="Save the whole log, read again from the engine")
        self.count = QLabel("0 lines received", self, objectName="logLineCount")
        self.dropped = QLabel(self, objectName="logDropped")
        self.state = QLabel("Connecting…", self, objectName="logState")
        self.error = QLabel(self, objectName="logError", wordWrap=True)
        set_role(self.error, "error")
        self.error.hide()
        self.dropped.hide()
        self.search_status.setMinimumWidth(170)
        self.search.setMinimumWidth(220)
        for b in (self.prev_btn, self.next_btn):
            b.setFixedWidth(32)

        top = QHBoxLayout()
        for w in (self.search, self.regex, self.prev_btn, self.next_btn, self.search_status):
            top.addWidget(w)
        top.addStretch(1)
        for w in (self.stamps, self.load_more, self.copy_btn, self.save_btn):
            top.addWidget(w)
        bottom = QHBoxLayout()
        for w in (self.count, self.dropped, self.state):
            bottom.addWidget(w)
        bottom.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.lines, 1)
        layout.addWidget(self.error)
        layout.addLayout(bottom)

        self._search_timer = QTimer(self, singleShot=True, interval=150)
        self._search_timer.timeout.connect(self._apply_search)
        self.search.textChanged.connect(lambda _text: self._search_timer.start())
        self.regex.toggled.connect(self._apply_search)
        self.search.returnPressed.connect(self._on_return)
        self.next_btn.clicked.connect(lambda: self.find(True))
        self.prev_btn.clicked.connect(lambda: self.find(False))
        self.stamps.toggled.connect(self.lines.set_show_stamps)
        self.load_more.clicked.connect(self._on_load_more)
        self.copy_btn.clicked.connect(self.lines.copy)
        self.save_btn.clicked.connect(self._on_save)
        self.load_more.setEnabled(False)
        self._start()

    # -- following ----------------------------------------------------------------------
    def _start(self, after_stamp: str = "") -> None:
        self.ended = None
        self._follower = LogFollower(self.engine, self.container.id, tail=self.tail, after_stamp=after_stamp)
        self._worker = Stream(self, self._follower, f"logs-{self.container.name}")
        self._worker.item.connect(self._on_item)
        self._worker.failed.connect(unless_bug(self._on_failed, self._on_stopped))
        self._worker.start()
        self.state.setText("Following…")

    def _on_item(self, item) -> None:
        if isinstance(item, LogBatch):
            self.received += len(item)
            self.lines.append(item.texts, item.stamps, item.stderr)
            self._update_counts()
            self.linesShown.emit(self.received, time.monotonic() - item.received_at)
        elif isinstance(item, LogEnded):
            self.state.setText(item.message)
            if item.engine_lost:  # follow again once the engine is back
                self.ended = item
                self._lost_at = time.strftime("%H:%M:%S")
                self.state.setToolTip("The log follows on when the engine is back")
                self._engine_retry.setInterval(ENGINE_RETRY_MS[0])
                self._engine_retry.start()
            elif item.state:  # stopped, not removed: follow again once it starts
                self.ended = item
                self.state.setToolTip("The log follows on when the container is started again")
                engine, cid = self.engine, self.container.id
                # It may have started again before this message came (a quick `docker restart`).
                self._track(run(self, lambda: container_state(engine, cid)[0], self._on_state_read,
                                unless_bug(lambda _exc: None)))

    def _on_state_read(self, state: str) -> None:
        if state in ("running", "paused"):
            self.container_started()

    def _ask_engine(self) -> None:
        engine, cid = self.engine, self.container.id
        self._track(run(self, lambda: container_state(engine, cid), self._on_engine_back,
                        unless_bug(self._on_engine_away)))

    def _on_engine_away(self, _exc) -> None:
        if self.ended is not None and self.ended.engine_lost:
            self._engine_retry.setInterval(min(self._engine_retry.interval() * 2, ENGINE_RETRY_MS[1]))
            self._engine_retry.start()

    def _on_engine_back(self, state_code) -> None:
        """The engine answers again: follow on if the container runs, else wait for its start (or say it is gone)."""
        if self.ended is None or not self.ended.engine_lost:
            return
        state, code = state_code
        if state in ("running", "paused"):
            self.container_started()
            return
        self._mark_gap(f"engine unreachable from {self._lost_at} to {time.strftime('%H:%M:%S')}")
        self.ended = LogEnded(ended_message(state, code), state, code) if state else None
        self.state.setText(ended_message(state, code))
        self.state.setToolTip("The log follows on when the container is started again" if state else "")

    def _mark_gap(self, text: str) -> None:
        self.lines.append([f"──── {text} ────"], [""])

    def container_started(self) -> None:
        """The container runs again: mark the gap and follow on after the last line shown."""
        if self.ended is None:
            return
        ended, self.ended = self.ended, None
        self._engine_retry.stop()
        self.state.setToolTip("")
        if self._worker is not None:
            self._worker.stop()  # it already ended; its thread may still be on its way out
        last = next((s for s in reversed(self.lines.stamps) if s), "")
        now = time.strftime("%H:%M:%S")
        if ended.engine_lost:
            self._mark_gap(f"engine unreachable from {self._lost_at} to {now}")
        else:
            self._mark_gap(f"{ended.message}; started again at {now}")
        self._start(after_stamp=last)

    def on_containers_changed(self, upserts: list, _removed: list) -> None:
        """The engine's container events (EngineSession.containersChanged): resume on a start."""
        if self.ended is None:
            return
        for c in upserts:
            if c.id == self.container.id and c.state in ("running", "paused"):
                self.container_started()

    def _on_failed(self, exc) -> None:
        self._on_stopped()
        self._show_error(message_of(exc))

    def _on_stopped(self) -> None:
        self.state.setText("Stopped")

    def _update_counts(self) -> None:
        self.count.setText(f"{self.received:,} lines received")
        if self.lines.dropped:
            self.dropped.setText(f"{self.lines.dropped:,} older lines dropped "
                                 f"(the view keeps the last {self.lines.max_lines:,})")
            self.dropped.show()
        self.load_more.setEnabled(self.more_available and not self.lines.dropped
                                  and len(self.lines.texts) < self.lines.max_lines)

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))

    def stop(self) -> None:
        """Close the log stream (and a save in progress); returns at once."""
        self._engine_retry.stop()
        if self._worker is not None:
            self._worker.stop()
        for reader in self._save_reader:
            reader.close()
        for call in self._calls:
            call.cancel()

    def closeEvent(self, event):
        self.stop()
        super().closeEvent(event)

    @property
    def worker(self) -> Stream | None:
        return self._worker

    # -- search -------------------------------------------------------------------------
    def _apply_search(self) -> None:
        self._search_timer.stop()
        text = self.search.text()
        if not text:
            self.lines.set_pattern(None)
            self.search_status.setText("")
            set_role(self.search, None)
            return
        try:
            pattern = re.compile(text if self.regex.isChecked() else re.escape(text), re.IGNORECASE)
        except re.error as exc:
            self.lines.set_pattern(None)
            self.search_status.setText(f"Bad pattern: {exc}")
            set_role(self.search, "search-miss")
            return
        set_role(self.search, None)
        self.lines.set_pattern(pattern)
        n = len(self.lines.matching_rows())
        self.search_status.setText(f"{n:,} matching lines" if n else "No match")

    def _on_return(self) -> None:
        from PySide6.QtWidgets import QApplication

        self.find(not QApplication.keyboardModifiers() & Qt.KeyboardModifier.ShiftModifier)

    def find(self, forward: bool = True) -> int | None:
        """Go to the next (previous) matching line; returns its absolute row, or None."""
        if self._search_timer.isActive() or self.lines.pattern is None:
            self._apply_search()
        row = self.lines.find(forward)
        if row is None and self.lines.pattern is not None:
            self.search_status.setText("No match")
        elif row is not None:
            self.search_status.setText(f"Line {row - self.lines.first + 1:,} of {len(self.lines.texts):,}")
        return row

    # -- load more ----------------------------------------------------------------------
    def _on_load_more(self) -> None:
        if not self.lines.texts:
            return
        self.load_more.setEnabled(False)
        self.load_more.setText("Loading…")
        before = self.lines.stamps[0]
        known = len(self.lines.texts)
        want = min(self.step, self.lines.max_lines - known)
        engine, cid = self.engine, self.container.id
        self._track(run(self, lambda: older_lines(engine, cid, before, want, known),
                                   lambda batch: self._on_older(batch, want),
                                   unless_bug(self._on_older_failed, self._on_older_stopped)))

    def _on_older(self, batch: LogBatch, wanted: int) -> None:
        self.load_more.setText("Load more")
        if self.lines.dropped:  # lines were dropped meanwhile: there is no gap-free place for them
            self.more_available = False
        else:
            self.lines.prepend(batch.texts, batch.stamps, batch.stderr)
            self.more_available = len(batch) >= wanted
        self._update_counts()
        if not self.more_available:
            self.load_more.setToolTip("The view holds the log from its first line")

    def _on_older_failed(self, exc) -> None:
        self._on_older_stopped()
        self._show_error(f"Could not load older lines: {message_of(exc)}")

    def _on_older_stopped(self) -> None:
        self.load_more.setText("Load more")
        self._update_counts()

    # -- save ---------------------------------------------------------------------------
    def _on_save(self) -> None:
        dialog = QFileDialog(self, f"Save the log of {self.container.name}")
        dialog.setObjectName("logSaveDialog")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.selectFile(f"{self.container.name}.log")
        dialog.fileSelected.connect(self.save_to)
        dialog.open()

    def save_to(self, path: str) -> None:
        """Read the whole log from the engine again (in the background) and write it to ``path``."""
        if not path:
            return
        self.save_btn.setEnabled(False)
        self.state.setText(f"Saving to {path}…")
        stamps = self.stamps.isChecked()
        engine, cid = self.engine, self.container.id
        box = self._save_reader = []

        def work() -> int:
            with open(path, "w", encoding="utf-8") as out:
                return write_log(engine, cid, out, timestamps=stamps, reader_box=box)

        self._track(run(self, work, lambda n: self._on_saved(path, n),
                        unless_bug(self._on_save_failed, self._on_save_stopped)))

    def _on_saved(self, path: str, n: int) -> None:
        self.save_btn.setEnabled(True)
        self.state.setText(f"Saved {n:,} lines to {path}")
        self.saved.emit(path, n)

    def _on_save_failed(self, exc) -> None:
        self._on_save_stopped()
        self._show_error(f"Could not save the log: {message_of(exc)}")

    def _on_save_stopped(self) -> None:
        self.save_btn.setEnabled(True)
        self.state.setText("Save failed")

    def _track(self, call: Task) -> None:
        self._calls = [c for c in self._calls if c.future is None or not c.future.done()] + [call]
