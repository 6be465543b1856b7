"""The freedesktop entry and icons: rendering, quoting, install and removal (no Qt, no engine)."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from gui import APP_ID
from gui.desktop import data_home, entry_paths, install_entry, quote_exec_arg, render_entry, uninstall_entry
from gui.resources import ICON_SIZES

ROOT = Path(__file__).resolve().parents[2]


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", head[16:24])


def validate(path: Path) -> None:
    tool = shutil.which("desktop-file-validate")
    if tool is None:
        pytest.fail("desktop-file-validate is missing (apt-get install desktop-file-utils)")
    r = subprocess.run([tool, str(path)], capture_output=True, text=True)
    assert r.returncode == 0 and not r.stdout.strip(), r.stdout + r.stderr


def entry_values(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def test_data_home_honours_xdg_data_home(tmp_path):
    assert data_home({"XDG_DATA_HOME": str(tmp_path)}) == tmp_path
    assert data_home({}) == Path.home() / ".local" / "share"
    assert data_home({"XDG_DATA_HOME": "relative/dir"}) == Path.home() / ".local" / "share"  # the spec ignores it


@pytest.mark.parametrize(("arg", "quoted"), [
    ("/opt/aics/ai-container-studio", "/opt/aics/ai-container-studio"),
    ("/home/me/My Apps/aics", '"/home/me/My Apps/aics"'),
    ("/srv/100%/aics", "/srv/100%%/aics"),
    ("/a$b/aics", '"/a\\\\$b/aics"'),
    ('/we"ird/aics', '"/we\\\\"ird/aics"'),
])
def test_exec_arguments_are_quoted_as_the_spec_says(arg, quoted):
    assert quote_exec_arg(arg) == quoted


def test_rendered_entry_is_valid_and_points_at_the_command(tmp_path):
    text = render_entry(["/opt/My Apps/python3", "-m", "gui"])
    values = entry_values(text)
    assert values["Exec"] == '"/opt/My Apps/python3" -m gui'
    assert values["TryExec"] == "/opt/My Apps/python3"
    assert values["Icon"] == APP_ID
    assert values["StartupWMClass"] == APP_ID  # Qt's WM_CLASS class: the application name
    assert values["Terminal"] == "false"
    assert values["Categories"] == "Development;"
    path = tmp_path / f"{APP_ID}.desktop"
    path.write_text(text)
    validate(path)


def test_install_and_uninstall_for_the_user(tmp_path):
    paths = install_entry(tmp_path, command=["/opt/aics/ai-container-studio"])
    assert paths.desktop_file == tmp_path / "applications" / f"{APP_ID}.desktop"
    validate(paths.desktop_file)
    assert entry_values(paths.desktop_file.read_text())["Exec"] == "/opt/aics/ai-container-studio"
    for size in ICON_SIZES:
        icon = tmp_path / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
        assert png_size(icon) == (size, size)
    svg = tmp_path / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg"
    assert svg.read_text().lstrip().startswith("<?xml")

    install_entry(tmp_path, command=["/elsewhere/aics"])  # installing again replaces, never duplicates
    assert entry_values(paths.desktop_file.read_text())["Exec"] == "/elsewhere/aics"

    removed = uninstall_entry(tmp_path)
    assert sorted(removed) == sorted(entry_paths(tmp_path).all)
    assert not any(p.exists() for p in entry_paths(tmp_path).all)
    assert uninstall_entry(tmp_path) == []


def test_command_line_installs_without_a_display(tmp_path):
    """--install-desktop-entry needs no X server and loads no Qt: it runs from a plain terminal or script."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["XDG_DATA_HOME"] = str(tmp_path)
    r = subprocess.run([sys.executable, "-m", "gui", "--install-desktop-entry"], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    entry = tmp_path / "applications" / f"{APP_ID}.desktop"
    validate(entry)
    exec_line = entry_values(entry.read_text())["Exec"]
    assert exec_line.split()[0].strip('"').endswith((APP_ID, "python", "python3")) or "-m gui" in exec_line
    r = subprocess.run([sys.executable, "-m", "gui", "--uninstall-desktop-entry"], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert not entry.exists()


def test_desktop_module_loads_no_qt():
    code = "import sys, gui.desktop, gui.resources, gui.licenses; print(sorted(m for m in sys.modules if 'PySide' in m))"
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"
