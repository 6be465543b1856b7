"""Root of the tests: Qt offscreen with PySide6, and the shared plugin (tests/support/fixtures.py)."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")

pytest_plugins = ["tests.support.fixtures", "tests.support.swarm_fixtures"]
