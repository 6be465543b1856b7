"""Docker image references and PEP 508 requirements: the grammars the form checks against."""

from __future__ import annotations

import re

from packaging.requirements import InvalidRequirement, Requirement

# The form checks tags with the engine's reference grammar; split_reference lives there too (the
# engine tags with it, and the engine layer imports nothing from gui.builder).
from gui.engine.reference import reference_error, split_reference  # noqa: F401


def requirement_error(text: str) -> str | None:
    """Why `text` is not one PEP 508 requirement, or None. pip options (-r, --index-url ...) are refused."""
    if not text.strip():
        return "empty requirement"
    if any(c in text for c in "\r\n\x00"):
        return "one requirement per line"
    if text.lstrip().startswith("-"):
        return f"{text.strip()!r} is a pip option, not a package; options are not allowed here"
    try:
        Requirement(text)
    except InvalidRequirement as exc:
        first = str(exc).splitlines()[0]
        return f"{text.strip()!r} is not a valid requirement: {first}"
    return None


def requirement_name(text: str) -> str:
    """The normalised project name of a requirement ("Scikit_Learn>=1" -> "scikit-learn")."""
    return re.sub(r"[-_.]+", "-", Requirement(text).name).lower()


def is_pinned(text: str) -> bool:
    req = Requirement(text)
    return req.url is not None or any(s.operator in ("==", "===") for s in req.specifier)
