"""Colours, the application stylesheet and themed icons, in one place.

Widgets never carry colour strings: they name a role (``set_role(label, "error")``, an objectName, or
``color("accent")`` for painting), and this module picks the light or the dark value. Dark or light
follows the system (``QStyleHints.colorScheme``, Qt 6.5+) unless ``AICS_THEME=dark|light`` (or
``--theme``) forces one; a forced or system dark theme uses Fusion with a dark palette, because the
platform styles of Linux without a desktop (Xvfb, offscreen) stay light whatever the hint says.
"""

from __future__ import annotations

import functools
import os

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QKeySequence, QPalette
from PySide6.QtWidgets import QApplication, QWidget

os.environ.setdefault("QT_API", "pyside6")  # qtawesome goes through QtPy: never another binding

THEME_ENV = "AICS_THEME"

# role -> (light, dark). Reds, greens and ambers keep a contrast of >= 4.5 against the window colour.
ROLES: dict[str, tuple[str, str]] = {
    "error": ("#b3261e", "#ff8a80"),
    "ok": ("#1e7b34", "#7ddc97"),
    "warning": ("#8a5a00", "#f2c14e"),
    "muted": ("#5d636b", "#a3aab3"),
    "accent": ("#1a5fb4", "#78aeed"),
    "link": ("#1a5fb4", "#8cbcff"),
    "match": ("#fff176", "#6d5f00"),
    "match-current": ("#ffb74d", "#a4570f"),
    "search-miss": ("#ffcdd2", "#6b2a2a"),
    "invalid-border": ("#d93025", "#ff8a80"),
    "log-error": ("#c62828", "#ff8a80"),
    "log-stamp": ("#78909c", "#8fa3ad"),
    "syntax-instruction": ("#1a5fb4", "#78aeed"),
    "syntax-comment": ("#6a737d", "#8b949e"),
    "syntax-string": ("#a31515", "#e8a27c"),
    "syntax-variable": ("#8250df", "#c9a3ff"),
    "syntax-flag": ("#0b7a75", "#5fd0c8"),
    "spark-cpu": ("#e53935", "#ff6f60"),
    "spark-memory": ("#1e88e5", "#64b5f6"),
    "spark-network": ("#43a047", "#81c784"),
    "build-step": ("#1a5fb41c", "#78aeed30"),
    "build-cached": ("#1e7b341e", "#7ddc9728"),
    "build-failed": ("#d930253c", "#ff8a8048"),
    "banner-bg": ("#fdecea", "#4a1f1c"),
    "banner-border": ("#f5c2c0", "#7a3330"),
    "banner-text": ("#611a15", "#ffd9d4"),
    "notice-bg": ("#fff4ce", "#4a3d10"),
    "notice-border": ("#e8d48a", "#7a6420"),
    "panel-border": ("#c5cbd3", "#4b525b"),
    "panel-bg": ("#f7f8fa", "#24272b"),
    "panel-drag-bg": ("#eef5ff", "#1e2d42"),
    "card-border": ("#d0d4da", "#454b53"),
    "card-failed-border": ("#e3a29c", "#9a4a44"),
    "card-failed-bg": ("#fff8f7", "#3a2422"),
    "thumb-bg": ("#eef0f3", "#33373d"),
    "chart-1": ("#2f7de1", "#5b9cf0"),
    "chart-2": ("#8fb6ea", "#3f6ea8"),
    "chart-3": ("#c3d6ef", "#2e4866"),
    "chart-track": ("#e8ebef", "#3a3f46"),
    "chart-muted-1": ("#b8bdc4", "#9aa1aa"),  # the bars of an unsure answer: greys, lighter down the list
    "chart-muted-2": ("#cfd3d8", "#7a818a"),
    "chart-muted-3": ("#dde0e4", "#5f666e"),
    "on-badge": ("#ffffff", "#ffffff"),  # text on a state badge (BADGES are dark enough for white in both)
    "sidebar-bg": ("#eceef1", "#1b1d20"),
    "sidebar-selected": ("#d5e3f7", "#2b3d55"),
}

# Container state -> role of its badge (background colour; the text is white on all of them).
BADGES: dict[str, tuple[str, str]] = {
    "running": ("#1e7b34", "#2d8a47"),
    "paused": ("#8a5a00", "#9a6a0a"),
    "restarting": ("#1a5fb4", "#2f6fc0"),
    "unhealthy": ("#b3261e", "#c0392b"),
    "exited": ("#5d636b", "#5d636b"),
    "dead": ("#7a1f1a", "#8a2a24"),
    "created": ("#6b5fb5", "#6b5fb5"),
    "removing": ("#5d636b", "#5d636b"),
}

