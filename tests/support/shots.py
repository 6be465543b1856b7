"""Pictures of widgets as a user sees them, saved for a person to look at (``$AICS_SHOTS``)."""

from __future__ import annotations

import os
from pathlib import Path

SHOTS = Path(os.environ.get("AICS_SHOTS", "/tmp/aics-shots"))


def shoot(widget, name: str) -> Path:
    """Save a picture of ``widget``'s window as ``$AICS_SHOTS/<name>.png``; returns the path."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    widget.window().grab().save(str(path))
    return path
