"""The main window's menu bar: File (Preferences, Quit) and Help (Guide, About)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QMainWindow

from gui import APP_NAME


def make_menus(window: QMainWindow) -> None:
    """Fill ``window``'s menu bar; sets ``window.quit_action``, ``preferences_action``, ``guide_action``
    and ``about_action``."""
    file_menu = window.menuBar().addMenu("&File")
    file_menu.setObjectName("fileMenu")
    prefs = QAction("&Preferences…", window)
    prefs.setObjectName("preferencesAction")
    prefs.setShortcut(QKeySequence("Ctrl+,"))
    prefs.setMenuRole(QAction.MenuRole.PreferencesRole)
    prefs.triggered.connect(lambda: _show_once(window, "preferences_dialog", _make_preferences))
    file_menu.addAction(prefs)
    file_menu.addSeparator()
    window.preferences_action = prefs
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
    guide = QAction("&Guide", window)
    guide.setObjectName("guideAction")
    guide.setShortcut(QKeySequence(QKeySequence.StandardKey.HelpContents))
    guide.triggered.connect(lambda: _show_once(window, "guide_dialog", _make_guide))
    help_menu.addAction(guide)
    window.guide_action = guide
    about = QAction(f"&About {APP_NAME}", window)
    about.setObjectName("aboutAction")
    about.setMenuRole(QAction.MenuRole.AboutRole)
    about.triggered.connect(lambda: _show_about(window))
    help_menu.addAction(about)
    window.about_action = about


def _make_preferences(window: QMainWindow):
    from gui.qt.shell.preferences_dialog import PreferencesDialog

    dlg = PreferencesDialog(window)
    warning = getattr(window, "disk_warning", None)
    if warning is not None:
        dlg.diskWarnChanged.connect(lambda _percent: warning.check())
    return dlg


def _make_guide(window: QMainWindow):
    from gui.qt.shell.guide import GuideDialog

    return GuideDialog(window)


def _show_once(window: QMainWindow, attr: str, make) -> None:
    """Open the dialog made by ``make(window)``, or raise it when it is open already."""
    import shiboken6

    old = getattr(window, attr, None)
    if old is not None and shiboken6.isValid(old) and old.isVisible():
        old.raise_()
        return
    dialog = make(window)
    setattr(window, attr, dialog)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()


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