# objectName of an action or button -> icon (QtAwesome names: Material Design Icons 6, MIT/Apache).
ICONS: dict[str, str] = {
    "containers": "mdi6.cube-outline",
    "images": "mdi6.layers-outline",
    "build": "mdi6.hammer-wrench",
    "predict": "mdi6.brain",
    "volumes": "mdi6.database-outline",
    "networks": "mdi6.lan",
    "disk": "mdi6.harddisk",
    "cluster": "mdi6.server-network",
    "serviceDeploy": "mdi6.rocket-launch-outline",
    "serviceUpdate": "mdi6.update",
    "serviceRollback": "mdi6.undo-variant",
    "serviceRemove": "mdi6.delete-outline",
    "servicePredict": "mdi6.brain",
    "serviceExport": "mdi6.export",
    "nodeDrain": "mdi6.water-off-outline",
    "nodeActivate": "mdi6.play-circle-outline",
    "nodeRemove": "mdi6.server-remove",
    "volumeCreate": "mdi6.plus-box-outline",
    "volumeBrowse": "mdi6.folder-search-outline",
    "volumeRemove": "mdi6.delete-outline",
    "volumePrune": "mdi6.broom",
    "volumeSizes": "mdi6.ruler",
    "networkCreate": "mdi6.plus-network-outline",
    "networkConnect": "mdi6.lan-connect",
    "networkDisconnect": "mdi6.lan-disconnect",
    "networkRemove": "mdi6.delete-outline",
    "diskRefresh": "mdi6.refresh",
    "actionStart": "mdi6.play",
    "actionStop": "mdi6.stop",
    "actionRestart": "mdi6.restart",
    "actionPause": "mdi6.pause",
    "actionUnpause": "mdi6.play-pause",
    "actionKill": "mdi6.skull-outline",
    "actionRemove": "mdi6.delete-outline",
    "actionRefresh": "mdi6.refresh",
    "toolLogs": "mdi6.text-box-outline",
    "toolInspect": "mdi6.code-json",
    "toolExec": "mdi6.console",
    "toolCopy": "mdi6.file-swap-outline",
    "toolJupyter": "mdi6.notebook-outline",
    "imageRun": "mdi6.play-circle-outline",
    "imageDeploy": "mdi6.rocket-launch-outline",
    "imageTag": "mdi6.tag-outline",
    "imageRemove": "mdi6.delete-outline",
    "imageHistory": "mdi6.history",
    "imagePrune": "mdi6.broom",
    "imagePull": "mdi6.cloud-download-outline",
    "imagePush": "mdi6.cloud-upload-outline",
    "imageLogin": "mdi6.account-key-outline",
    "imageInspect": "mdi6.code-json",
    "buildButton": "mdi6.hammer",
    "buildCancel": "mdi6.close-circle-outline",
    "runBuilt": "mdi6.play-circle-outline",
    "deployBuilt": "mdi6.rocket-launch-outline",
    "predictOpen": "mdi6.folder-open-outline",
    "emptyOpen": "mdi6.folder-open-outline",
    "predictCancel": "mdi6.close-circle-outline",
    "predictExport": "mdi6.file-delimited-outline",
    "predictClear": "mdi6.broom",
    "engineRetry": "mdi6.refresh",
}


def is_dark(widget: QWidget | None = None) -> bool:
    """Whether the palette in use is a dark one (window darker than its text)."""
    pal = widget.palette() if widget is not None else QGuiApplication.palette()
    return pal.color(QPalette.ColorRole.Window).lightness() < pal.color(QPalette.ColorRole.WindowText).lightness()


def color(role: str, widget: QWidget | None = None) -> QColor:
    """The colour of ``role`` (a key of ROLES or ``badge-<state>``) for the current theme."""
    return QColor(themed_color(role, is_dark(widget)))


@functools.lru_cache(maxsize=256)
def themed_color(role: str, dark: bool) -> QColor:
    """The colour of ``role`` in a light or dark theme, parsed once. Painters that draw often (200 cards'
    bars) keep ``is_dark`` per palette change and call this; the QColor is shared: copy it to change it."""
    pair = BADGES[role[6:]] if role.startswith("badge-") else ROLES[role]
    value = pair[1] if dark else pair[0]
    if len(value) == 9:  # #rrggbbaa
        c = QColor(value[:7])
        c.setAlpha(int(value[7:], 16))
        return c
    return QColor(value)


def hex_color(role: str) -> str:
    c = color(role)
    return c.name(QColor.NameFormat.HexArgb) if c.alpha() < 255 else c.name()


def set_role(widget: QWidget, role: str | None) -> None:
    """Give ``widget`` a style role ("error", "ok", "warning", "muted"...; None: plain) and restyle it."""
    if widget.property("role") == (role or ""):
        return
    widget.setProperty("role", role or "")
    polished = Qt.WidgetAttribute.WA_WState_Polished
    for w in (widget, *widget.findChildren(QWidget)):  # descendant rules ([role="invalid"] QLineEdit)
        if w.testAttribute(polished):  # one not polished yet gets the rules when it is (shown, measured)
            w.style().unpolish(w)
            w.style().polish(w)
    widget.update()


