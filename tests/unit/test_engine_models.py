"""ContainerInfo reads its health check and its exit code from the engine's Status text."""

import pytest

from gui.engine import ContainerInfo


def info(state: str, status: str) -> ContainerInfo:
    return ContainerInfo(id="c" * 64, name="c", image="img", state=state, status=status, created=0.0)


@pytest.mark.parametrize("status, health", [
    ("Up 2 seconds (health: starting)", "starting"),
    ("Up 3 minutes (healthy)", "healthy"),
    ("Up 3 minutes (unhealthy)", "unhealthy"),
    ("Up 3 minutes", ""),
    ("Exited (0) 2 hours ago", ""),
])
def test_health_comes_from_the_status(status, health):
    assert info("running", status).health == health


@pytest.mark.parametrize("status, code", [
    ("Exited (137) 3 seconds ago", 137),
    ("Exited (0) 2 hours ago", 0),
    ("Exited (-1) Less than a second ago", -1),
    ("Up 3 minutes (healthy)", None),
    ("Created", None),
])
def test_exit_code_comes_from_the_status(status, code):
    assert info("exited", status).exit_code == code
