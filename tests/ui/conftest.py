"""The real main window on the real engine, loaded and closed after the test."""

import pytest

from gui.app import create_window


@pytest.fixture
def window(qtbot):
    w = create_window()
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.session.has_loaded, timeout=5000)
    yield w
    w.close()
