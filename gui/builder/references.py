"""Docker image references and PEP 508 requirements: the grammars the form checks against."""

from __future__ import annotations

import re

from packaging.requirements import InvalidRequirement, Requirement

# Docker's reference grammar (distribution/reference/regexp.go), written out.
_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?"
_NAME = rf"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_REFERENCE = re.compile(rf"^(?P<name>{_NAME})(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?$")
NAME_TOTAL_LENGTH_MAX = 255


def reference_error(ref: str, allow_digest: bool = True) -> str | None:
    """Why `ref` is not a valid image reference, or None. A tag (what we build) takes no digest."""
    if not ref:
        return "give an image name, for example myname/model:1.0"
    if ref != ref.strip() or any(c.isspace() for c in ref):
        return "an image name has no spaces"
    m = _REFERENCE.match(ref)
    if m is None:
        if ref.lower() != ref and _REFERENCE.match(ref.lower()):
            return "the repository name must be lowercase"
        return (
            "not a valid image name: use lowercase letters, digits and . _ - separated by /, "
            "then an optional :tag"
        )
    first, slash, _ = m.group("name").partition("/")
    is_domain = slash and ("." in first or ":" in first or first.startswith("[") or first == "localhost")
    if slash and not is_domain and not re.fullmatch(_PATH_COMPONENT, first):
        # Docker reads a first part without "." or ":" as a path on Docker Hub: lowercase only
        return "the repository name must be lowercase"
    if len(m.group("name")) > NAME_TOTAL_LENGTH_MAX:
        return f"the repository name is longer than {NAME_TOTAL_LENGTH_MAX} characters"
    if m.group("digest") and not allow_digest:
        return "a tag for a new image cannot have an @digest"
    return None


def split_reference(ref: str) -> tuple[str, str]:
    """ "repo/name:tag" -> ("repo/name", "tag"); the tag defaults to "latest"."""
    ref = ref.split("@", 1)[0]
    name, sep, tag = ref.rpartition(":")
    if sep and "/" not in tag:
        return name, tag
    return ref, "latest"


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
