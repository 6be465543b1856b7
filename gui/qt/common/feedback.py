"""Asking before destructive actions and telling the user what failed, without blocking the loop."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QMessageBox, QWidget


def confirm(parent: QWidget, title: str, text: str, action: str, on_yes: Callable[[bool], None],
            informative: str = "", checkbox: str | None = None) -> QMessageBox:
    """A window-modal question (objectName ``confirmDialog``); ``on_yes(checked)`` runs on accept."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Cancel, parent)
    box.setObjectName("confirmDialog")
    box.setInformativeText(informative)
    yes = box.addButton(action, QMessageBox.ButtonRole.DestructiveRole)
    yes.setObjectName("confirmYes")
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    check = None
    if checkbox:
        check = QCheckBox(checkbox, box)
        check.setObjectName("confirmCheck")
        box.setCheckBox(check)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

    def done(_result) -> None:
        if box.clickedButton() is yes:
            on_yes(bool(check and check.isChecked()))

    box.finished.connect(done)
    box.open()
    return box


def show_error(parent: QWidget, title: str, message: str) -> QMessageBox:
    """A non-blocking error message (objectName ``operationError``)."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, parent)
    box.setObjectName("operationError")
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.open()
    return box
