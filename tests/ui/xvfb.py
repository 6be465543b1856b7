"""A private Xvfb X server for tests that need the real X11 platform (xcb), and X window helpers."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest


def _free_display() -> int:
    for n in range(90, 400):
        if not Path(f"/tmp/.X{n}-lock").exists() and not Path(f"/tmp/.X11-unix/X{n}").exists():
            return n
    raise RuntimeError("no free X display number between :90 and :399")


class Xvfb:
    """`with Xvfb() as x:` runs `Xvfb :N -screen 0 1280x800x24` on a free display and kills it after."""

    def __init__(self):
        self.number = None
        self.proc = None

    @property
    def display(self) -> str:
        return f":{self.number}"

    def __enter__(self) -> Xvfb:
        if not shutil.which("Xvfb"):
            pytest.fail("Xvfb is not installed (apt-get install xvfb; .ci/setup-system does it)")
        for _attempt in range(5):
            self.number = _free_display()
            self.proc = subprocess.Popen(["Xvfb", self.display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and self.proc.poll() is None:
                if Path(f"/tmp/.X11-unix/X{self.number}").exists() and self._answers():
                    return self
                time.sleep(0.05)
            self._stop()  # lost a race for the display number, or it did not come up: try another
        raise RuntimeError("Xvfb did not start")

    def _answers(self) -> bool:
        r = subprocess.run(["xdotool", "getdisplaygeometry"], env=self.env(), capture_output=True, timeout=5)
        return r.returncode == 0

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
        env.update(DISPLAY=self.display, QT_QPA_PLATFORM="xcb", **extra)
        return env

    def _stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def __exit__(self, *exc) -> None:
        self._stop()


def find_windows(env: dict[str, str], wm_class: str, timeout: float = 20.0) -> list[str]:
    """Ids of the mapped windows of class `wm_class` (waits up to `timeout` for one)."""
    deadline = time.monotonic() + timeout
    while True:
        r = subprocess.run(["xdotool", "search", "--onlyvisible", "--class", wm_class],
                           env=env, capture_output=True, text=True, timeout=10)
        ids = r.stdout.split()
        if ids or time.monotonic() > deadline:
            return ids
        time.sleep(0.1)


def wm_class(env: dict[str, str], window: str) -> str:
    r = subprocess.run(["xprop", "-id", window, "WM_CLASS"], env=env, capture_output=True, text=True, timeout=10)
    return r.stdout.strip()


def stacking_order(env: dict[str, str]) -> list[int]:
    """Top-level windows of the root, bottom first (as the X server stacks them)."""
    r = subprocess.run(["xwininfo", "-root", "-children"], env=env, capture_output=True, text=True, timeout=10)
    ids = []
    for line in r.stdout.splitlines():
        line = line.strip()
        if line.startswith("0x"):
            ids.append(int(line.split()[0], 16))
    return list(reversed(ids))  # xwininfo lists the top of the stack first
