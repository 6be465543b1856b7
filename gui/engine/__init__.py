"""Engine layer: the only code that talks to Docker. Free of Qt; plain data out, EngineError on failure.

The names below are loaded on first use (PEP 562), so importing a small part such as
``gui.engine.ports`` or ``gui.engine.models`` does not import docker-py (about 0.2 s): the command line
(gui/cli.py) asks a server by URL without it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

_WHERE = {
    "ContainerInfo": "gui.engine.models",
    "Engine": "gui.engine.client",
    "EngineError": "gui.engine.errors",
    "ErrorKind": "gui.engine.errors",
    "EngineEvent": "gui.engine.models",
    "EngineInfo": "gui.engine.models",
    "EngineTarget": "gui.engine.endpoint",
    "EventFollower": "gui.engine.events",
    "ImageInfo": "gui.engine.models",
    "PortBinding": "gui.engine.models",
    "container_info": "gui.engine.client",
    "image_rows": "gui.engine.client",
    "resolve_engine": "gui.engine.endpoint",
    "translate": "gui.engine.errors",
}

if TYPE_CHECKING:  # what tools and import-linter see; the same names as below
    from gui.engine.client import Engine, container_info, image_rows
    from gui.engine.endpoint import EngineTarget, resolve_engine
    from gui.engine.errors import EngineError, ErrorKind, translate
    from gui.engine.events import EventFollower
    from gui.engine.models import ContainerInfo, EngineEvent, EngineInfo, ImageInfo, PortBinding


def __getattr__(name: str):
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module 'gui.engine' has no attribute {name!r}")
    value = getattr(importlib.import_module(where), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))


__all__ = [
    "ContainerInfo",
    "Engine",
    "EngineError",
    "ErrorKind",
    "EngineEvent",
    "EngineInfo",
    "EngineTarget",
    "EventFollower",
    "ImageInfo",
    "PortBinding",
    "container_info",
    "image_rows",
    "resolve_engine",
    "translate",
]
