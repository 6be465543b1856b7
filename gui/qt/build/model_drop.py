"""Bring your own model: drop a model file (or a SavedModel folder) on the Build page, or *Open model…*.

The file is read off the UI thread by `gui.models.iter_inspect` (a pickle's scan reports its progress);
then the page switches to the template that serves it and fills the form. A file that would run code
the allow-lists do not know when loaded blocks the build until the user ticks "I trust this file",
which names the risk; the page records that choice in the build history. A model chosen in the form by
hand, or by an opened recipe, is scanned the same way. Nothing here loads a model.
"""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
)

from gui.models import ModelInfo, NotAModel, iter_inspect
from gui.models.detect import FILLED_FIELDS
from gui.qt.common.style import set_role
from gui.qt.common.tasks import Stream

MODEL_FILTER = ("Models (*.onnx *.keras *.h5 *.tflite *.joblib *.pkl *.skops *.zip saved_model.pb saved_model.pbtxt)"
                ";;All files (*)")
SAVED_MODEL_FILES = ("saved_model.pb", "saved_model.pbtxt")
MAX_GLOBALS_SHOWN = 12


class _Reading:
    """`iter_inspect(path)` for a Stream, without a close(): Stream.stop() then only sets its flag and the
    worker leaves the reading at its next item (a pickle's scan reports progress often). Closing the
    generator from the UI thread while the worker runs it raised "generator already executing"."""

    def __init__(self, path: str):
        self._items = iter_inspect(path)

    def __iter__(self):
        return self._items


def model_name(path: str) -> str:
    """A name for /health and the v2 URLs from the file's name ("My Net.onnx" -> "my-net")."""
    stem = re.sub(r"[^a-z0-9_.-]+", "-", Path(path).stem.lower()).strip("-._")
    return (stem or "model")[:63]


