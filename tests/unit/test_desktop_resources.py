"""Bundled resources: present in every size, found from the package and from a PyInstaller bundle."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

from gui import APP_ID
from gui.licenses import bundled_components
from gui.resources import ICON_SIZES, desktop_template, icon_ico, icon_png, icon_svg, resource_dir
from tests.unit.test_desktop import png_size

ROOT = Path(__file__).resolve().parents[2]


def _sync_module():
    spec = importlib.util.spec_from_file_location("sync_resources", ROOT / "packaging" / "sync_resources.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_package_copy_matches_resources():
    """gui/_resources (shipped in wheels and bundles) is exactly resources/ (what people edit)."""
    assert _sync_module().differences() == [], "run: python packaging/sync_resources.py"


def test_every_icon_size_is_there_and_has_its_size():
    for size in ICON_SIZES:
        assert png_size(icon_png(size)) == (size, size)
    assert icon_svg().read_text().count("<svg") == 1
    assert icon_ico().read_bytes()[:4] == b"\x00\x00\x01\x00"  # ICO header
    assert f"Icon={APP_ID}" in desktop_template()


def test_resources_come_from_the_package():
    assert resource_dir() == ROOT / "gui" / "_resources"


def test_resources_come_from_a_pyinstaller_bundle(tmp_path, monkeypatch):
    bundled = tmp_path / "gui" / "_resources"
    shutil.copytree(ROOT / "gui" / "_resources", bundled)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert resource_dir() == bundled
    assert icon_png(48).is_relative_to(bundled)


def test_licenses_of_what_the_app_bundles():
    comps = {c.name.lower().replace("_", "-"): c for c in bundled_components()}
    for name in ("pyside6-essentials", "shiboken6", "docker", "qasync", "pillow", "requests", "python"):
        assert name in comps, f"{name} missing from {sorted(comps)}"
        assert comps[name].license not in ("", "unknown"), name
        assert comps[name].version
    assert "LGPL-3.0" in comps["pyside6-essentials"].license
    assert "Apache" in comps["docker"].license_text
    assert not any(n in comps for n in ("pytest", "ruff", "scikit-learn", "pyinstaller")), "test/dev tools listed"
