"""A serving image from a model file, as the Build page makes one when the file is dropped on it: the
template and form values come from gui.models.inspect_model (no training at build time). The benches
use it for cheap runs (``--model``) instead of building the demo."""

from __future__ import annotations

from pathlib import Path

from gui.builder import get_template
from tests.support.templates import build_template


def model_values(model: str) -> tuple[str, dict]:
    """(template, form values) for ``model``; SystemExit when the studio would not serve it as it is."""
    from gui.models import inspect_model

    info = inspect_model(model)
    if not info.template or info.needs_trust:
        raise SystemExit(f"{model}: not a model file the studio serves without asking ({info.summary})")
    return info.template, info.values


def build_model_image(model: str, ctx: Path, tag: str, labels: dict):
    """Build ``model`` with its template's defaults and the values it filled; returns the build."""
    template, values = model_values(model)
    t = get_template(template)
    build, _lines = build_template(t, {**t.defaults(), **values}, ctx, tag, labels)
    return build
