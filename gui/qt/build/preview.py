"""The live Dockerfile preview (`dockerfilePreview`) with lint warnings and "Edit as text".

A hand edit is never overwritten by a form change: while the text differs from what the form
renders, the form's new text is kept aside and a notice offers "Discard my edits".
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase, QTextCursor
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from gui.builder import LintWarning
from gui.qt.build.highlighter import DockerfileHighlighter
from gui.qt.common import style


class DockerfilePreview(QWidget):
    """`textChanged` fires when the Dockerfile that would be built changes (form or hand edit)."""

    textChanged = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.rendered = ""
        self.hand_text: str | None = None
        self.form_changed_since_edit = False
        self._setting = False

        title = QLabel("<b>Dockerfile</b>", self)
        self.status = QLabel(self)
        self.status.setObjectName("previewStatus")
        style.set_role(self.status, "error")
        self.edit_button = QPushButton("Edit as text", self)
        self.edit_button.setObjectName("editAsText")
        self.edit_button.setCheckable(True)
        self.edit_button.setToolTip("Change the Dockerfile by hand; the form then no longer rewrites it")
        self.edit_button.toggled.connect(self._on_edit_toggled)

        self.notice = QFrame(self)
        self.notice.setObjectName("handEditNotice")  # coloured by the application stylesheet (style.py)
        self.notice_text = QLabel(self.notice)
        self.notice_text.setObjectName("handEditNoticeText")
        self.notice_text.setWordWrap(True)
        self.discard_button = QPushButton("Discard my edits", self.notice)
        self.discard_button.setObjectName("discardEdits")
        self.discard_button.clicked.connect(self.discard_edits)
        row = QHBoxLayout(self.notice)
        row.setContentsMargins(8, 4, 8, 4)
        row.addWidget(self.notice_text, 1)
        row.addWidget(self.discard_button)
        self.notice.hide()

        self.editor = QPlainTextEdit(self)
        self.editor.setObjectName("dockerfilePreview")
        self.editor.setReadOnly(True)
        self.editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.editor.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.editor.setTabChangesFocus(True)
        self.highlighter = DockerfileHighlighter(self.editor.document())
        self.editor.textChanged.connect(self._on_text_changed)

        self.lint_title = QLabel(self)
        self.lint_title.setObjectName("lintTitle")
        self.lint = QListWidget(self)
        self.lint.setObjectName("lintWarnings")
        self.lint.setMaximumHeight(96)
        self.lint.setWordWrap(True)
        self.lint.itemActivated.connect(self._on_lint_activated)
        self.lint.itemClicked.connect(self._on_lint_activated)

        head = QHBoxLayout()
        head.addWidget(title)
        head.addWidget(self.status, 1)
        head.addWidget(self.edit_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 0, 0, 0)
        layout.addLayout(head)
        layout.addWidget(self.notice)
        layout.addWidget(self.editor, 1)
        layout.addWidget(self.lint_title)
        layout.addWidget(self.lint)

    # -- what is built ------------------------------------------------------------------
    @property
    def is_hand_edited(self) -> bool:
        return self.hand_text is not None

    def dockerfile(self) -> str:
        """The text a build uses: the hand edit if there is one, else what the form renders."""
        return self.hand_text if self.hand_text is not None else self.rendered

    def set_rendered(self, text: str) -> None:
        """The form's Dockerfile. Shown, unless the user's hand edit is there: then kept aside."""
        if text == self.rendered:
            return
        self.rendered = text
        if self.hand_text is None:
            self._show(text)
            self.textChanged.emit()
        else:
            self.form_changed_since_edit = True
            self._update_notice()

    def set_hand_text(self, text: str) -> None:
        """Take `text` as a hand edit (an opened recipe's own Dockerfile)."""
        self.hand_text = text if text != self.rendered else None
        self.form_changed_since_edit = False
        self._show(text)
        self._update_notice()
        self.textChanged.emit()

    def discard_edits(self) -> None:
        """Back to the form's Dockerfile."""
        self.hand_text = None
        self.form_changed_since_edit = False
        self.edit_button.setChecked(False)
        self._show(self.rendered)
        self._update_notice()
        self.textChanged.emit()

    def set_stale(self, message: str) -> None:
        """Say why the preview does not follow the form right now ("" when it does)."""
        self.status.setText(message)
        self.status.setToolTip(message)

    def set_lint(self, warnings: list[LintWarning]) -> None:
        self.lint.clear()
        for w in warnings:
            where = f"line {w.line}: " if w.line else (f"{w.field}: " if w.field else "")
            mark = "⛔" if w.severity == "error" else "⚠"
            item = QListWidgetItem(f"{mark} {where}{w.message}")
            item.setData(Qt.ItemDataRole.UserRole, w.line)
            item.setForeground(style.color("error" if w.severity == "error" else "warning", self))
            self.lint.addItem(item)
        errors = sum(w.severity == "error" for w in warnings)
        n = len(warnings)
        text = "No lint warnings" if not n else f"Lint: {n} warning{'s' * (n != 1)}"
        self.lint_title.setText(text + (f" ({errors} will not build)" if errors else ""))
        self.lint.setVisible(bool(n))

    # -- handlers -----------------------------------------------------------------------
    def _show(self, text: str) -> None:
        if self.editor.toPlainText() == text:
            return
        bar = self.editor.verticalScrollBar()
        value = bar.value()
        self._setting = True
        try:
            self.editor.setPlainText(text)
        finally:
            self._setting = False
        bar.setValue(value)

    def _on_edit_toggled(self, on: bool) -> None:
        self.editor.setReadOnly(not on)
        self.edit_button.setText("Done editing" if on else "Edit as text")
        if on:
            self.editor.setFocus()
        self._update_notice()

    def _on_text_changed(self) -> None:
        if self._setting:
            return
        text = self.editor.toPlainText()
        self.hand_text = None if text == self.rendered else text
        if self.hand_text is None:
            self.form_changed_since_edit = False
        self._update_notice()
        self.textChanged.emit()

    def _update_notice(self) -> None:
        if self.hand_text is None:
            self.notice.hide()
            return
        if self.form_changed_since_edit:
            text = ("<b>The form changed, but your hand-edited Dockerfile was kept.</b> "
                    "Builds use your edits; discard them to follow the form again.")
        else:
            text = "<b>Edited by hand.</b> Builds use this text; form changes no longer rewrite it."
        self.notice_text.setText(text)
        self.notice.show()

    def _on_lint_activated(self, item: QListWidgetItem) -> None:
        line = int(item.data(Qt.ItemDataRole.UserRole) or 0)
        if line <= 0:
            return
        block = self.editor.document().findBlockByLineNumber(line - 1)
        cursor = QTextCursor(block)
        cursor.select(QTextCursor.SelectionType.LineUnderCursor)
        self.editor.setTextCursor(cursor)
        self.editor.centerCursor()
