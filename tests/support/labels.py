"""The label every test resource carries, and this run's id (so cleanup removes only this run's things)."""

from __future__ import annotations

import uuid

TEST_LABEL = "ai-container-studio.test"
RUN_ID = uuid.uuid4().hex[:8]


def run_labels() -> dict[str, str]:
    """Labels for a container or image this run creates."""
    return {TEST_LABEL: RUN_ID}


def run_filter() -> dict[str, str]:
    """docker-py filter that finds what this run created."""
    return {"label": f"{TEST_LABEL}={RUN_ID}"}
