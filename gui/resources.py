"""Where the bundled resources (icons, .desktop file, sample pictures) are: in the package, a PyInstaller bundle or a checkout.

No Qt here: callers get paths and turn them into QIcons themselves.
"""

from __future__ import annotations

import sys
from pathlib import Path

from gui import APP_ID

ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
DESKTOP_FILE = f"{APP_ID}.desktop"


def _candidates() -> list[Path]:
    here = Path(__file__).resolve().parent
    found: list[Path] = []
    bundle = getattr(sys, "_MEIPASS", None)  # PyInstaller unpacks data files below this folder
    if bundle:
        found.append(Path(bundle) / "gui" / "_resources")
    found.append(here / "_resources")  # wheel, `pip install .`, `pip install -e .`
    found.append(here.parent / "resources")  # a source checkout before packaging/sync_resources.py ran
    return found


def resource_dir() -> Path:
    """The folder holding the icons and the .desktop file (raises when none has them)."""
    for path in _candidates():
        if (path / DESKTOP_FILE).is_file():
            return path
    tried = ", ".join(str(p) for p in _candidates())
    raise FileNotFoundError(f"the app's resources are missing (looked in {tried})")


def icon_png(size: int) -> Path:
    """The application icon as a PNG of `size` x `size` pixels (one of ICON_SIZES)."""
    if size not in ICON_SIZES:
        raise ValueError(f"no {size}px icon; sizes are {ICON_SIZES}")
    return resource_dir() / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"


def icon_svg() -> Path:
    return resource_dir() / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg"


def icon_ico() -> Path:
    return resource_dir() / "icons" / f"{APP_ID}.ico"


def desktop_template() -> str:
    """The freedesktop entry as shipped (Exec is the bare command; install_entry makes it absolute)."""
    return (resource_dir() / DESKTOP_FILE).read_text(encoding="utf-8")


def sample_pictures(kind: str = "digits") -> list[Path]:
    """The sample pictures shipped for "Try sample pictures" (resources/samples/<kind>/*.png), by name.

    ``digits``: digits typed and drawn as people drop them on the demo digit models (made by
    tests/perf/make_digit_samples.py). An unknown kind has none."""
    folder = resource_dir() / "samples" / kind
    return sorted(folder.glob("*.png")) if kind and "/" not in kind and folder.is_dir() else []
