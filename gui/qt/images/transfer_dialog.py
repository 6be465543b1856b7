"""Pull or push one image with a progress bar per layer, an overall status line and Cancel."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QProgressBar,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from gui.engine import Engine
from gui.engine.reference import ReferenceError
from gui.engine.registry import LayerProgress, Transfer, TransferResult, TransferStatus
from gui.qt.common.style import set_role
from gui.qt.common.tasks import Stream, unless_bug


class LayerRow:
    """A layer's label and bar in the dialog's grid."""

    def __init__(self, layer_id: str, grid: QGridLayout, parent: QWidget):
        row = grid.rowCount()
        self.label = QLabel(layer_id, parent)
        self.label.setObjectName(f"layerLabel_{layer_id}")
        self.status = QLabel("", parent)
        self.status.setObjectName(f"layerStatus_{layer_id}")
        self.status.setMinimumWidth(130)
        self.bar = QProgressBar(parent)
        self.bar.setObjectName(f"layerProgress_{layer_id}")
        self.bar.setRange(0, 1000)
        self.bar.setValue(0)
        self.bar.setTextVisible(True)
        self.bar.setFormat("")
        grid.addWidget(self.label, row, 0)
        grid.addWidget(self.bar, row, 1)
        grid.addWidget(self.status, row, 2)
        self.done = False

    def update(self, p: LayerProgress) -> None:
        self.status.setText(p.status)
        self.done = p.done
        if p.done:
            self.bar.setRange(0, 1000)
            self.bar.setValue(1000)
            self.bar.setFormat("done")
        elif p.total > 0:
            self.bar.setRange(0, 1000)
            self.bar.setValue(min(1000, p.current * 1000 // p.total))
            self.bar.setFormat(f"{_size(min(p.current, p.total))} / {_size(p.total)}")
        elif p.status in ("Waiting", "Preparing", "Pulling fs layer"):
            self.bar.setRange(0, 1000)
            self.bar.setValue(0)
            self.bar.setFormat(p.status.lower())
        elif p.status in ("Download complete", "Verifying Checksum"):
            self.bar.setValue(1000)
            self.bar.setFormat(p.status.lower())


def _size(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n} B"


class TransferDialog(QDialog):
    """``TransferDialog(engine, "pull" | "push", reference)``; call ``start()``.

    ``succeeded(TransferResult)`` or ``failed(str)`` tells the outcome; Cancel closes the engine's
    response, which stops the transfer on the engine too.
    """

    succeeded = Signal(object)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, engine: Engine, kind: str, reference: str, parent=None):
        super().__init__(parent)
        self.setObjectName("transferDialog")
        self.engine = engine
        self.kind = kind
        self.reference = reference
        self.result: TransferResult | None = None
        self.error = ""
        self.rows: dict[str, LayerRow] = {}
        self._worker: Stream | None = None
        self._transfer: Transfer | None = None
        self.setWindowTitle(f"{kind.capitalize()} {reference}")
        self.setMinimumWidth(560)

        self.heading = QLabel(f"<b>{'Pulling' if kind == 'pull' else 'Pushing'} {reference}</b>", self)
        self.heading.setTextFormat(Qt.TextFormat.RichText)
        self.status = QLabel("Starting…", self)
        self.status.setObjectName("transferStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary = QLabel("", self)
        self.summary.setObjectName("transferSummary")

        layers = QWidget(self)
        self.grid = QGridLayout(layers)
        self.grid.setColumnStretch(1, 1)
        scroll = QScrollArea(self)
        scroll.setWidget(layers)
        scroll.setWidgetResizable(True)
        scroll.setMinimumHeight(160)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.cancel_button = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setObjectName("transferCancel")
        self.buttons.rejected.connect(self._on_cancel)

        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.status)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.summary)
        layout.addWidget(self.buttons)

    # -- life cycle ----------------------------------------------------------------------
    def start(self) -> bool:
        """Check the reference and begin; False (with the reason shown) when it is not valid."""
        try:
            self._transfer = Transfer(self.engine, self.kind, self.reference)
        except ReferenceError as exc:
            self._finish_with_error(str(exc))
            return False
        self._worker = Stream(self, self._transfer, f"image-{self.kind}")
        self._worker.item.connect(self._on_item)
        self._worker.failed.connect(unless_bug(self._on_failed, self._on_broken))
        self._worker.finished.connect(self._on_finished)
        self._worker.start()
        return True

    @property
    def running(self) -> bool:
        return self._worker is not None and self._worker.is_alive()

    def _finish(self, button_text: str = "Close") -> None:
        self.buttons.clear()
        close = self.buttons.addButton(button_text, QDialogButtonBox.ButtonRole.AcceptRole)
        close.setObjectName("transferClose")
        self.buttons.accepted.connect(self.accept)
        self.cancel_button = None

    def _finish_with_error(self, message: str) -> None:
        self.error = message
        self.status.setText(message)
        set_role(self.status, "error")
        self._finish()
        self.failed.emit(message)

    # -- handlers ------------------------------------------------------------------------
    def _on_item(self, item) -> None:
        if isinstance(item, LayerProgress):
            row = self.rows.get(item.id)
            if row is None:
                row = self.rows[item.id] = LayerRow(item.id, self.grid, self.grid.parentWidget())
            row.update(item)
            done = sum(1 for r in self.rows.values() if r.done)
            self.summary.setText(f"{done} of {len(self.rows)} layers done")
        elif isinstance(item, TransferStatus):
            self.status.setText(item.message)
        elif isinstance(item, TransferResult):
            self.result = item
            verb = "Pulled" if self.kind == "pull" else "Pushed"
            self.status.setText(f"{verb} {item.reference}\n{item.digest}")
            set_role(self.status, "ok")

    def _on_failed(self, exc: object) -> None:
        self._finish_with_error(str(exc))

    def _on_broken(self) -> None:
        self._finish_with_error("Stopped on an unexpected error (see the crash report).")

    def _on_finished(self) -> None:
        if self.result is not None:
            self._finish()
            self.succeeded.emit(self.result)
        elif not self.error and self._transfer is not None and self._transfer.closed:
            self.status.setText("Cancelled.")
            self._finish()

    def _on_cancel(self) -> None:
        if self._worker is not None and self.running:
            self.status.setText("Cancelling…")
            self._transfer.close()
            self._worker.stop()
            self.cancelled.emit()
            self.status.setText("Cancelled.")
            self._finish()
        else:
            self.reject()

    def reject(self) -> None:
        if self.running:
            self._on_cancel()
        super().reject()

    def closeEvent(self, event) -> None:
        if self.running:
            self._on_cancel()
        super().closeEvent(event)
