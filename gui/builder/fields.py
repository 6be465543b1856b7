"""Form fields from a template manifest, and the checks each value must pass.

Field types: text, name, version, image, tag, requirements, names, file, int, float, port, choice,
bool, mapping, secret. Every string that may reach a Dockerfile is refused if it holds a newline,
a quote, a backslash, `$` or a backtick, so no form value can add or change an instruction.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gui.builder.references import reference_error, requirement_error, requirement_name

FORBIDDEN = set("\r\n\"'`$\\\x00")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$")
_ENV_KEY = r"^[A-Za-z_][A-Za-z0-9_]*$"
TYPES = (
    "text",
    "name",
    "version",
    "image",
    "tag",
    "requirements",
    "names",
    "file",
    "path",
    "int",
    "float",
    "port",
    "choice",
    "bool",
    "mapping",
    "secret",
)


class ValidationError(ValueError):
    """Some form values are wrong. `errors` maps field name -> message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    default: Any = None
    label: str = ""
    help: str = ""
    choices: tuple = ()
    extensions: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()  # requirements: projects that must be listed
    min: float | None = None
    max: float | None = None
    pattern: str = ""
    key_pattern: str = _ENV_KEY
    required: bool = False
    allow_zero: bool = False
    publishes: str = ""  # run port fields: the build port field they publish
    secret: bool = False  # never saved in a recipe, never in a layer
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    @classmethod
    def from_manifest(cls, raw: dict) -> Field:
        known = {f for f in cls.__dataclass_fields__ if f != "extra"}
        kwargs = {k: v for k, v in raw.items() if k in known}
        for key in ("choices", "extensions", "needs"):
            if key in kwargs:
                kwargs[key] = tuple(kwargs[key])
        if raw.get("type") not in TYPES:
            raise ValueError(f"field {raw.get('name')!r}: unknown type {raw.get('type')!r}")
        kwargs.setdefault("label", raw["name"].replace("_", " ").capitalize())
        if raw.get("type") == "secret":
            kwargs["secret"] = True
        return cls(**kwargs, extra={k: v for k, v in raw.items() if k not in known})


def unsafe_text_error(text: str) -> str | None:
    bad = sorted({c for c in text if c in FORBIDDEN or (ord(c) < 32 and c != "\t")})
    if bad:
        shown = " ".join(repr(c) for c in bad)
        return f"may not contain {shown}"
    return None


def check(f: Field, value: Any) -> tuple[Any, str | None]:
    """(clean value, None) or (value, message a person understands)."""
    try:
        return _CHECKS[f.type](f, value)
    except (TypeError, ValueError) as exc:
        return value, str(exc) or "invalid value"


def _text(f: Field, value: Any) -> tuple[Any, str | None]:
    text = "" if value is None else str(value)
    if err := unsafe_text_error(text):
        return text, err
    if f.required and not text:
        return text, "required"
    if text and f.pattern and not re.fullmatch(f.pattern, text):
        return text, f"does not match {f.pattern}"
    return text, None


def _name(f: Field, value: Any) -> tuple[Any, str | None]:
    text = str(value or "")
    if err := unsafe_text_error(text):
        return text, err
    if not _NAME.match(text):
        return text, "use 1-63 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit"
    return text, None


def _version(f: Field, value: Any) -> tuple[Any, str | None]:
    text = str(value or "")
    if err := unsafe_text_error(text):
        return text, err
    if not _VERSION.match(text):
        return text, "use letters, digits and . _ + - (for example 1.0.0)"
    return text, None


def _image(f: Field, value: Any) -> tuple[Any, str | None]:
    text = str(value or "")
    return text, unsafe_text_error(text) or reference_error(text, allow_digest=True)


def _tag(f: Field, value: Any) -> tuple[Any, str | None]:
    text = str(value or "")
    return text, unsafe_text_error(text) or reference_error(text, allow_digest=False)


def split_lines(value: Any) -> list[str]:
    """A list, or a text with one item a line (blank lines and # comment lines dropped).

    A list item that itself holds a line break is kept as it is, so the check refuses it.
    """
    if isinstance(value, str):
        lines = [line.strip() for line in value.splitlines()]
        return [line for line in lines if line and not line.startswith("#")]
    return [str(i).strip() for i in (value or []) if str(i).strip()]


