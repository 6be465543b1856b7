"""Building the sklearn templates "served as ONNX" on the real engine (engine tests).

The package layers are kept as cache images (newest only): the scikit-learn one as
aics-cache/<template> (the very layer the plain build makes), the converter as
aics-cache/<template>-skl2onnx and the final stage's runtime as aics-cache/<template>-onnx. The first
stage's last layer, which the classic builder leaves untagged, is removed.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from gui.builder import assemble_context, get_template
from gui.engine.build import BuildError, ImageBuild
from tests.support.templates import CACHE_REPO, CREATED, engine

# A piece of a package step's instruction -> the suffix of its cache image
CACHE_SUFFIXES = {"--requirement": "", '"skl2onnx': "-skl2onnx", "pip --python": "-onnx"}


def keep_caches(template_name: str, build: ImageBuild) -> None:
    api = engine().api()
    for step in build.steps:
        if not step.instruction.startswith("RUN") or not step.layer_id:
            continue
        suffix = next((s for k, s in CACHE_SUFFIXES.items() if k in step.instruction), None)
        if suffix is None:
            continue
        repo = CACHE_REPO.format(template=template_name) + suffix
        try:
            old = api.inspect_image(f"{repo}:latest")["Id"]
        except Exception:
            old = None
        api.tag(step.layer_id, repo, "latest", force=True)
        if old and old != api.inspect_image(f"{repo}:latest")["Id"]:
            with contextlib.suppress(Exception):  # still the parent of another image: then it stays
                api.remove_image(old)


def remove_stage_leftovers(build: ImageBuild) -> None:
    """The first stage's last layer and, after a failure, the last layer made (the caches below stay)."""
    api = engine().api()
    ends = [prev.layer_id for prev, step in zip(build.steps, build.steps[1:], strict=False)
            if step.instruction.startswith("FROM") and not prev.instruction.startswith("FROM")]
    made = [s.layer_id for s in build.steps if s.layer_id] if not build.image_id else []
    for layer in [*ends, *made[-1:]]:
        with contextlib.suppress(Exception):  # gone, or a layer of an image still in use
            api.remove_image(layer)


def build_onnx(template_name: str, values: dict, ctx: Path, tag: str, labels: dict
               ) -> tuple[ImageBuild, list, BuildError | None]:
    """Build the template served as ONNX; (build, log lines, the BuildError of a failed build or None)."""
    t = get_template(template_name)
    assemble_context(t, {**t.defaults(), **values, "serve_onnx": True, "tag": tag}, ctx)
    build = ImageBuild(engine(), ctx, tag, labels=labels, buildargs={"AICS_CREATED": CREATED})
    lines, error = [], None
    try:
        for line in build:
            lines.append(line)
    except BuildError as exc:
        error = exc
    finally:
        keep_caches(template_name, build)
        remove_stage_leftovers(build)
    return build, lines, error
