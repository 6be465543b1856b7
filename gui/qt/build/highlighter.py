"""Syntax highlighting for Dockerfiles: instructions, comments, strings, variables and flags."""

from __future__ import annotations

import re

from PySide6.QtGui import QFont, QSyntaxHighlighter, QTextCharFormat

from gui.qt.common import style

INSTRUCTIONS = (
    "FROM", "RUN", "CMD", "LABEL", "MAINTAINER", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME",
    "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL",
)
_INSTRUCTION = re.compile(rf"^\s*({'|'.join(INSTRUCTIONS)})\b", re.IGNORECASE)
_COMMENT = re.compile(r"^\s*#.*$")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"?' + r"|'[^']*'?")
_VARIABLE = re.compile(r"\$(?:\{[^}]*\}|[A-Za-z_][A-Za-z0-9_]*)")
_FLAG = re.compile(r"(?<=\s)--[a-z-]+(?:=\S*)?")
_CONTINUED = 1  # block state: the line ends with a backslash, so the next one continues it


def _format(role: str, bold: bool = False, italic: bool = False) -> QTextCharFormat:
    fmt = QTextCharFormat()
    fmt.setForeground(style.color(role))
    if bold:
        fmt.setFontWeight(QFont.Weight.Bold)
    fmt.setFontItalic(italic)
    return fmt


class DockerfileHighlighter(QSyntaxHighlighter):
    """Colours each line; a continuation line (after a trailing backslash) is not read as an instruction."""

    def __init__(self, document):
        super().__init__(document)
        self._make_formats()
        style.notifier.changed.connect(self._on_theme_changed)

    def _make_formats(self) -> None:
        self.formats = {
            "instruction": _format("syntax-instruction", bold=True),
            "comment": _format("syntax-comment", italic=True),
            "string": _format("syntax-string"),
            "variable": _format("syntax-variable"),
            "flag": _format("syntax-flag"),
        }

    def _on_theme_changed(self) -> None:
        self._make_formats()
        self.rehighlight()

    def highlightBlock(self, text: str) -> None:
        continued = self.previousBlockState() == _CONTINUED
        if not continued and _COMMENT.match(text):
            self.setFormat(0, len(text), self.formats["comment"])
            self.setCurrentBlockState(0)
            return
        if not continued and (m := _INSTRUCTION.match(text)):
            self.setFormat(m.start(1), m.end(1) - m.start(1), self.formats["instruction"])
        for m in _FLAG.finditer(text):
            self.setFormat(m.start(), m.end() - m.start(), self.formats["flag"])
        for m in _VARIABLE.finditer(text):
            self.setFormat(m.start(), m.end() - m.start(), self.formats["variable"])
        for m in _STRING.finditer(text):
            self.setFormat(m.start(), m.end() - m.start(), self.formats["string"])
        self.setCurrentBlockState(_CONTINUED if text.rstrip().endswith("\\") else 0)
