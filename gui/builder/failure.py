"""A failed build in words: the one line of its log that says why, and the log's ANSI colours.

The classic builder wraps whatever a RUN step writes to stderr in ``ESC[91m`` ... ``ESC[0m`` (red), in
chunks that do not follow lines: a line may open red and the reset arrive at the start of the next one.
So colours are read with a state carried from line to line (`AnsiLines`), never line by line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_SGR = re.compile(r"\x1b\[([0-9;]*)m")
_OTHER_ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-ln-z]|\x1b[()][A-Za-z0-9]|\r")
# SGR colour code -> colour name (bright and normal the same: a log has no room for both).
COLORS = {30: "black", 31: "red", 32: "green", 33: "yellow", 34: "blue", 35: "magenta", 36: "cyan",
          37: "white", 90: "grey", 91: "red", 92: "green", 93: "yellow", 94: "blue", 95: "magenta",
          96: "cyan", 97: "white"}

# What tools print when they give up, most telling first. Each match is one sentence a person can act on.
_CAUSES = (
    re.compile(r"^ERROR: (No matching distribution found for .+)$"),  # pip
    re.compile(r"^ERROR: (Could not find a version that satisfies the requirement .+?)(?: \(from versions.*)?$"),
    re.compile(r"^E: (Unable to locate package .+)$"),  # apt
    re.compile(r"^(\w*Error: .+)$"),  # a Python traceback's last line (ModuleNotFoundError: ...)
    re.compile(r"^ERROR: (.+)$"),  # pip's other errors
    re.compile(r"^E: (.+)$"),
    re.compile(r"^(?:/bin/sh: \d+: )?(.+: not found)$"),  # a command the image does not have
    re.compile(r"^(COPY failed: .+)$"),
)


class AnsiLines:
    """Strips ANSI escapes from successive lines; `feed(text)` -> (plain text, colour name or "")."""

    def __init__(self) -> None:
        self.color = ""

    def feed(self, text: str) -> tuple[str, str]:
        if "\x1b" not in text and "\r" not in text:
            return text, self.color
        line_color = ""
        pos = 0
        plain: list[str] = []
        for m in _SGR.finditer(text):
            chunk = text[pos:m.start()]
            if chunk and not line_color:
                line_color = self.color
            plain.append(chunk)
            self._apply(m.group(1))
            pos = m.end()
        tail = text[pos:]
        if tail and not line_color:
            line_color = self.color
        plain.append(tail)
        return _OTHER_ESCAPES.sub("", "".join(plain)), line_color

    def _apply(self, params: str) -> None:
        for part in (params or "0").split(";"):
            code = int(part) if part.isdigit() else 0
            if code in (0, 39):
                self.color = ""
            elif code in COLORS:
                self.color = COLORS[code]


def strip_ansi(text: str) -> str:
    return _OTHER_ESCAPES.sub("", _SGR.sub("", text))


def failure_cause(lines: Sequence[str], error: str = "") -> tuple[str, int]:
    """Why the build failed, as one sentence, and the index in ``lines`` that says it (-1: none did).

    ``lines`` are the log's lines (ANSI escapes allowed); ``error`` is the engine's message
    ("The command '/bin/sh -c pip install ...' returned a non-zero code: 1"), the answer when no line
    of the log says more."""
    plain = [strip_ansi(t).strip() for t in lines]
    start = _last_step(plain)
    for pattern in _CAUSES:
        for i in range(len(plain) - 1, start - 1, -1):
            m = pattern.match(plain[i])
            if m:
                return _sentence(m.group(1)), i
    return _sentence(strip_ansi(error).strip() or "the build failed"), -1


def _last_step(plain: list[str]) -> int:
    """Index of the last "Step n/m" line (the failing step starts there); 0 when there is none."""
    for i in range(len(plain) - 1, -1, -1):
        if plain[i].startswith("Step "):
            return i
    return 0


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    return text[:1].upper() + text[1:] if text else text