def dark_palette() -> QPalette:
    pal = QPalette()
    R, G = QPalette.ColorRole, QPalette.ColorGroup
    for role, value in (
        (R.Window, "#202225"), (R.WindowText, "#e6e8eb"), (R.Base, "#17191c"), (R.AlternateBase, "#1f2226"),
        (R.ToolTipBase, "#2b2e33"), (R.ToolTipText, "#e6e8eb"), (R.PlaceholderText, "#8b929b"),
        (R.Text, "#e6e8eb"), (R.Button, "#2b2e33"), (R.ButtonText, "#e6e8eb"), (R.BrightText, "#ffffff"),
        (R.Light, "#3a3e44"), (R.Midlight, "#33373c"), (R.Mid, "#2a2d31"), (R.Dark, "#111214"),
        (R.Shadow, "#000000"), (R.Highlight, "#2f6fc0"), (R.HighlightedText, "#ffffff"),
        (R.Link, "#8cbcff"), (R.LinkVisited, "#c9a3ff"),
    ):
        pal.setColor(role, QColor(value))
    for role in (R.WindowText, R.Text, R.ButtonText):
        pal.setColor(G.Disabled, role, QColor("#6c727a"))
    pal.setColor(G.Disabled, R.Highlight, QColor("#3a3e44"))
    return pal


def light_palette() -> QPalette:
    pal = QPalette()
    R = QPalette.ColorRole
    for role, value in (
        (R.Window, "#f6f7f9"), (R.WindowText, "#1f2328"), (R.Base, "#ffffff"), (R.AlternateBase, "#f3f5f8"),
        (R.Text, "#1f2328"), (R.Button, "#f3f4f6"), (R.ButtonText, "#1f2328"), (R.PlaceholderText, "#6b7178"),
        (R.Highlight, "#2f6fc0"), (R.HighlightedText, "#ffffff"), (R.Link, "#1a5fb4"),
        (R.Light, "#ffffff"), (R.Midlight, "#e4e7eb"), (R.Mid, "#c5cbd3"), (R.Dark, "#9aa1aa"),
    ):
        pal.setColor(role, QColor(value))
    # setColor(role, ...) sets every colour group, Disabled too: without these a disabled button's text
    # was as dark as an enabled one's (Cancel, Run… looked clickable on the Build page).
    G = QPalette.ColorGroup
    for role in (R.WindowText, R.Text, R.ButtonText):
        pal.setColor(G.Disabled, role, QColor("#8c939b"))
    pal.setColor(G.Disabled, R.Highlight, QColor("#c5cbd3"))
    return pal


def stylesheet() -> str:
    """The one application stylesheet; colours come from ROLES for the theme in use."""
    c = {k: hex_color(k) for k in ROLES}
    return f"""
QLabel[role="error"], QLabel#cardStatus[state="failed"] {{ color: {c['error']}; }}
QLabel[role="ok"] {{ color: {c['ok']}; }}
QLabel[role="warning"] {{ color: {c['warning']}; }}
QLabel[role="muted"], QLabel#dropHint, QLabel#cardStatus, QLabel#cardName {{ color: {c['muted']}; }}
QLabel[role="title"] {{ font-size: 13pt; font-weight: 600; }}
QLabel[role="hint"] {{ color: {c['muted']}; font-size: 11px; }}
QLabel[role="strong-ok"] {{ color: {c['ok']}; font-weight: bold; }}
QLabel[role="strong-error"] {{ color: {c['error']}; font-weight: bold; }}
QLabel[role="strong-warning"] {{ color: {c['warning']}; font-weight: bold; }}
QLineEdit[role="search-miss"] {{ background: {c['search-miss']}; }}
QLineEdit[role="invalid"], QPlainTextEdit[role="invalid"], QComboBox[role="invalid"],
*[role="invalid"] QLineEdit, *[role="invalid"] QPlainTextEdit, *[role="invalid"] QComboBox {{
    border: 1px solid {c['invalid-border']}; border-radius: 3px; padding: 2px; }}
QFrame#engineBanner {{ background: {c['banner-bg']}; border: 1px solid {c['banner-border']}; border-radius: 4px; }}
QLabel#engineBannerText {{ color: {c['banner-text']}; }}
QFrame#handEditNotice {{ background: {c['notice-bg']}; border: 1px solid {c['notice-border']}; border-radius: 4px; }}
QLabel[role="drop-hint"] {{ border: 2px dashed {c['panel-border']}; border-radius: 6px; padding: 12px;
    color: {c['muted']}; }}
QFrame#dropPanel {{ border: 2px dashed {c['panel-border']}; border-radius: 10px; background: {c['panel-bg']}; }}
QLabel#dropTitle {{ font-size: 17pt; font-weight: 600; }}
QLabel#dropGlyph {{ font-size: 40pt; color: {c['accent']}; }}
QFrame#predictionCard {{ background: palette(base); border: 1px solid {c['card-border']}; border-radius: 8px; }}
QFrame#predictionCard[state="failed"] {{ border-color: {c['card-failed-border']}; background: {c['card-failed-bg']}; }}
QLabel#cardThumb {{ background: {c['thumb-bg']}; border-radius: 5px; color: {c['muted']}; }}
QLabel#cardTopLabel {{ font-size: 15pt; font-weight: 600; }}
QLabel#cardUnsure {{ color: {c['warning']}; background: {c['notice-bg']}; border: 1px solid {c['notice-border']};
    border-radius: 8px; padding: 0 6px; font-weight: 600; }}
QWidget#cardGrid {{ background: transparent; }}
QListWidget#sidebar {{ background: {c['sidebar-bg']}; border: none; padding: 8px 6px; outline: 0; }}
QListWidget#sidebar::item {{ padding: 8px 10px; margin: 2px 0; border-radius: 6px; color: palette(window-text); }}
QListWidget#sidebar::item:hover {{ background: {c['sidebar-selected']}; }}
QListWidget#sidebar::item:selected {{ background: {c['sidebar-selected']}; color: palette(window-text);
    font-weight: 600; }}
QWidget#sidebarPanel {{ background: {c['sidebar-bg']}; }}
QLabel#sidebarTitle {{ font-size: 11pt; font-weight: 700; padding: 12px 12px 4px 12px; }}
QLabel#sidebarEngineLabel {{ color: {c['muted']}; padding: 0 2px; }}
QToolBar {{ border: none; spacing: 2px; }}
"""


