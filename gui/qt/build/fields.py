"""One editor widget per manifest field type; each reads and writes the raw value the builder checks."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QWidget,
)

from gui.builder import Field

PYTHON_SLIM_TAGS = ("python:3.13-slim", "python:3.12-slim", "python:3.11-slim", "python:3.10-slim")


class FieldEditor(QWidget):
    """Base: `changed` whenever the user edits; `value()` is the raw value, `set_value()` fills it."""

    changed = Signal()

    def __init__(self, field: Field, parent=None):
        super().__init__(parent)
        self.field = field
        self.layout_ = QHBoxLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)

    def value(self) -> Any:
        raise NotImplementedError

    def set_value(self, value: Any) -> None:
        raise NotImplementedError

    def _add(self, widget: QWidget, stretch: int = 1) -> QWidget:
        widget.setObjectName(f"field_{self.field.name}")
        widget.setToolTip(self.field.help)
        self.layout_.addWidget(widget, stretch)
        return widget


class LineEditor(FieldEditor):
    """text, name, version, tag, names, numbers and ports: one line of text."""

    def __init__(self, field: Field, parent=None):
        super().__init__(field, parent)
        self.edit: QLineEdit = self._add(QLineEdit(self))
        if field.type == "names":
            example = field.extra.get("example")
            self.edit.setPlaceholderText(f"comma-separated, for example {example}" if example else "comma-separated")
        self.edit.textChanged.connect(self.changed)
        if field.type in ("int", "float", "port"):
            self.edit.setMaximumWidth(140)
            self.layout_.addStretch(1)

    def value(self) -> Any:
        return self.edit.text()

    def set_value(self, value: Any) -> None:
        if isinstance(value, (list, tuple)):
            value = ", ".join(map(str, value))
        self.edit.setText("" if value is None else str(value))


class LinesEditor(FieldEditor):
    """requirements (one a line) and mappings (KEY=value a line)."""

    def __init__(self, field: Field, parent=None):
        super().__init__(field, parent)
        self.edit: QPlainTextEdit = self._add(QPlainTextEdit(self))
        self.edit.setTabChangesFocus(True)
        self.edit.setFixedHeight(64)
        self.edit.setPlaceholderText(
            "one requirement a line, for example numpy==2.1.3" if field.type == "requirements"
            else "KEY=value, one a line"
        )
        self.edit.textChanged.connect(self.changed)

    def value(self) -> Any:
        return self.edit.toPlainText()

    def set_value(self, value: Any) -> None:
        if isinstance(value, dict):
            text = "\n".join(f"{k}={v}" for k, v in value.items())
        elif isinstance(value, (list, tuple)):
            text = "\n".join(map(str, value))
        else:
            text = "" if value is None else str(value)
        self.edit.setPlainText(text)


class ImageEditor(FieldEditor):
    """The base image: the official python:3.x-slim tags, the engine's local images, or any name typed."""

    def __init__(self, field: Field, parent=None):
        super().__init__(field, parent)
        self.combo: QComboBox = self._add(QComboBox(self))
        self.combo.setEditable(True)
        self.combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.combo.setMaxVisibleItems(20)
        self.combo.editTextChanged.connect(self.changed)
        self.set_local_images([])

    def set_local_images(self, references: list[str]) -> None:
        """Offer the official tags first, then the local images (not the same one twice)."""
        official = list(dict.fromkeys([*self.field.choices, *PYTHON_SLIM_TAGS]))
        official.sort(key=lambda r: r not in self.field.choices)
        local = sorted({r for r in references if r and "<none>" not in r} - set(official))
        text = self.combo.currentText()
        self.combo.blockSignals(True)
        self.combo.clear()
        for ref in official:
            self.combo.addItem(ref, "official")
        if local:
            self.combo.insertSeparator(self.combo.count())
            for ref in local:
                self.combo.addItem(ref, "local")
        self.combo.setEditText(text)
        self.combo.blockSignals(False)

    def value(self) -> Any:
        return self.combo.currentText().strip()

    def set_value(self, value: Any) -> None:
        self.combo.setEditText("" if value is None else str(value))


