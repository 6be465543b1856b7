"""The user's preferences (File > Preferences), kept in QSettings: theme, the default memory limit and the
disk warning's threshold."""

from __future__ import annotations

import os

from PySide6.QtCore import QSettings

THEME = "preferences/theme"  # "system" | "light" | "dark"
MEMORY_MB = "preferences/memory_limit_mb"  # 0: half the engine host's memory
THEMES = ("system", "light", "dark")
DISK_WARN = "disk/warn_percent"  # the status bar warns when the engine's disk is fuller than this
DEFAULT_DISK_WARN = 90
THEME_ENV = "AICS_THEME"


def _int(value, default: int = 0) -> int:
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return default


def memory_limit_mb(settings: QSettings | None = None) -> int:
    """The memory limit (MB) the Run dialog offers; 0: derive it from the engine host."""
    return _int((settings or QSettings()).value(MEMORY_MB, 0))


def disk_warn_percent(settings: QSettings | None = None) -> int:
    """How full (percent, 1-100) the engine's disk may get before the status bar warns."""
    value = _int((settings or QSettings()).value(DISK_WARN, DEFAULT_DISK_WARN), DEFAULT_DISK_WARN)
    return max(1, min(100, value or DEFAULT_DISK_WARN))


def save_disk_warn_percent(percent: int, settings: QSettings | None = None) -> None:
    settings = settings or QSettings()
    settings.setValue(DISK_WARN, max(1, min(100, int(percent))))
    settings.sync()


def theme(settings: QSettings | None = None) -> str:
    value = str((settings or QSettings()).value(THEME, "system") or "system")
    return value if value in THEMES else "system"


def save(theme_name: str, memory_mb: int, settings: QSettings | None = None) -> None:
    settings = settings or QSettings()
    settings.setValue(THEME, theme_name if theme_name in THEMES else "system")
    settings.setValue(MEMORY_MB, max(0, int(memory_mb)))
    settings.sync()


def apply_saved_theme(app, settings: QSettings | None = None, overridden: bool = False) -> None:
    """Use the saved theme unless ``--theme`` or AICS_THEME chose one for this run."""
    from gui.qt.common.style import apply_theme

    if overridden or os.environ.get(THEME_ENV):
        return
    wanted = theme(settings)
    if wanted != "system":
        os.environ[THEME_ENV] = wanted
        apply_theme(app)


def use_theme(app, theme_name: str) -> None:
    """Switch the running app to ``theme_name`` now."""
    from gui.qt.common.style import apply_theme

    os.environ[THEME_ENV] = theme_name
    apply_theme(app)
