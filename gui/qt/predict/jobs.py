"""What the Evaluate, Compare and Load test dialogs share: one run streamed off the UI thread at a time."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog


class JobDialog(QDialog):
    """A dialog that runs one Qt-free job (``self.job``: a PredictionRun or a LoadSweep, with
    ``alive_threads()``) through a ``tasks.Stream`` (``self.stream``); closing it cancels the job.
    Subclasses set ``self._active`` while a run is on and implement ``cancel()``."""

    _active = False
    job = None
    stream = None

    @property
    def running(self) -> bool:
        """From Start until the last answer was taken in (or Cancel)."""
        return self._active

    def threads_alive(self) -> bool:
        return bool((self.stream is not None and self.stream.is_alive())
                    or (self.job is not None and self.job.alive_threads()))

    def closeEvent(self, event) -> None:
        self.cancel()
        super().closeEvent(event)

    def cancel(self) -> None:  # pragma: no cover - every subclass has its own
        raise NotImplementedError
