"""Form values -> Dockerfile text, through the template's Jinja2 file.

Values are checked first (gui.builder.fields); then, as a second guard, every value printed into the
Dockerfile is refused if it still holds a line break, quote, backslash, `$` or backtick. Run fields
(published port, environment, tokens) are never given to the renderer, so they cannot reach a layer.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jinja2

from gui.builder.fields import FORBIDDEN
from gui.builder.templates import Template

MODEL_DIR = "model"


class _Quoted(str):
    """A value already quoted for a Dockerfile by the `dq` filter."""


def _dq(value: Any) -> _Quoted:
    text = str(value)
    if any(c in FORBIDDEN or ord(c) < 32 for c in text):
        raise ValueError(f"refusing to put {text!r} into a Dockerfile")
    return _Quoted(json.dumps(text))


def _finalize(value: Any) -> Any:
    if isinstance(value, (_Quoted, bool | int | float)):
        return value
    text = str(value)
    if any(c in FORBIDDEN or (ord(c) < 32 and c != "\t") for c in text):
        raise ValueError(f"refusing to put {text!r} into a Dockerfile")
    return value


def _environment(root: Path) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(root)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
        finalize=_finalize,
    )
    env.filters["dq"] = _dq
    return env


def model_entry(template: Template, model_path: str) -> str:
    """Where the model lands in the build context ("model/model.joblib"); "" for the demo model."""
    if not model_path:
        return ""
    p = Path(model_path)
    suffix = "" if p.is_dir() else "".join(p.suffixes[-1:]).lower()
    return f"{MODEL_DIR}/model{suffix}"


def render_context(template: Template, clean: dict[str, Any]) -> dict[str, Any]:
    """What the Jinja2 template sees: the clean build values plus a few derived names."""
    ctx = dict(clean)
    ctx.setdefault("labels_extra", {})
    ctx.setdefault("build_args", {})
    ctx["template_name"] = template.name
    ctx["task"] = clean.get("task") or template.task  # onnx-tabular: the form says regression or classification
    ctx["title"] = clean.get("name") or template.name
    ctx["model_file"] = model_entry(template, clean.get("model", ""))
    ctx["labels_file"] = f"{MODEL_DIR}/labels.txt" if clean.get("labels") else ""
    return ctx


def render_dockerfile(template: Template, values: dict[str, Any]) -> str:
    """The Dockerfile for these build values. Raises ValidationError when a value is wrong."""
    clean = template.clean_build(values)
    env = _environment(template.directory.parent)
    jt = env.get_template(f"{template.directory.name}/{template.dockerfile}")
    text = jt.render(**render_context(template, clean))
    lines: list[str] = []
    for line in text.splitlines():
        line = line.rstrip()
        if line or (lines and lines[-1]):  # no runs of blank lines
            lines.append(line)
    return "\n".join(lines).strip() + "\n"
