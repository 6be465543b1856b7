"""Inspect documents (`docker inspect`) of containers and images, as plain dicts."""

from __future__ import annotations

from gui.engine.client import Engine
from gui.engine.errors import EngineError


def _inspect(engine: Engine, call, what: str) -> dict:
    try:
        return engine.call(call)
    except EngineError as exc:
        if exc.kind == "not_found":
            raise EngineError(f"{what} no longer exists.", "not_found", 404) from None
        raise


def inspect_container(engine: Engine, container_id: str) -> dict:
    return _inspect(engine, lambda api: api.inspect_container(container_id), f"Container {container_id[:12]}")


def inspect_image(engine: Engine, image: str) -> dict:
    return _inspect(engine, lambda api: api.inspect_image(image), f"Image {image}")