def _requirements(f: Field, value: Any) -> tuple[Any, str | None]:
    items = split_lines(value)
    for item in items:
        if err := requirement_error(item):
            return items, err
    names = {requirement_name(i) for i in items}
    missing = [n for n in f.needs if requirement_name(n) not in names]
    if missing:
        return items, f"this template needs {', '.join(missing)}"
    return items, None


def _names(f: Field, value: Any) -> tuple[Any, str | None]:
    items = [s.strip() for s in (value.split(",") if isinstance(value, str) else value or [])]
    items = [s for s in items if s]
    for item in items:
        if err := unsafe_text_error(item):
            return items, f"{item!r} {err}"
        if f.pattern and not re.fullmatch(f.pattern, item):
            return items, f"{item!r} {f.extra.get('pattern_help', 'has the wrong form')}"
    return items, None


def _file(f: Field, value: Any) -> tuple[Any, str | None]:
    text = str(value or "").strip()
    if not text:
        return "", "required" if f.required else None
    if any(c in text for c in "\r\n\x00"):
        return text, "may not contain a line break"
    path = Path(text).expanduser()
    if f.type == "path" and path.is_dir():
        return str(path), None
    if not path.is_file():
        return str(path), f"no such file: {path}"
    if f.extensions and not text.lower().endswith(tuple(e.lower() for e in f.extensions)):
        return str(path), f"expected a {' or '.join(f.extensions)} file"
    if f.extra.get("kind") == "requirements":
        try:
            lines = split_lines(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            return str(path), f"cannot read it: {exc}"
        for line in lines:
            if err := requirement_error(line):
                return str(path), err
    return str(path), None


def _number(f: Field, value: Any, kind) -> tuple[Any, str | None]:
    if isinstance(value, bool):
        return value, "not a number"
    try:
        num = kind(str(value).strip()) if isinstance(value, str) else kind(value)
    except (TypeError, ValueError):
        return value, "not a whole number" if kind is int else "not a number"
    if kind is float and not math.isfinite(num):
        return value, "not a number"
    if kind is int and isinstance(value, float) and value != int(value):
        return value, "not a whole number"
    if f.min is not None and num < f.min:
        return num, f"at least {f.min:g}"
    if f.max is not None and num > f.max:
        return num, f"at most {f.max:g}"
    return num, None


def _port(f: Field, value: Any) -> tuple[Any, str | None]:
    num, err = _number(f, value, int)
    if err:
        return num, err
    if num == 0 and f.allow_zero:
        return 0, None
    if not 1 <= num <= 65535:
        return num, "a port is 1-65535"
    return num, None


def _choice(f: Field, value: Any) -> tuple[Any, str | None]:
    for c in f.choices:
        if value == c or str(value) == str(c):
            return c, None
    return value, f"choose one of {', '.join(map(str, f.choices))}"


def _bool(f: Field, value: Any) -> tuple[Any, str | None]:
    if isinstance(value, bool):
        return value, None
    if str(value).lower() in ("1", "true", "yes", "on"):
        return True, None
    if str(value).lower() in ("0", "false", "no", "off", ""):
        return False, None
    return value, "yes or no"


def parse_mapping(value: Any) -> dict[str, str]:
    """A dict, or "KEY=value" lines."""
    if isinstance(value, dict):
        return {str(k): "" if v is None else str(v) for k, v in value.items()}
    out: dict[str, str] = {}
    for line in split_lines(value):
        key, sep, val = line.partition("=")
        if not sep:
            raise ValueError(f"{line!r}: write KEY=value")
        out[key.strip()] = val.strip()
    return out


def _mapping(f: Field, value: Any) -> tuple[Any, str | None]:
    mapping = parse_mapping(value)
    for key, val in mapping.items():
        if not re.fullmatch(f.key_pattern, key):
            return mapping, f"{key!r} is not a valid name here"
        if err := unsafe_text_error(key) or unsafe_text_error(val):
            return mapping, f"{key}: {err}"
    return mapping, None


def _secret(f: Field, value: Any) -> tuple[Any, str | None]:
    text = "" if value is None else str(value)
    if any(c in text for c in "\r\n\x00"):
        return text, "may not contain a line break"
    return text, None


_CHECKS = {
    "text": _text,
    "name": _name,
    "version": _version,
    "image": _image,
    "tag": _tag,
    "requirements": _requirements,
    "names": _names,
    "file": _file,
    "path": _file,
    "int": lambda f, v: _number(f, v, int),
    "float": lambda f, v: _number(f, v, float),
    "port": _port,
    "choice": _choice,
    "bool": _bool,
    "mapping": _mapping,
    "secret": _secret,
}
