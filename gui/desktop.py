"""Install and remove the freedesktop menu entry and icons for the current user (no Qt needed).

The entry goes to $XDG_DATA_HOME/applications (default ~/.local/share/applications) and the icons to
$XDG_DATA_HOME/icons/hicolor/<size>/apps, so the app shows in the menu and opens on double-click.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from gui import APP_ID
from gui.resources import ICON_SIZES, desktop_template, icon_png, icon_svg

_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")  # Desktop Entry spec: arguments with these are quoted


def data_home(env: dict[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    value = env.get("XDG_DATA_HOME", "")
    return Path(value) if os.path.isabs(value) else Path.home() / ".local" / "share"


def launch_command() -> list[str]:
    """How this installation starts the app: the bundle's executable, the gui-script, or python -m gui."""
    if getattr(sys, "frozen", False):
        return [os.path.abspath(sys.executable)]
    script = Path(sys.executable).with_name(APP_ID)  # the gui-script next to the venv's python
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    found = shutil.which(APP_ID)
    if found:
        return [os.path.abspath(found)]
    return [os.path.abspath(sys.executable), "-m", "gui"]


def quote_exec_arg(arg: str) -> str:
    """One argument of an Exec key, quoted and escaped as the Desktop Entry spec asks."""
    arg = arg.replace("%", "%%")
    if not arg or any(ch in _RESERVED for ch in arg):
        inner = re.sub(r'(["`$\\])', r"\\\1", arg)
        arg = f'"{inner}"'
    # The value itself is a string: backslashes in it are escaped once more.
    return arg.replace("\\", "\\\\")


def render_entry(command: list[str], template: str | None = None) -> str:
    """The .desktop text with Exec and TryExec pointing at `command`."""
    text = desktop_template() if template is None else template
    exec_line = "Exec=" + " ".join(quote_exec_arg(a) for a in command)
    text = re.sub(r"^Exec=.*$", lambda _m: exec_line, text, count=1, flags=re.M)
    return re.sub(r"^TryExec=.*$", lambda _m: f"TryExec={command[0]}", text, count=1, flags=re.M)


@dataclass(frozen=True)
class EntryPaths:
    desktop_file: Path
    icons: tuple[Path, ...]

    @property
    def all(self) -> tuple[Path, ...]:
        return (self.desktop_file, *self.icons)


def entry_paths(base: Path | None = None) -> EntryPaths:
    base = data_home() if base is None else Path(base)
    hicolor = base / "icons" / "hicolor"
    icons = [hicolor / f"{s}x{s}" / "apps" / f"{APP_ID}.png" for s in ICON_SIZES]
    icons.append(hicolor / "scalable" / "apps" / f"{APP_ID}.svg")
    return EntryPaths(base / "applications" / f"{APP_ID}.desktop", tuple(icons))


def install_entry(base: Path | None = None, command: list[str] | None = None) -> EntryPaths:
    """Write the menu entry and the icons; returns where they went."""
    paths = entry_paths(base)
    sources = [icon_png(s) for s in ICON_SIZES] + [icon_svg()]
    for src, dest in zip(sources, paths.icons, strict=True):
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
    paths.desktop_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = paths.desktop_file.with_suffix(".desktop.tmp")
    tmp.write_text(render_entry(command or launch_command()), encoding="utf-8")
    tmp.chmod(0o755)  # some file managers only trust executable .desktop files
    tmp.replace(paths.desktop_file)
    _refresh_caches(paths)
    return paths


def uninstall_entry(base: Path | None = None) -> list[Path]:
    """Remove the menu entry and icons; returns what was removed (nothing when not installed)."""
    paths = entry_paths(base)
    removed = []
    for path in paths.all:
        if path.is_file():
            path.unlink()
            removed.append(path)
    if removed:
        _refresh_caches(paths)
    return removed


def _refresh_caches(paths: EntryPaths) -> None:
    """Tell menus and icon themes about the change, where the tools for it are installed."""
    hicolor = paths.icons[0].parents[2]
    try:
        os.utime(hicolor)  # icon caches compare the theme folder's mtime
    except OSError:
        pass
    for cmd in (["update-desktop-database", "-q", str(paths.desktop_file.parent)],
                ["gtk-update-icon-cache", "-q", "-t", "-f", str(hicolor)]):
        if shutil.which(cmd[0]):
            subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, timeout=30)
