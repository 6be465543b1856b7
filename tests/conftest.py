"""Root of the tests: Qt offscreen with PySide6, and the shared plugins (tests/support/fixtures.py,
swarm_fixtures.py and demo_images.py: the demo images built once per session)."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")

pytest_plugins = ["tests.support.fixtures", "tests.support.swarm_fixtures", "tests.support.demo_images"]