class ChoiceEditor(FieldEditor):
    def __init__(self, field: Field, parent=None):
        super().__init__(field, parent)
        self.combo: QComboBox = self._add(QComboBox(self))
        for c in field.choices:
            self.combo.addItem(str(c), c)
        self.combo.currentIndexChanged.connect(self.changed)

    def value(self) -> Any:
        return self.combo.currentData()

    def set_value(self, value: Any) -> None:
        i = self.combo.findText(str(value))
        if i >= 0:
            self.combo.setCurrentIndex(i)


class BoolEditor(FieldEditor):
    """A check box whose text (the field's help) wraps: a QCheckBox's own text never does, and a long one
    made the form wider than its column (a horizontal scroll bar and cut hints at 1440x900)."""

    def __init__(self, field: Field, parent=None):
        super().__init__(field, parent)
        self.box: QCheckBox = self._add(QCheckBox(self), 0)
        self.box.setAccessibleName(field.label)
        self.text = QLabel(field.help or "", self)
        self.text.setObjectName(f"help_{field.name}")
        self.text.setWordWrap(True)
        self.text.setBuddy(self.box)
        self.text.installEventFilter(self)  # a click on the text ticks the box, as on a check box's own text
        self.layout_.addWidget(self.text, 1)
        self.layout_.setAlignment(self.box, Qt.AlignmentFlag.AlignTop)
        self.box.toggled.connect(self.changed)

    def eventFilter(self, watched, event) -> bool:
        if (watched is self.text and event.type() == QEvent.Type.MouseButtonRelease
                and event.button() == Qt.MouseButton.LeftButton and self.box.isEnabled()):
            self.box.toggle()
            return True
        return super().eventFilter(watched, event)

    def value(self) -> Any:
        return self.box.isChecked()

    def set_value(self, value: Any) -> None:
        self.box.setChecked(bool(value) and str(value).lower() not in ("0", "false", "no", "off"))


class FileEditor(FieldEditor):
    """A file (or, for `path` fields, a folder) of this computer, typed or picked."""

    def __init__(self, field: Field, parent=None):
        super().__init__(field, parent)
        self.edit: QLineEdit = self._add(QLineEdit(self))
        self.edit.setPlaceholderText("none" if not field.required else "required")
        self.edit.setClearButtonEnabled(True)
        self.edit.textChanged.connect(self.changed)
        browse = QPushButton("Choose…", self)
        browse.setObjectName(f"browse_{field.name}")
        browse.clicked.connect(self._on_browse)
        self.layout_.addWidget(browse)
        self.dialog: QFileDialog | None = None

    def _on_browse(self) -> None:
        f = self.field
        dlg = QFileDialog(self, f"Choose the {f.label.lower()}")
        dlg.setObjectName(f"fileDialog_{f.name}")
        dlg.setOption(QFileDialog.Option.DontUseNativeDialog, True)
        if f.type == "path":
            dlg.setFileMode(QFileDialog.FileMode.Directory)
        else:
            dlg.setFileMode(QFileDialog.FileMode.ExistingFile)
            if f.extensions:
                patterns = " ".join(f"*{e}" for e in f.extensions)
                dlg.setNameFilters([f"{f.label} ({patterns})", "All files (*)"])
        dlg.fileSelected.connect(self.edit.setText)
        dlg.finished.connect(dlg.deleteLater)
        self.dialog = dlg
        dlg.open()

    def value(self) -> Any:
        return self.edit.text().strip()

    def set_value(self, value: Any) -> None:
        self.edit.setText("" if value is None else str(value))


class SecretEditor(LineEditor):
    def __init__(self, field: Field, parent=None):
        super().__init__(field, parent)
        self.edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.edit.setPlaceholderText("not saved in recipes, never in the image")


def make_editor(field: Field, parent=None) -> FieldEditor:
    """The editor for this field's type."""
    if field.type == "image":
        return ImageEditor(field, parent)
    if field.type in ("requirements", "mapping"):
        return LinesEditor(field, parent)
    if field.type in ("file", "path"):
        return FileEditor(field, parent)
    if field.type == "choice":
        return ChoiceEditor(field, parent)
    if field.type == "bool":
        return BoolEditor(field, parent)
    if field.type == "secret":
        return SecretEditor(field, parent)
    return LineEditor(field, parent)
