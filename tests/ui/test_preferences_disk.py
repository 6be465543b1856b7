"""Preferences: the disk warning's threshold (issue 15.3) is set in File > Preferences, kept in QSettings
("disk/warn_percent"), and the status bar's warning checks the engine's disk again at once. Real engine."""

from __future__ import annotations

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QDialog

from gui.qt.common import preferences


def open_preferences(window, qtbot) -> QDialog:
    window.preferences_action.trigger()
    qtbot.waitUntil(lambda: window.findChild(QDialog, "preferencesDialog") is not None
                    and window.findChild(QDialog, "preferencesDialog").isVisible(), timeout=2000)
    return window.findChild(QDialog, "preferencesDialog")


def close(qtbot, window, dlg) -> None:
    dlg.accept()
    qtbot.waitUntil(lambda: window.findChild(QDialog, "preferencesDialog") is None
                    or not window.findChild(QDialog, "preferencesDialog").isVisible(), timeout=2000)


def test_disk_warning_threshold_is_a_preference_checked_again_at_once(window, qtbot, tmp_path):
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "config"))
    warning = window.disk_warning
    try:
        QSettings().remove(preferences.DISK_WARN)
        dlg = open_preferences(window, qtbot)
        assert dlg.disk_warn.value() == 90 and dlg.disk_warn.suffix() == " %"
        dlg.disk_warn.setValue(1)  # the engine's disk is surely more than 1 % used
        with qtbot.waitSignal(dlg.diskWarnChanged, timeout=1000) as blocker:
            close(qtbot, window, dlg)
        assert blocker.args == [1]
        assert int(QSettings().value("disk/warn_percent")) == 1
        qtbot.waitUntil(warning.isVisible, timeout=5000)  # no restart, no five-minute wait
        assert "% full" in warning.text() and "free" in warning.text()

        dlg = open_preferences(window, qtbot)
        assert dlg.disk_warn.value() == 1
        dlg.disk_warn.setValue(100)
        close(qtbot, window, dlg)
        assert preferences.disk_warn_percent() == 100
        qtbot.waitUntil(lambda: not warning.isVisible(), timeout=5000)

        # Cancel changes nothing; an unchanged threshold does not ask the engine again.
        dlg = open_preferences(window, qtbot)
        dlg.disk_warn.setValue(5)
        dlg.reject()
        assert preferences.disk_warn_percent() == 100
    finally:
        QSettings().clear()