def icon(name: str, role: str | None = None) -> QIcon:
    """A QtAwesome icon (bundled font, no network) in the text colour of the theme, or in ``role``'s."""
    from gui.qt.common.icon_font import glyph_icon

    pal = QGuiApplication.palette()
    main = color(role) if role else pal.color(QPalette.ColorRole.WindowText)
    disabled = pal.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText)
    drawn = glyph_icon(name, main, disabled)  # the same font, without importing qtawesome (slow)
    if drawn is not None:
        return drawn
    import qtawesome

    return qtawesome.icon(name, color=main, color_disabled=disabled)


def decorate(root: QWidget) -> None:
    """Icons on every action and button below ``root`` that ICONS names; toolbars show icons with tooltips."""
    from PySide6.QtCore import QSize
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QAbstractButton, QToolBar

    for act in root.findChildren(QAction):
        name = ICONS.get(act.objectName())
        if name:
            act.setIcon(icon(name))
            shortcut = act.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            act.setToolTip(act.text().replace("&", "") + (f" ({shortcut})" if shortcut else ""))
    for button in root.findChildren(QAbstractButton):
        name = ICONS.get(button.objectName())
        if name:
            button.setIcon(icon(name))
    for bar in root.findChildren(QToolBar):
        bar.setIconSize(QSize(20, 20))
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        bar.setMinimumWidth(bar.sizeHint().width())  # never an overflow chevron hiding actions


def _wanted_theme() -> str:
    wanted = os.environ.get(THEME_ENV, "").strip().lower()
    return wanted if wanted in ("dark", "light") else "system"


class ThemeNotifier(QObject):
    """Emits ``changed`` after the theme (palette + stylesheet) was applied again."""

    changed = Signal()


notifier = ThemeNotifier()


def apply_theme(app: QApplication) -> None:
    """Palette, style and stylesheet for the theme asked for (AICS_THEME) or the system's; follows changes."""
    wanted = _wanted_theme()
    hints = app.styleHints()
    system_dark = hasattr(hints, "colorScheme") and hints.colorScheme() == Qt.ColorScheme.Dark
    dark = wanted == "dark" or (wanted == "system" and system_dark)
    if wanted != "system" or dark:
        app.setStyle("Fusion")
        app.setPalette(dark_palette() if dark else light_palette())
    elif app.property("aicsThemed"):
        app.setPalette(app.style().standardPalette())  # back from a dark system theme
    app.setProperty("aicsThemed", wanted != "system" or dark)
    app.setStyleSheet(stylesheet())
    if not app.property("aicsFollowing") and hasattr(hints, "colorSchemeChanged"):
        app.setProperty("aicsFollowing", True)
        hints.colorSchemeChanged.connect(lambda _scheme: _on_scheme_changed(app))
    notifier.changed.emit()


def _on_scheme_changed(app: QApplication) -> None:
    if _wanted_theme() == "system":
        apply_theme(app)

