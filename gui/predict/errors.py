"""The one error every prediction call raises, with a message a person understands."""

from __future__ import annotations


class PredictError(Exception):
    """A prediction, metadata or picture problem, said plainly.

    ``kind`` lets callers group failures without parsing the message: ``"connection"``, ``"timeout"``,
    ``"http"`` (the server answered with an error status), ``"answer"`` (the answer made no sense),
    ``"picture"`` (the file is not a usable picture) or ``"input"`` (rows or settings are wrong).
    """

    def __init__(self, message: str, kind: str = "answer", status: int | None = None):
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.status = status

    def __reduce__(self):  # pickled whole (from a picture helper process), not as Exception(message)
        return (type(self), (self.message, self.kind, self.status))

    def __str__(self) -> str:
        return self.message
