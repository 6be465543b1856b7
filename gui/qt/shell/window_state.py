"""What the app remembers across starts (QSettings): window geometry, the last page and the last engine."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings

GEOMETRY = "window/geometry"
STATE = "window/state"
LAST_PAGE = "window/lastPage"
LAST_ENGINE = "engine/lastUrl"


def app_settings() -> QSettings:
    """The user's settings file (on Linux $XDG_CONFIG_HOME/ai-container-studio/ai-container-studio.conf)."""
    return QSettings()


def restore(window, settings: QSettings) -> None:
    """Put back the size, position and last page of `window` (a MainWindow) as they were saved."""
    geometry = settings.value(GEOMETRY)
    if isinstance(geometry, QByteArray) and not geometry.isEmpty():
        window.restoreGeometry(geometry)
    state = settings.value(STATE)
    if isinstance(state, QByteArray) and not state.isEmpty():
        window.restoreState(state)
    try:
        page = int(settings.value(LAST_PAGE, -1))
    except (TypeError, ValueError):
        page = -1
    if 0 <= page < window.pages.count():
        window.pages.setCurrentIndex(page)


def save(window, settings: QSettings) -> None:
    """Remember the size, position and page of `window`, and its engine once it connected."""
    settings.setValue(GEOMETRY, window.saveGeometry())
    settings.setValue(STATE, window.saveState())
    settings.setValue(LAST_PAGE, window.pages.currentIndex())
    session = window.session
    if session.has_loaded and session.target.tls is None:
        settings.setValue(LAST_ENGINE, session.target.url)
    settings.sync()


def last_engine(settings: QSettings) -> str | None:
    value = settings.value(LAST_ENGINE)
    return value if isinstance(value, str) and value else None
