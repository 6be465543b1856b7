"""The builder form (`builderForm`): made from a template's manifest, with an inline error under each field."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFormLayout, QGroupBox, QLabel, QVBoxLayout, QWidget

from gui.builder import Field, Template
from gui.qt.build.fields import FieldEditor, ImageEditor, make_editor
from gui.qt.common.style import set_role


class BuildForm(QWidget):
    """Build fields (they go into the image) and run fields (given to the Run dialog, never built in)."""

    changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("builderForm")
        self.template: Template | None = None
        self.editors: dict[str, FieldEditor] = {}
        self.errors: dict[str, QLabel] = {}
        self._local_images: list[str] = []
        self._filling = False
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(0, 0, 4, 0)
        self.build_box: QGroupBox | None = None
        self.run_box: QGroupBox | None = None
        self.layout_.addStretch(1)

    # -- building the form --------------------------------------------------------------
    def set_template(self, template: Template) -> None:
        """Replace the fields with this template's, filled with its defaults."""
        self.template = template
        self.editors.clear()
        self.errors.clear()
        for box in (self.build_box, self.run_box):
            if box is not None:
                self.layout_.removeWidget(box)
                box.hide()
                box.deleteLater()
        self.build_box = QGroupBox("Image", self)
        self.build_box.setObjectName("buildFields")
        self.run_box = QGroupBox("When it runs (Run dialog only, never stored in the image)", self)
        self.run_box.setObjectName("runFields")
        self.layout_.insertWidget(0, self.build_box)
        self.layout_.insertWidget(1, self.run_box)
        # The image tag first: it names what the build makes, and the Run… button and the history use it.
        build_fields = sorted(template.build_fields, key=lambda f: f.type != "tag")
        for box, fields in ((self.build_box, build_fields), (self.run_box, template.run_fields)):
            form = QFormLayout(box)
            form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
            form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
            form.setVerticalSpacing(4)
            for f in fields:
                form.addRow(self._label(f, box), self._row(f, box))
            box.setVisible(bool(fields))
        self._filling = True
        self.set_values(template.defaults(), template.run_defaults())
        self._filling = False
        self.set_local_images(self._local_images)
        self.changed.emit()

    def _label(self, f: Field, parent: QWidget) -> QLabel:
        label = QLabel(f.label + ":", parent)
        label.setToolTip(f.help)
        return label

    def _row(self, f: Field, parent: QWidget) -> QWidget:
        row = QWidget(parent)
        layout = QVBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(1)
        editor = make_editor(f, row)
        editor.changed.connect(self._on_edit)
        error = QLabel(row)
        error.setObjectName(f"error_{f.name}")
        error.setWordWrap(True)
        set_role(error, "error")
        error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        error.hide()
        layout.addWidget(editor)
        layout.addWidget(error)
        if f.help and f.type not in ("bool",):
            hint = QLabel(f.help, row)
            hint.setWordWrap(True)
            set_role(hint, "hint")
            hint.setObjectName(f"help_{f.name}")
            layout.addWidget(hint)
        self.editors[f.name] = editor
        self.errors[f.name] = error
        return row

    def _on_edit(self) -> None:
        if not self._filling:
            self.changed.emit()

    # -- values -------------------------------------------------------------------------
    def build_values(self) -> dict[str, Any]:
        t = self.template
        return {f.name: self.editors[f.name].value() for f in t.build_fields} if t else {}

    def run_values(self) -> dict[str, Any]:
        t = self.template
        return {f.name: self.editors[f.name].value() for f in t.run_fields} if t else {}

    def set_values(self, build: dict[str, Any], run: dict[str, Any] | None = None) -> None:
        """Fill the fields (unknown names are ignored); emits `changed` once."""
        filling, self._filling = self._filling, True
        try:
            for values in (build, run or {}):
                for name, value in values.items():
                    if name in self.editors:
                        self.editors[name].set_value(value)
        finally:
            self._filling = filling
        if not filling:
            self.changed.emit()

    def set_value(self, name: str, value: Any) -> None:
        self.editors[name].set_value(value)

    def show_errors(self, errors: dict[str, str]) -> None:
        """Show each message under its field; clear the others."""
        for name, label in self.errors.items():
            message = errors.get(name, "")
            label.setText(message)
            label.setVisible(bool(message))
            set_role(self.editors[name], "invalid" if message else None)

    def set_local_images(self, references: list[str]) -> None:
        self._local_images = list(references)
        for editor in self.editors.values():
            if isinstance(editor, ImageEditor):
                editor.set_local_images(self._local_images)

    def field_label(self, name: str) -> str:
        try:
            return self.template.field(name).label if self.template else name
        except KeyError:
            return name
