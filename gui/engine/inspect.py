"""Inspect documents (`docker inspect`) of containers and images, as plain dicts."""

from __future__ import annotations

from gui.engine.client import Engine
from gui.engine.errors import EngineError


def inspect_container(engine: Engine, container_id: str) -> dict:
    try:
        return engine.call(lambda api: api.inspect_container(container_id))
    except EngineError as exc:
        if exc.kind == "not_found":
            raise EngineError(f"Container {container_id[:12]} no longer exists.", "not_found", 404) from None
        raise


def inspect_image(engine: Engine, image: str) -> dict:
    try:
        return engine.call(lambda api: api.inspect_image(image))
    except EngineError as exc:
        if exc.kind == "not_found":
            raise EngineError(f"Image {image} no longer exists.", "not_found", 404) from None
        raise
