"""Build contexts: everything `docker build` needs, in one folder (a temporary one, or an export)."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gui.builder.fields import split_lines
from gui.builder.references import requirement_name
from gui.builder.render import MODEL_DIR, model_entry, render_dockerfile
from gui.builder.templates import SERVING_DIR, Template

IMAGE_ROOT = "/opt/aics"  # where the serving templates put their files inside the image
DOCKERIGNORE = """# Only what the Dockerfile copies is needed; keep caches and secrets out of the context.
**/__pycache__
**/*.pyc
**/.git
**/.env
**/*.key
**/*.pem
"""
SERVING_FILES = ("server.py", "connections.py", "service.py", "backends.py", "pictures.py", "ink.py", "cli.py")
# Loaders a model format needs in the image. skops is pinned: the server's list of types it trusts
# (dockerfiles/_serving/backends.py) was checked against this version's own trusted defaults.
EXTRA_PACKAGES = {".skops": "skops==0.16.0"}
# joblib reads a file it wrote with compress=("lz4", n) only with the lz4 package (joblib/compressor.py).
COMPRESSION_PACKAGES = {"lz4": "lz4==4.4.5"}
# Beside the model in the image: the types of a .skops file the user trusted ("I trust this file"); the
# server's loader adds them to its allow-list (dockerfiles/_serving/backends.py load_skops).
SKOPS_TRUSTED_FILE = "skops-trusted.txt"


@dataclass(frozen=True)
class BuildContext:
    """An assembled build context."""

    directory: Path
    dockerfile: str
    files: tuple[str, ...]  # paths relative to `directory`, sorted


def requirements_text(template: Template, clean: dict[str, Any]) -> str:
    """requirements.txt: the packages field and requirements file, plus what the model format needs."""
    packages = list(clean.get("packages") or [])
    for f in template.build_fields:  # requirements files (checked line by line by the form)
        if f.extra.get("kind") == "requirements" and clean.get(f.name):
            packages += split_lines(Path(clean[f.name]).read_text(encoding="utf-8"))
    names = {requirement_name(p) for p in packages}
    model = str(clean.get("model") or "")
    for suffix, package in EXTRA_PACKAGES.items():
        if model.lower().endswith(suffix) and requirement_name(package) not in names:
            packages.append(package)
    package = COMPRESSION_PACKAGES.get(_compression_of(model))
    if package and requirement_name(package) not in names:
        packages.append(package)
    return "".join(f"{p}\n" for p in packages)


def _compression_of(model: str) -> str:
    """How joblib compressed the model file ("" for none, a folder, or a file that cannot be read)."""
    from gui.models.compressed import compression

    try:
        with open(model, "rb") as f:
            return compression(f.read(32))
    except OSError:  # "" (no model), a folder, or a file gone since the form checked it
        return ""


def serving_config(template: Template, clean: dict[str, Any]) -> dict[str, Any]:
    """serving.json, read by the server in the image. Holds nothing secret (it is in a layer)."""
    entry = model_entry(template, clean.get("model", ""))
    task = clean.get("task") or template.task  # onnx-tabular: the form says regression or classification
    config: dict[str, Any] = {
        "name": clean.get("name", template.name),
        "version": str(clean.get("version", "1")),
        "task": task,
        "framework": template.framework,
        "template": template.name,
        "model": f"{IMAGE_ROOT}/{entry}"
        if entry
        else f"{IMAGE_ROOT}/{MODEL_DIR}/{_demo_model(template, clean)}",
        "labels": f"{IMAGE_ROOT}/{MODEL_DIR}/labels.txt",
    }
    if "runtime" in clean:
        config["runtime"] = clean["runtime"]
    if clean.get("serve_onnx"):  # the build wrote model.onnx beside the model (sklearn-image/to_onnx.py)
        config["runtime"], config["framework"] = "onnxruntime", "onnx"
    if task == "image-classification":
        config["input"] = {
            "kind": "image",
            "width": int(clean.get("width", 8)),
            "height": int(clean.get("height", 8)),
            "channels": int(clean.get("channels", 1)),
            "range": [0.0, float(clean.get("input_max", 1.0))],
            "polarity": clean.get("polarity", "any"),
            "invert": "auto",
        }
    else:
        config["input"] = {"kind": "tabular"}
        config["features"] = list(clean.get("features") or [])
        if not config["features"] and not entry:
            config["features_file"] = f"{IMAGE_ROOT}/{MODEL_DIR}/features.txt"
    return config


def _demo_model(template: Template, clean: dict[str, Any]) -> str:
    return (
        "model.tflite"
        if clean.get("runtime") == "litert"
        else ("model.keras" if clean.get("runtime") == "tensorflow" else "model.joblib")
    )


def assemble_context(
    template: Template, values: dict[str, Any], dest_dir: str | Path, dockerfile_text: str | None = None
) -> BuildContext:
    """Write the Dockerfile (rendered, or `dockerfile_text` when the user edited it by hand),
    requirements.txt, the server code, serving.json, the model and labels files, the template's own
    files and a .dockerignore into `dest_dir` (created if missing). Raises ValidationError."""
    clean = template.clean_build(values)
    dockerfile = dockerfile_text if dockerfile_text is not None else render_dockerfile(template, values)
    dest = Path(dest_dir)
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "Dockerfile").write_text(dockerfile, encoding="utf-8")
    (dest / ".dockerignore").write_text(DOCKERIGNORE, encoding="utf-8")
    if "packages" in clean:
        (dest / "requirements.txt").write_text(requirements_text(template, clean), encoding="utf-8")
    for name in template.files:  # "../<template>/<file>": another template's file, shared (digit_pictures.py)
        src, target = template.directory / name, dest / Path(name).name
        if src.is_dir():
            shutil.copytree(src, target, dirs_exist_ok=True)
        else:
            shutil.copy2(src, target)
    if template.serving:
        serving = dest / "serving"
        serving.mkdir(exist_ok=True)
        for name in SERVING_FILES:
            shutil.copy2(template.directory.parent / SERVING_DIR / name, serving / name)
        config = serving_config(template, clean)
        (dest / "serving.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    _copy_inputs(template, clean, dest)
    files = sorted(str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file())
    return BuildContext(directory=dest, dockerfile=dockerfile, files=tuple(files))


def _copy_inputs(template: Template, clean: dict[str, Any], dest: Path) -> None:
    """The user's files: copied as bytes, never opened as models here."""
    model = str(clean.get("model") or "")
    if model:
        target = dest / model_entry(template, model)
        target.parent.mkdir(parents=True, exist_ok=True)
        if Path(model).is_dir():
            shutil.copytree(model, target, dirs_exist_ok=True)
        else:
            shutil.copyfile(model, target)
    labels = str(clean.get("labels") or "")
    if labels:
        (dest / MODEL_DIR).mkdir(exist_ok=True)
        shutil.copyfile(labels, dest / MODEL_DIR / "labels.txt")
    trusted = list(clean.get("trusted_types") or [])
    if trusted and model.lower().endswith(".skops"):
        (dest / MODEL_DIR / SKOPS_TRUSTED_FILE).write_text("".join(f"{t}\n" for t in trusted), encoding="utf-8")
    for f in template.build_fields:
        if f.extra.get("kind") == "requirements":
            continue  # merged into requirements.txt
        if f.type in ("file", "path") and f.name not in ("model", "labels") and clean.get(f.name):
            target_name = f.extra.get("context_name") or Path(clean[f.name]).name
            src = Path(clean[f.name])
            if src.is_dir():
                shutil.copytree(src, dest / target_name, dirs_exist_ok=True)
            else:
                shutil.copyfile(src, dest / target_name)


def export_context(
    template: Template,
    values: dict[str, Any],
    folder: str | Path,
    dockerfile_text: str | None = None,
    overwrite: bool = False,
) -> BuildContext:
    """Export the Dockerfile and its build context to `folder`, ready for `docker build` in CI.

    Refuses a folder that is not empty unless `overwrite`."""
    dest = Path(folder)
    if dest.exists() and any(dest.iterdir()) and not overwrite:
        raise FileExistsError(f"{dest} is not empty")
    return assemble_context(template, values, dest, dockerfile_text)
