"""Open a web address in the user's browser, and say so in the window when no browser can be started."""

from __future__ import annotations

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices


def launch(url: str) -> bool:
    """Ask the desktop to open ``url``; False when nothing could (no browser, no xdg-open)."""
    return QDesktopServices.openUrl(QUrl(url))


def no_browser_message(url: str) -> str:
    return f"No web browser could be started for {url}: copy the address and open it yourself."


def open_url(url: str, report) -> bool:
    """Open ``url``; when that fails, ``report(sentence)`` tells the user (a status bar, a label)."""
    if launch(url):
        return True
    report(no_browser_message(url))
    return False
