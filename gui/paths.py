"""Where the app keeps its files on each platform (no Qt needed)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from gui import APP_ID


def state_dir() -> Path:
    """The user's state folder for logs: $XDG_STATE_HOME/ai-container-studio on Linux."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Logs"
    else:
        base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return base / APP_ID


def crash_log_path() -> Path:
    return state_dir() / "crash.log"
