"""Template discovery: one folder per kind of AI image under `dockerfiles/`, each with a manifest.toml.

Where the folders are looked for, first match wins:
1. `$AICS_TEMPLATES_DIR`, when set;
2. `dockerfiles/` beside the `gui` package (a source checkout or an editable install);
3. `<sys.prefix>/share/ai-container-studio/dockerfiles` (where packaging installs them).
Folders whose name starts with `_` (such as `_serving`, the shared server) are not templates.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from gui.builder.fields import Field, ValidationError, check

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

SERVING_DIR = "_serving"


class TemplateError(ValueError):
    """A template folder or manifest is missing or malformed."""


def templates_root() -> Path:
    """The folder holding the template folders (see the module docstring for the search order)."""
    candidates = []
    if os.environ.get("AICS_TEMPLATES_DIR"):
        candidates.append(Path(os.environ["AICS_TEMPLATES_DIR"]))
    candidates.append(Path(__file__).resolve().parents[2] / "dockerfiles")
    candidates.append(Path(sys.prefix) / "share" / "ai-container-studio" / "dockerfiles")
    for c in candidates:
        if (c / SERVING_DIR).is_dir():
            return c
    raise TemplateError(
        "the Dockerfile templates were not found; looked in " + ", ".join(map(str, candidates))
    )


@dataclass(frozen=True)
class Template:
    """One kind of AI image: its form (build and run fields) and where its files are."""

    name: str
    title: str
    description: str
    directory: Path
    dockerfile: str
    build_fields: tuple[Field, ...]
    run_fields: tuple[Field, ...]
    serving: bool = False
    task: str = ""
    framework: str = ""
    files: tuple[str, ...] = ()

    def field(self, name: str) -> Field:
        for f in (*self.build_fields, *self.run_fields):
            if f.name == name:
                return f
        raise KeyError(name)

    def defaults(self) -> dict[str, Any]:
        """Build field defaults (copies, so a caller may change them)."""
        return {f.name: _copy(f.default) for f in self.build_fields}

    def run_defaults(self) -> dict[str, Any]:
        return {f.name: _copy(f.default) for f in self.run_fields}

    def check_build(self, values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        """(clean values, errors by field name). Unknown keys are errors; missing keys take the default."""
        return _check_all(self.build_fields, values)

    def check_run(self, values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        return _check_all(self.run_fields, values)

    def clean_build(self, values: dict[str, Any]) -> dict[str, Any]:
        """Clean build values, or ValidationError."""
        clean, errors = self.check_build(values)
        if errors:
            raise ValidationError(errors)
        return clean


def _copy(value: Any) -> Any:
    if isinstance(value, list):
        return list(value)
    if isinstance(value, dict):
        return dict(value)
    return value


def _check_all(fields: tuple[Field, ...], values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    known = {f.name for f in fields}
    errors = {k: "not a field of this form" for k in values if k not in known}
    clean: dict[str, Any] = {}
    for f in fields:
        value, err = check(f, values.get(f.name, _copy(f.default)))
        clean[f.name] = value
        if err:
            errors[f.name] = err
    return clean, errors


def load_template(directory: Path) -> Template:
    """Read `directory/manifest.toml`."""
    path = Path(directory) / "manifest.toml"
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TemplateError(f"cannot read {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise TemplateError(f"{path} is not valid TOML: {exc}") from None
    meta = raw.get("template") or {}
    try:
        build = tuple(Field.from_manifest(f) for f in raw.get("build", []))
        run = tuple(Field.from_manifest(f) for f in raw.get("run", []))
        name = meta["name"]
    except (KeyError, TypeError, ValueError) as exc:
        raise TemplateError(f"{path}: {exc}") from None
    names = [f.name for f in (*build, *run)]
    if len(set(names)) != len(names):
        raise TemplateError(f"{path}: a field name is used twice")
    for f in run:
        if f.publishes and f.publishes not in names:
            raise TemplateError(f"{path}: run field {f.name} publishes unknown field {f.publishes}")
    dockerfile = meta.get("dockerfile", "Dockerfile.j2")
    if not (path.parent / dockerfile).is_file():
        raise TemplateError(f"{path}: no {dockerfile} beside it")
    root = path.parent.parent.resolve()
    for file in meta.get("files", ()):  # its own files, or "../<template>/<file>" shared with another
        src = (path.parent / file).resolve()
        if not src.exists() or not src.is_relative_to(root) or src.parent.parent != root:
            raise TemplateError(f"{path}: files names {file!r}, not a file of a template folder")
    for f in (*build, *run):  # a manifest's own defaults must pass its checks
        if f.type not in ("file", "path"):
            _, err = check(f, f.default)
            if err:
                raise TemplateError(f"{path}: default of {f.name} is invalid: {err}")
    return Template(
        name=name,
        title=meta.get("title", name),
        description=" ".join(meta.get("description", "").split()),
        directory=path.parent,
        dockerfile=dockerfile,
        build_fields=build,
        run_fields=run,
        serving=bool(meta.get("serving", False)),
        task=meta.get("task", ""),
        framework=meta.get("framework", ""),
        files=tuple(meta.get("files", ())),
    )


@lru_cache(maxsize=4)
def _discover(root: Path) -> dict[str, Template]:
    found: dict[str, Template] = {}
    for d in sorted(root.iterdir()):
        if d.is_dir() and not d.name.startswith(("_", ".")) and (d / "manifest.toml").is_file():
            t = load_template(d)
            if t.name != d.name:
                raise TemplateError(f"{d}/manifest.toml names itself {t.name!r}, not {d.name!r}")
            found[t.name] = t
    return found


def list_templates(root: Path | None = None) -> list[Template]:
    """All templates, sorted by name."""
    return list(_discover(Path(root) if root else templates_root()).values())


def get_template(name: str, root: Path | None = None) -> Template:
    found = _discover(Path(root) if root else templates_root())
    if name not in found:
        raise TemplateError(f"no template named {name!r} (have: {', '.join(found)})")
    return found[name]