class ModelDrop(QObject):
    """The model panel of a BuildPage (`panel`), its drop target and its build gate (`problems`)."""

    def __init__(self, page):
        super().__init__(page)
        self.page = page
        self.info: ModelInfo | None = None
        self.error: tuple[str, str] | None = None  # (path, why it is not a model)
        self.reading = ""  # the path being read
        self._fill = False  # fill the form when the reading ends (a drop, Open model…)
        self._filling = False  # the form is being filled from a dropped model: its changes start no reading
        self.stream: Stream | None = None
        self.dialog: QFileDialog | None = None

        self.panel = QFrame(page)
        self.panel.setObjectName("modelPanel")
        self.open_button = QPushButton("Open model…", self.panel)
        self.open_button.setObjectName("openModel")
        self.open_button.setToolTip("Choose a model file: the template and the form follow from what it holds "
                                    "(you can also drop a file or a SavedModel folder on this page)")
        self.open_button.clicked.connect(self._on_open)
        # A SavedModel is a folder, and a file dialog picks files or folders, not both: a second button,
        # as file pickers of other desktop apps offer "Open folder…" beside "Open…".
        self.open_folder_button = QPushButton("Open model folder…", self.panel)
        self.open_folder_button.setObjectName("openModelFolder")
        self.open_folder_button.setToolTip("Choose a TensorFlow SavedModel folder (the one holding saved_model.pb)")
        self.open_folder_button.clicked.connect(self._on_open_folder)
        self.summary = QLabel("Drop a model file here (.onnx, .keras, .h5, .tflite, .joblib, .pkl, .skops) or a "
                              "SavedModel folder", self.panel)
        self.summary.setObjectName("modelSummary")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        set_role(self.summary, "muted")
        self.progress = QProgressBar(self.panel)
        self.progress.setObjectName("modelScanProgress")
        self.progress.setRange(0, 100)
        self.progress.setFormat("Reading the model… %p%")
        self.progress.hide()
        self.globals = QLabel(self.panel)
        self.globals.setObjectName("modelGlobals")
        self.globals.setWordWrap(True)
        self.globals.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.globals.hide()
        self.hints = QLabel(self.panel)
        self.hints.setObjectName("modelHints")
        self.hints.setWordWrap(True)
        set_role(self.hints, "warning")
        self.hints.hide()
        self.trust = QCheckBox(self.panel)
        self.trust.setObjectName("trustModel")
        self.trust.hide()
        self.trust.toggled.connect(self._on_trust)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.open_button)
        top.addWidget(self.open_folder_button)
        top.addWidget(self.summary, 1)
        top.addWidget(self.progress)
        layout = QVBoxLayout(self.panel)
        layout.setContentsMargins(0, 2, 0, 2)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.globals)
        layout.addWidget(self.trust)
        layout.addWidget(self.hints)

        page.setAcceptDrops(True)
        page.installEventFilter(self)
        page.form.changed.connect(self._on_form_changed)

    # -- drops and Open model… -----------------------------------------------------------
    def eventFilter(self, watched, event) -> bool:
        if watched is self.page and event.type() in (QEvent.Type.DragEnter, QEvent.Type.DragMove):
            if self._dropped_path(event):
                event.acceptProposedAction()
                return True
        elif watched is self.page and event.type() == QEvent.Type.Drop:
            path = self._dropped_path(event)
            if path:
                event.acceptProposedAction()
                self.open_model(path)
                return True
        return super().eventFilter(watched, event)

    @staticmethod
    def _dropped_path(event) -> str:
        urls = event.mimeData().urls() if event.mimeData() is not None else []
        local = [u.toLocalFile() for u in urls if u.isLocalFile()]
        return local[0] if len(local) == 1 else ""

    def _on_open(self) -> None:
        self._open_dialog("Open a model", QFileDialog.FileMode.ExistingFile)

    def _on_open_folder(self) -> None:
        self._open_dialog("Open a SavedModel folder", QFileDialog.FileMode.Directory)

    def _open_dialog(self, title: str, mode: QFileDialog.FileMode) -> None:
        """A window-modal dialog (open(), not exec(): the UI keeps painting); its choice goes where a drop goes."""
        if self.dialog is not None:
            self.dialog.close()
            self.dialog.deleteLater()
        dlg = QFileDialog(self.page, title)
        dlg.setObjectName("modelOpenDialog")
        dlg.setOption(QFileDialog.Option.DontUseNativeDialog, True)
        dlg.setFileMode(mode)
        if mode == QFileDialog.FileMode.Directory:
            dlg.setOption(QFileDialog.Option.ShowDirsOnly, True)
        else:
            dlg.setNameFilter(MODEL_FILTER)
        dlg.fileSelected.connect(self.open_model)
        self.dialog = dlg
        dlg.open()

    def open_model(self, path: str) -> None:
        """Read `path` off the UI thread; then choose its template and fill the form. A SavedModel's
        saved_model.pb, chosen in the file dialog, stands for its folder."""
        p = Path(path)
        if p.name in SAVED_MODEL_FILES and p.is_file():
            p = p.parent
        self._read(str(p), fill=True)

    # -- reading ------------------------------------------------------------------------
    def _read(self, path: str, fill: bool) -> None:
        if self.stream is not None:
            self.stream.stop()
        self.reading, self._fill = path, fill
        self.info, self.error = None, None
        self.trust.setChecked(False)
        self._set_trusted_types([])  # trust is given to one file, by its tick
        self.trust.hide()
        self.globals.hide()
        self.hints.hide()
        self.summary.setText(f"Reading {Path(path).name}…")
        set_role(self.summary, "muted")
        self.progress.setValue(0)
        self.progress.show()
        stream = Stream(self, _Reading(path), "model-inspect")
        stream.item.connect(lambda item, s=stream: self._on_item(s, item))
        stream.failed.connect(lambda exc, s=stream: self._on_failed(s, exc))
        self.stream = stream
        stream.start()
        self.page._update_build_button()

    def _on_item(self, stream: Stream, item) -> None:
        if stream is not self.stream:
            return
        if isinstance(item, ModelInfo):
            self._done(stream)
            self._show(item)
        else:
            self.progress.setValue(int(item * 100))

    def _on_failed(self, stream: Stream, exc: BaseException) -> None:
        if stream is not self.stream:
            return
        path = self.reading
        self._done(stream)
        # Deliberately every exception in words, not unless_bug: the parsers of a file the user chose
        # (pickle, ONNX, HDF5, TFLite ...) raise anything on a broken or foreign file; the type helps.
        message = str(exc) if isinstance(exc, (NotAModel, OSError)) else f"{type(exc).__name__}: {exc}"
        self.error = (path, message)
        self.summary.setText(message)
        set_role(self.summary, "error")
        self.page._update_build_button()

    def _done(self, stream: Stream) -> None:
        self.stream = None
        self.reading = ""
        self.progress.hide()
        stream.deleteLater()

    def _show(self, info: ModelInfo) -> None:
        self.info = info
        text = info.summary
        if info.scan is not None:
            text += f" (scanned in {info.scan.seconds:.2f} s)"
        self.summary.setText(text)
        set_role(self.summary, "error" if info.needs_trust else "ok")
        self._show_globals(info)
        if info.needs_trust:
            self.trust.setText(f"I trust this file and accept the risk: {info.risk()}")
            self.trust.setToolTip("Tick only if you made this file or trust whoever did: the image will load "
                                  "it, and loading it runs the code named here.")
            self.trust.show()
        if self._fill and info.template:
            self._fill_form(info)
        self.hints.setText("\n".join(info.hints))
        self.hints.setVisible(bool(info.hints))
        self.page._update_build_button()

    def _show_globals(self, info: ModelInfo) -> None:
        if info.scan is None and not info.risks:
            self.globals.hide()
            return
        lines = []
        if info.scan is not None:
            refs = info.scan.globals
            bad = [g for g in refs if g.verdict != "safe"]
            good = [g for g in refs if g.verdict == "safe"]
            lines += [f"<b>{g.verdict}</b>: {g.qualname}{' (called)' if g.called else ''}" for g in bad]
            shown = ", ".join(g.qualname for g in good[:MAX_GLOBALS_SHOWN])
            more = f" and {len(good) - MAX_GLOBALS_SHOWN} more" if len(good) > MAX_GLOBALS_SHOWN else ""
            if good:
                lines.append(f"known safe: {shown}{more}")
            if not info.scan.complete:
                lines.append(f"<b>not read to its end</b>: {info.scan.problem}")
        lines += [f"<b>needs trust</b>: {r}" for r in info.risks]
        self.globals.setText("Loading it would import:<br>" + "<br>".join(lines))
        set_role(self.globals, "error" if info.needs_trust else "muted")
        self.globals.show()

    def _fill_form(self, info: ModelInfo) -> None:
        """The form describes the dropped model only: each field a drop fills and this model does not
        (an earlier model's Labels file, features, picture size ...) goes back to the template's default,
        including the edits the page restores for a template it returns to. Model name and Image tag
        follow the file's name (keeping the earlier model's tag would build over its image); what no drop
        fills (packages, base image, version, port, input scale, run fields) stays as the user left it."""
        page = self.page
        self._filling = True  # the edits restored with the template name the earlier model: not read again
        try:
            page.set_template(info.template)
            defaults = page.template.defaults()
            values = {k: defaults[k] for k in FILLED_FIELDS if k in defaults}
            values.update(info.values)
            values.setdefault("name", model_name(info.path))
            if "tag" in page.form.editors:
                values.setdefault("tag", f"aics/{model_name(info.path)}:latest")
            page.form.set_values(values)
        finally:
            self._filling = False

    # -- the form and the build ---------------------------------------------------------
    def _model_value(self) -> str:
        editor = self.page.form.editors.get("model")
        return str(editor.value() or "") if editor is not None else ""

    def _on_form_changed(self) -> None:
        """A model chosen in the form (by hand or by a recipe) is read and scanned too."""
        if self._filling:
            return
        model = self._model_value()
        known = {self.reading, self.info.path if self.info else "", self.error[0] if self.error else ""}
        if model and model not in known and Path(model).exists():
            self._read(model, fill=False)

    def problems(self) -> list[str]:
        """Why the model stops the build now (empty: it does not)."""
        model = self._model_value()
        if not model:
            return []
        if self.reading == model:
            return ["the model file is still being read"]
        if self.error and self.error[0] == model:
            return [f"the model file: {self.error[1]}"]
        if self.info and self.info.path == model and self.info.needs_trust and not self.trust.isChecked():
            return [f"{self.info.risk()}. Tick \"I trust this file\" to build anyway"]
        return []

    def _on_trust(self, on: bool) -> None:
        """For a .skops file the tick also widens the image's allow-list: the types it was refused for go
        into the form's Trusted model types (the build writes them beside the model)."""
        info = self.info
        if info is not None and info.format == "skops" and info.scan is not None and info.path == self._model_value():
            self._set_trusted_types([g.qualname for g in info.scan.offending] if on else [])
        self.page._update_build_button()

    def _set_trusted_types(self, names: list[str]) -> None:
        editor = self.page.form.editors.get("trusted_types")
        if editor is not None and editor.value() != ", ".join(names):
            self.page.form.set_values({"trusted_types": names})

    def trusted_risk(self) -> str:
        """The risk the user accepted for this build's model ("" when none was needed)."""
        model = self._model_value()
        if self.info and self.info.path == model and self.info.needs_trust and self.trust.isChecked():
            return self.info.risk()
        return ""

    def shutdown(self) -> None:
        if self.stream is not None:
            self.stream.stop()
            self.stream = None
