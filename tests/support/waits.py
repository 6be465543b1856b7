"""Waiting for the real condition instead of sleeping for a guess of how long it takes."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(condition: Callable[[], object], timeout: float = 30, what: str = "the condition") -> None:
    """Poll ``condition`` (every 20 ms) until it is true; fail saying ``what`` did not happen in time."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout} s")
        time.sleep(0.02)


def log_line_count(docker_api, container_id: str) -> int:
    return docker_api.logs(container_id, stdout=True, stderr=True).count(b"\n")


def wait_for_log_lines(docker_api, container_id: str, count: int, timeout: float = 30) -> None:
    """Wait until the engine holds at least ``count`` lines of the container's log (all of them written)."""
    wait_until(lambda: log_line_count(docker_api, container_id) >= count, timeout,
               f"{count} log lines from {container_id[:12]}")
