"""The main window's menu bar: File (Quit) and Help (About)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QMainWindow

from gui import APP_NAME


def make_menus(window: QMainWindow) -> None:
    """Fill ``window``'s menu bar; sets ``window.quit_action`` and ``window.about_action``."""
    file_menu = window.menuBar().addMenu("&File")
    file_menu.setObjectName("fileMenu")
    quit_action = QAction("&Quit", window)
    quit_action.setObjectName("quitAction")
    quit_action.setShortcut(QKeySequence("Ctrl+Q"))  # StandardKey.Quit is empty on some platforms
    quit_action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
    quit_action.setMenuRole(QAction.MenuRole.QuitRole)
    # Closing the window saves its state and ends the app the way the window's close button does.
    quit_action.triggered.connect(lambda: (window.close(), QApplication.quit()))
    file_menu.addAction(quit_action)
    window.quit_action = quit_action

    help_menu = window.menuBar().addMenu("&Help")
    help_menu.setObjectName("helpMenu")
    about = QAction(f"&About {APP_NAME}", window)
    about.setObjectName("aboutAction")
    about.setMenuRole(QAction.MenuRole.AboutRole)
    about.triggered.connect(lambda: _show_about(window))
    help_menu.addAction(about)
    window.about_action = about


def _show_about(window: QMainWindow) -> None:
    import shiboken6

    from gui.qt.shell.about import AboutDialog

    old = getattr(window, "about_dialog", None)
    if old is not None and shiboken6.isValid(old) and old.isVisible():
        old.raise_()
        return
    dialog = window.about_dialog = AboutDialog(window)  # fresh: the engine may have changed since
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
