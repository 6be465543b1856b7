"""Image references (``registry:5000/team/model:v1``), checked against Docker's grammar before any call.

The grammar is the one of distribution/reference (what ``docker pull`` and ``docker tag`` accept);
the messages say which part is wrong and what would be right.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DOCKER_HUB_DOMAIN = "docker.io"
DEFAULT_TAG = "latest"
NAME_MAX = 255  # the whole name, registry included

_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|-+)"
_PATH_COMPONENT = re.compile(rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*")
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST = re.compile(rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])")
_PORT = re.compile(r"[0-9]+")
_TAG = re.compile(r"[\w][\w.-]{0,127}", re.ASCII)
_DIGEST = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}")
_IMAGE_ID = re.compile(r"[a-f0-9]{64}")

EXAMPLES = "such as busybox, busybox:1.36 or 127.0.0.1:5000/team/model:v1"


class ReferenceError(ValueError):
    """The text is not a valid image reference; ``str()`` says why, for the user."""


@dataclass(frozen=True)
class ImageReference:
    """A parsed, normalized reference: ``docker.io/library/busybox:latest`` for ``busybox``."""

    domain: str  # registry host[:port]; "docker.io" for Docker Hub
    path: str  # "library/busybox", "team/model"
    tag: str | None = None
    digest: str | None = None

    @property
    def name(self) -> str:
        """The full repository name: ``docker.io/library/busybox``, ``127.0.0.1:5000/team/model``."""
        return f"{self.domain}/{self.path}"

    @property
    def familiar_name(self) -> str:
        """The name as the Docker CLI shows it: ``busybox``, ``user/app``, ``127.0.0.1:5000/team/model``."""
        if self.domain != DOCKER_HUB_DOMAIN:
            return self.name
        return self.path.removeprefix("library/")

    @property
    def registry(self) -> str:
        return self.domain

    def with_default_tag(self) -> ImageReference:
        if self.tag or self.digest:
            return self
        return ImageReference(self.domain, self.path, DEFAULT_TAG)

    def __str__(self) -> str:
        text = self.familiar_name
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def check_tag(tag: str) -> str:
    """``tag`` if it is a valid tag, else ReferenceError."""
    if not tag:
        raise ReferenceError("The tag is empty: use letters, digits, '_', '.' or '-', such as latest or v1.2.")
    if not _TAG.fullmatch(tag):
        if len(tag) > 128:
            raise ReferenceError(f"The tag “{tag[:20]}…” is {len(tag)} characters long; at most 128 are allowed.")
        if tag[0] in ".-":
            raise ReferenceError(f"The tag “{tag}” may not start with '{tag[0]}'.")
        bad = sorted({c for c in tag if not re.fullmatch(r"[\w.-]", c, re.ASCII)})
        shown = " ".join(repr(c) for c in bad)
        raise ReferenceError(f"The tag “{tag}” contains {shown}: a tag may hold only letters, digits, "
                             "'_', '.' and '-'.")
    return tag


def _check_domain(domain: str, text: str) -> None:
    host, port = domain, None
    if not domain.startswith("[") and ":" in domain or domain.startswith("[") and "]:" in domain:
        host, port = domain.rsplit(":", 1)
    if not _HOST.fullmatch(host):
        raise ReferenceError(f"“{text}”: the registry “{domain}” is not a valid host name.")
    if port is not None and not _PORT.fullmatch(port):
        raise ReferenceError(f"“{text}”: the registry port “{port}” is not a number.")


def _check_path(path: str, text: str) -> None:
    if path != path.lower():
        raise ReferenceError(f"“{text}”: repository names must be lowercase (try “{text.lower()}”).")
    for component in path.split("/"):
        if not component:
            raise ReferenceError(f"“{text}”: the name has an empty part (a '/' at the start, end, or twice).")
        if not _PATH_COMPONENT.fullmatch(component):
            raise ReferenceError(
                f"“{text}”: “{component}” is not a valid name part: use lowercase letters and digits, "
                "separated by single '.', '_', '__' or dashes, starting and ending with a letter or digit."
            )


def parse_reference(text: str) -> ImageReference:
    """Parse and normalize an image reference, or raise ReferenceError with a reason a person reads."""
    text = (text or "").strip()
    if not text:
        raise ReferenceError(f"Enter an image reference, {EXAMPLES}.")
    if any(c.isspace() for c in text):
        raise ReferenceError(f"“{text}”: an image reference contains no spaces.")
    if _IMAGE_ID.fullmatch(text):
        raise ReferenceError(f"“{text[:12]}…” is an image ID, not a name: a repository name cannot be "
                             "64 hexadecimal characters.")
    rest, digest = text, None
    if "@" in rest:
        rest, digest = rest.split("@", 1)
        if not _DIGEST.fullmatch(digest):
            raise ReferenceError(f"“{text}”: “{digest}” is not a valid digest (expected sha256:<64 hex digits>).")
    tag = None
    colon, slash = rest.rfind(":"), rest.rfind("/")
    if colon > slash:
        rest, tag = rest[:colon], rest[colon + 1:]
        check_tag(tag)
    if not rest:
        raise ReferenceError(f"“{text}”: the repository name is missing.")
    first, sep, remainder = rest.partition("/")
    if sep and (any(c in first for c in ".:") or first == "localhost" or first != first.lower()):
        domain, path = first, remainder
        _check_domain(domain, text)
    else:
        domain, path = DOCKER_HUB_DOMAIN, rest
    if domain == "index.docker.io":
        domain = DOCKER_HUB_DOMAIN
    if domain == DOCKER_HUB_DOMAIN and "/" not in path:
        path = f"library/{path}"
    _check_path(path, text)
    if len(f"{domain}/{path}") > NAME_MAX:
        raise ReferenceError(f"“{text[:30]}…”: the repository name is longer than {NAME_MAX} characters.")
    return ImageReference(domain, path, tag, digest)



def reference_error(ref: str, allow_digest: bool = True) -> str | None:
    """Why `ref` is not a valid image reference, or None. A tag (what we build) takes no digest."""
    if not ref:
        return "give an image name, for example myname/model:1.0"
    try:
        parsed = parse_reference(ref)
    except ReferenceError as exc:
        return str(exc)
    first = ref.split("/", 1)[0]
    if "/" in ref and first != first.lower() and not any(c in first for c in ".:"):
        # Docker reads "Foo/bar" as registry "Foo"; what the user meant is a repository name.
        return f"the repository name must be lowercase (try {ref.lower()!r})"
    if parsed.digest and not allow_digest:
        return "a tag for a new image cannot have an @digest"
    return None


def split_reference(ref: str) -> tuple[str, str]:
    """ "repo/name:tag" -> ("repo/name", "tag"), the two arguments `docker tag` takes; the tag defaults
    to "latest" and a digest is dropped."""
    ref = ref.split("@", 1)[0]
    name, sep, tag = ref.rpartition(":")
    if sep and "/" not in tag:
        return name, tag
    return ref, "latest"
