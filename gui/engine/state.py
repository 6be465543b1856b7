"""A container's current state in one call, and what to tell the user when a stream of it ends."""

from __future__ import annotations

from gui.engine.client import Engine
from gui.engine.errors import EngineError


def container_state(engine: Engine, container_id: str) -> tuple[str, int | None]:
    """``(state, exit_code)``; state is "" when the container no longer exists.

    Raises EngineError when the engine cannot be asked.
    """
    try:
        info = engine.call(lambda api: api.inspect_container(container_id))
    except EngineError as exc:
        if exc.kind == "not_found":
            return "", None
        raise
    state = info.get("State") or {}
    status = (state.get("Status") or "").lower()
    code = state.get("ExitCode")
    return status, int(code) if code is not None and status in ("exited", "dead") else None


def ended_message(state: str, exit_code: int | None, url: str = "") -> str:
    if state == "":
        return "container was removed"
    if state in ("exited", "dead"):
        return f"container exited (code {exit_code})" if exit_code is not None else "container exited"
    if state == "removing":
        return "container was removed"
    if state == "restarting":
        return "container is restarting"
    if state == "created":
        return "container has not started"
    return f"stream ended (container {state})"
