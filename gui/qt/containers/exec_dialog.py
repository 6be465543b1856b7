"""ExecDialog: run a command in a running container and watch its output and exit code."""

from __future__ import annotations

import shlex

from PySide6.QtGui import QFontDatabase, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from gui.engine import ContainerInfo, Engine
from gui.engine.exec import ExecExit, ExecOutput, ExecRun
from gui.qt.common import style
from gui.qt.common.tasks import Stream, message_of, unless_bug

MAX_OUTPUT_LINES = 20_000


class ExecDialog(QDialog):
    """Type a command (split like a shell would, or run by `sh -c`), press Run; output streams in."""

    def __init__(self, engine: Engine, container: ContainerInfo, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("execDialog")
        self.setWindowTitle(f"Run a command in {container.name}")
        self.engine = engine
        self.container = container
        self.exit_code: int | None = None
        self._worker: Stream | None = None
        self._running = False  # from Run to the worker's `finished` (or Stop): its thread may outlive both
        self.command = QLineEdit(self, objectName="execCommand", placeholderText="e.g. ls -la /  or  nvidia-smi")
        self.shell = QCheckBox("Run with sh -c", self, objectName="execShell")
        self.run_btn = QPushButton("Run", self, objectName="execRun")
        self.stop_btn = QPushButton("Stop", self, objectName="execStop", enabled=False)
        self.output = QPlainTextEdit(self, objectName="execOutput", readOnly=True)
        self.output.setMaximumBlockCount(MAX_OUTPUT_LINES)
        self.output.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.status = QLabel(self, objectName="execStatus")
        self.error = QLabel(self, objectName="execError", wordWrap=True)
        style.set_role(self.error, "error")
        self.error.hide()
        top = QHBoxLayout()
        for w in (self.command, self.shell, self.run_btn, self.stop_btn):
            top.addWidget(w)
        top.setStretch(0, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.output, 1)
        layout.addWidget(self.error)
        layout.addWidget(self.status)
        self._err_format = QTextCharFormat()
        self._err_format.setForeground(style.color("log-error"))
        self.command.returnPressed.connect(self.run)
        self.run_btn.clicked.connect(self.run)
        self.stop_btn.clicked.connect(self.stop)
        self.resize(720, 420)

    @property
    def worker(self) -> Stream | None:
        return self._worker

    def argv(self) -> list[str]:
        text = self.command.text().strip()
        if self.shell.isChecked():
            return ["sh", "-c", text] if text else []
        return shlex.split(text)

    def run(self) -> None:
        # not the worker thread's liveness: it runs on for a moment after `finished` reached this thread,
        # and a Run pressed (or a test's run()) in that moment was dropped without a word
        if self._running:
            return
        self.error.hide()
        self.exit_code = None
        try:
            argv = self.argv()
        except ValueError as exc:  # unbalanced quotes
            self._fail(f"Cannot read the command: {exc}")
            return
        if not argv:
            self._fail("Enter a command to run.")
            return
        self.output.clear()
        self.status.setText(f"Running {shlex.join(argv)}…")
        self.run_btn.setEnabled(False)
        self.stop_btn.setEnabled(True)
        self._running = True
        stream = ExecRun(self.engine, self.container.id, argv)
        self._worker = Stream(self, stream, f"exec-{self.container.name}")
        self._worker.item.connect(self._on_item)
        self._worker.failed.connect(unless_bug(lambda exc: self._fail(message_of(exc))))  # finished: idle again
        self._worker.finished.connect(self._on_finished)
        self._worker.start()

    def _on_item(self, item) -> None:
        if isinstance(item, ExecOutput):
            cursor = self.output.textCursor()
            cursor.movePosition(QTextCursor.MoveOperation.End)
            cursor.insertText(item.text, self._err_format if item.stderr else QTextCharFormat())
            self.output.ensureCursorVisible()
        elif isinstance(item, ExecExit):
            self.exit_code = item.code
            self.status.setText(item.message[:1].upper() + item.message[1:])
            if item.code in (126, 127):
                self._fail(item.message[:1].upper() + item.message[1:])

    def _on_finished(self) -> None:
        self._running = False
        self.run_btn.setEnabled(True)
        self.stop_btn.setEnabled(False)

    def _fail(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()
        if self.status.text().startswith("Running"):
            self.status.setText("Failed")

    def stop(self) -> None:
        """Stop reading the output (the engine cannot kill an exec'd process; it keeps running)."""
        if self._running:
            self._worker.stop()
            self._on_finished()  # a stopped stream sends no `finished`: Run would stay disabled
            self.status.setText("Stopped reading the output (the command may still run in the container)")

    def done(self, result: int) -> None:
        if self._worker is not None:
            self._worker.stop()
        super().done(result)

    def closeEvent(self, event):
        if self._worker is not None:
            self._worker.stop()
        super().closeEvent(event)
