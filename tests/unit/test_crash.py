"""Unexpected exceptions: a short message that names the log file, the traceback in the file."""

import sys

from gui.paths import crash_log_path
from gui.qt.shell.crash import CrashReporter


def test_crash_reporter_writes_log_and_shows_short_message(qtbot, tmp_path):
    log = tmp_path / "state" / "crash.log"
    reporter = CrashReporter(log_path=log)
    try:
        {}["missing"]
    except KeyError:
        reporter.handle(*sys.exc_info())
    qtbot.waitUntil(lambda: reporter.last_box is not None and reporter.last_box.isVisible())
    text = reporter.last_box.text()
    assert "Something went wrong: 'missing'" in text and str(log) in text
    assert "Traceback" not in text
    logged = log.read_text()
    assert "Traceback (most recent call last)" in logged and "KeyError: 'missing'" in logged
    reporter.last_box.close()


def test_crash_log_lives_in_the_state_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    if sys.platform.startswith("linux"):
        assert crash_log_path() == tmp_path / "ai-container-studio" / "crash.log"
