"""Build history records and their file: each build's time, result, image id and the end of its log.

The newest builds are kept in a small JSON file in the user's state folder so the history survives a
restart (the Build page keeps every line of this session's logs in memory).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from gui.paths import state_dir

log = logging.getLogger(__name__)
HISTORY_FILE = "build-history.json"
KEEP_BUILDS = 30
KEEP_LINES = 500  # per build in the file (the in-memory record keeps every line)


@dataclass
class BuildRecord:
    started: float  # seconds since the epoch
    template: str
    tag: str
    result: str = "running"  # running | succeeded | failed | cancelled
    duration: float = 0.0
    image_id: str = ""
    error: str = ""
    failed_step: int = 0
    log: list[str] = field(default_factory=list)
    lines_dropped: int = 0  # lines of the log not kept (in the file: its beginning)
    trusted: str = ""  # the model's risk the user accepted ("I trust this file"); "" when none was needed
    trusted_types: list[str] = field(default_factory=list)  # of a .skops model: added to the image's allow-list

    def to_json(self) -> dict:
        """The record for the file: the end of the log only (asdict would copy every line)."""
        data = {f: getattr(self, f) for f in self.__dataclass_fields__ if f != "log"}
        data["log"] = self.log[-KEEP_LINES:]
        data["lines_dropped"] = self.lines_dropped + max(0, len(self.log) - KEEP_LINES)
        return data

    @classmethod
    def from_json(cls, data: dict) -> BuildRecord:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


class HistoryStore:
    """Reads and writes the history file (replaced atomically; callers write it off the UI thread)."""

    def __init__(self, path: Path | None = None):
        self.path = Path(path) if path else state_dir() / HISTORY_FILE
        self._lock = threading.Lock()

    def load(self) -> list[BuildRecord]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            return [BuildRecord.from_json(r) for r in raw.get("builds", [])][:KEEP_BUILDS]
        except FileNotFoundError:
            return []
        except (OSError, ValueError, TypeError) as exc:
            log.warning("build history %s unreadable: %s", self.path, exc)
            return []

    @staticmethod
    def snapshot(records: list[BuildRecord]) -> dict:
        """What ``write`` stores: the finished builds, newest first (take it on the thread that owns them)."""
        return {"format": 1, "builds": [r.to_json() for r in records[:KEEP_BUILDS] if r.result != "running"]}

    def write(self, data: dict) -> None:
        """Replace the file atomically with ``data`` (blocking: run it off the UI thread)."""
        with self._lock:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                tmp = self.path.with_suffix(".tmp")
                tmp.write_text(json.dumps(data), encoding="utf-8")
                os.replace(tmp, self.path)
            except OSError as exc:
                log.warning("cannot write the build history %s: %s", self.path, exc)
