"""Fixtures shared by the Build page tests (test_build_page, test_build_journey, test_model_drop).

Registered by their ``name=``: a test module imports the ``*_fixture`` functions to use them. ``window``
here overrides the shared plugin's ``window`` (tests/support/fixtures.py) in the modules that import it.
"""

from __future__ import annotations

import uuid

import pytest

from tests.support.labels import RUN_ID


@pytest.fixture(name="window")
def build_window_fixture(window, qtbot):
    """The shared window on the Build page; a build still running is cancelled before it closes."""
    window.pages.setCurrentWidget(window.build_page)
    yield window
    page = window.build_page
    if page.runner is not None:
        page.cancel_build()
        qtbot.waitUntil(lambda: page.runner is None, timeout=30000)


@pytest.fixture(name="tags")
def tags_fixture(docker_api):
    """``tags("stem")`` -> ``aicstest-<run>-stem:<random>``: a tag for an image the page builds; every tag
    made is removed after the test (whether the build made it or not)."""
    made: list[str] = []

    def make(stem: str) -> str:
        made.append(f"aicstest-{RUN_ID}-{stem}:{uuid.uuid4().hex[:8]}")
        return made[-1]

    yield make
    for tag in made:
        try:
            docker_api.remove_image(tag, force=True)
        except Exception:
            pass
