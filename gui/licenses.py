"""The components the app ships, with their versions and licenses (read with importlib.metadata; no Qt)."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from importlib import metadata

from gui import APP_ID, __version__

# What the app needs at run time; used when its own metadata is absent (a bundle built without it).
RUNTIME_ROOTS = ("PySide6-Essentials", "docker", "qasync", "pillow")
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_LICENSE_FILE = re.compile(r"(^|/)(LICEN[CS]E|COPYING|NOTICE)[^/]*$", re.I)


@dataclass(frozen=True)
class Component:
    name: str
    version: str
    license: str
    license_text: str = ""


def _license_of(md) -> str:
    expression = md.get("License-Expression")
    if expression:
        return expression.strip()
    text = (md.get("License") or "").strip()
    if text and "\n" not in text and len(text) <= 80:
        return text
    classifiers = [c.split("::")[-1].strip() for c in md.get_all("Classifier") or []
                   if c.startswith("License ::") and "OSI Approved ::" in c or c.startswith("License :: Other")]
    if classifiers:
        return " / ".join(dict.fromkeys(classifiers))
    return "see license text" if text else "unknown"


def _license_text(dist) -> str:
    texts = []
    for f in dist.files or ():
        if ".dist-info/" in str(f).replace("\\", "/") and _LICENSE_FILE.search(str(f)):
            try:
                texts.append(f.locate().read_text(encoding="utf-8", errors="replace"))
            except OSError:
                continue
    if not texts:
        body = (dist.metadata.get("License") or "").strip()
        if "\n" in body:
            texts.append(body)
    return "\n\n".join(texts)


def _requirements(dist) -> list[str]:
    """Names of the run-time requirements (no extras) of an installed distribution."""
    names = []
    for req in dist.requires or ():
        if ";" in req and "extra" in req.split(";", 1)[1]:
            continue
        m = _NAME.match(req)
        if m:
            names.append(m.group(1))
    return names


def _key(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def bundled_components() -> list[Component]:
    """Every installed distribution the app depends on at run time (transitively), plus Python."""
    try:
        roots = _requirements(metadata.distribution(APP_ID))
    except metadata.PackageNotFoundError:
        roots = list(RUNTIME_ROOTS)
    seen: dict[str, Component] = {}
    queue = list(roots)
    while queue:
        name = queue.pop(0)
        if _key(name) in seen:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # a platform-only requirement (pywin32 on Linux) that is not installed
        md = dist.metadata
        seen[_key(name)] = Component(md["Name"], dist.version, _license_of(md), _license_text(dist))
        queue.extend(_requirements(dist))
    python = Component("Python", sys.version.split()[0], "PSF-2.0")
    return sorted(seen.values(), key=lambda c: c.name.lower()) + [python]


def app_component() -> Component:
    return Component("AI Container Studio", __version__, "MIT")
