"""Build recipes: a template name and its form values, saved as a small TOML file.

Secret fields (tokens) are never written. Reading uses tomllib; writing is the small subset of TOML
the values need (strings, numbers, booleans, lists of strings, string tables).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gui.builder.templates import Template, get_template, tomllib

RECIPE_FORMAT = 1


class RecipeError(ValueError):
    """A recipe file cannot be read or does not fit its template."""


@dataclass(frozen=True)
class Recipe:
    template: str
    build: dict[str, Any] = field(default_factory=dict)
    run: dict[str, Any] = field(default_factory=dict)
    dockerfile: str | None = None  # the user's hand-edited Dockerfile, if any


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise RecipeError("numbers in a recipe must be finite")
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)  # a JSON string is a valid TOML basic string
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_value(i) for i in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))} = {_value(val)}" for k, val in v.items()) + "}"
    raise RecipeError(f"cannot store {type(v).__name__} in a recipe")


def recipe_text(recipe: Recipe, template: Template | None = None) -> str:
    """The TOML text of a recipe, without secret values."""
    secret = {f.name for f in template.run_fields if f.secret} if template else set()
    lines = [f"format = {RECIPE_FORMAT}", f"template = {_value(recipe.template)}"]
    if recipe.dockerfile is not None:
        lines.append(f"dockerfile = {_value(recipe.dockerfile)}")
    for section, values in (("build", recipe.build), ("run", recipe.run)):
        lines += ["", f"[{section}]"]
        for key, val in values.items():
            if section == "run" and key in secret:
                continue
            lines.append(f"{json.dumps(key)} = {_value(val)}")
    return "\n".join(lines) + "\n"


def save_recipe(path: str | Path, recipe: Recipe, template: Template | None = None) -> None:
    Path(path).write_text(recipe_text(recipe, template or get_template(recipe.template)), encoding="utf-8")


def load_recipe(path: str | Path, root: Path | None = None) -> Recipe:
    """Read a recipe and check its keys against the template's fields (values are checked on build)."""
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise RecipeError(f"cannot read {path}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RecipeError(f"{path} is not a recipe (TOML): {exc}") from None
    if raw.get("format") != RECIPE_FORMAT:
        raise RecipeError(f"{path}: unknown recipe format {raw.get('format')!r}")
    from gui.builder.templates import TemplateError

    try:
        template = get_template(str(raw.get("template")), root)
    except TemplateError as exc:
        raise RecipeError(str(exc)) from None
    build = dict(raw.get("build") or {})
    run = dict(raw.get("run") or {})
    unknown = [k for k in build if k not in {f.name for f in template.build_fields}]
    unknown += [k for k in run if k not in {f.name for f in template.run_fields}]
    if unknown:
        raise RecipeError(f"{path}: fields not in template {template.name}: {', '.join(unknown)}")
    dockerfile = raw.get("dockerfile")
    return Recipe(template.name, build, run, dockerfile if isinstance(dockerfile, str) else None)
