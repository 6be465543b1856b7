"""Screenshots of the four pages, light and dark, from the real app under Xvfb: resources/screenshots/*.png.

    .venv/bin/python packaging/screenshots.py            # needs Xvfb and a Docker Engine

A few labelled containers (ai-container-studio.test=screenshots) are made from a local image so the
Containers page shows each state badge; they are removed afterwards. Each theme runs in its own app
process (AICS_THEME=light|dark) on a private X display with a fresh settings folder, at 1440x900 (80 % of a 1800x1125 screen).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "resources" / "screenshots"
LABEL = "ai-container-studio.test"
VALUE = "screenshots"
SIZE = (1440, 900)
PAGES = ("containers", "images", "build", "predict")


# -- parent: containers and an X server ----------------------------------------------------
def _image(client) -> str:
    for ref in ("aics-test/busybox:latest", "busybox:latest", "python:3.11-slim"):
        try:
            client.images.get(ref)
            return ref
        except Exception:  # noqa: BLE001 - not present: try the next one
            continue
    raise SystemExit("no local image to make the sample containers from (aics-test/busybox or python:3.11-slim)")


def _remove_samples(client) -> None:
    for c in client.containers.list(all=True, filters={"label": f"{LABEL}={VALUE}"}):
        c.remove(force=True)


def make_samples(client) -> None:
    """Containers in each state a badge shows: running (with a port), paused, unhealthy, exited, created."""
    _remove_samples(client)
    image = _image(client)
    labels = {LABEL: VALUE}
    sleep = ["sleep", "3600"]
    client.containers.run(image, sleep, name="llm-chat-server", labels=labels, detach=True,
                          ports={"8080/tcp": ("127.0.0.1", None)})
    client.containers.run(image, sleep, name="vision-api", labels=labels, detach=True,
                          ports={"9000/tcp": ("127.0.0.1", None)})
    client.containers.run(image, sleep, name="embeddings-worker", labels=labels, detach=True,
                          healthcheck={"test": ["CMD", "false"], "interval": 500_000_000, "retries": 1})
    client.containers.run(image, sleep, name="jupyter-notebook", labels=labels, detach=True).pause()
    client.containers.run(image, ["true"], name="train-resnet50", labels=labels, detach=True).wait()
    client.containers.create(image, sleep, name="gpu-smoke-test", labels=labels)
    time.sleep(2.5)  # the health check fails at least once


def _free_display() -> int:
    for n in range(120, 400):
        if not Path(f"/tmp/.X{n}-lock").exists() and not Path(f"/tmp/.X11-unix/X{n}").exists():
            return n
    raise SystemExit("no free X display")


def main() -> int:
    import docker

    if not shutil.which("Xvfb"):
        raise SystemExit("Xvfb is not installed (apt-get install xvfb)")
    client = docker.from_env()
    OUT.mkdir(parents=True, exist_ok=True)
    make_samples(client)
    number = _free_display()
    xvfb = subprocess.Popen(["Xvfb", f":{number}", "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not Path(f"/tmp/.X11-unix/X{number}").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        for theme in ("light", "dark"):
            with tempfile.TemporaryDirectory() as config:
                env = {k: v for k, v in os.environ.items() if k not in ("WAYLAND_DISPLAY",)}
                env.update(DISPLAY=f":{number}", QT_QPA_PLATFORM="xcb", AICS_THEME=theme,
                           XDG_CONFIG_HOME=config, QT_API="pyside6")
                subprocess.run([sys.executable, __file__, "--child", theme], env=env, cwd=ROOT, check=True,
                               timeout=180)
    finally:
        xvfb.kill()
        xvfb.wait(timeout=10)
        _remove_samples(client)
    for png in sorted(OUT.glob("*.png")):
        print(f"{png.relative_to(ROOT)}  {png.stat().st_size // 1024} kB")
    return 0


# -- child: the app, one theme -------------------------------------------------------------
def _wait(app, seconds: float, until=None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        app.processEvents()
        if until is not None and until():
            return
        time.sleep(0.02)


def _save(window, path: Path) -> None:
    from PIL import Image

    raw = path.with_suffix(".raw.png")
    window.grab().save(str(raw))
    with Image.open(raw) as im:  # 256 colours: a third of the size, no visible loss on flat UI colours
        im.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE) \
            .save(path, optimize=True)
    raw.unlink()


def child(theme: str) -> int:
    sys.path.insert(0, str(ROOT))
    from gui.app import create_window, ensure_app
    from gui.qt.common.table_models import RecordRole

    app = ensure_app()
    window = create_window()  # its menus (File, Help) are its own
    model = window.containers_model
    upsert = model.upsert

    def only_samples(records):  # the engine may hold other containers (tests running); show ours
        upsert([r for r in records if r.label_map.get(LABEL) == VALUE])

    model.upsert = only_samples
    window.resize(*SIZE)
    window.show()
    _wait(app, 20, lambda: window.session.has_loaded and model.rowCount() >= 5)
    _wait(app, 1)

    page = window.containers_page
    view = window.containers_view
    for row in range(view.model().rowCount()):
        rec = view.model().index(row, 0).data(RecordRole)
        if rec is not None and getattr(rec, "name", "") == "llm-chat-server":
            view.selectRow(row)
            break
    _wait(app, 6, lambda: page.stats_panel.view is not None and len(page.stats_panel.view.samples) >= 4)
    _wait(app, 1)
    _save(window, OUT / f"containers-{theme}.png")

    window.pages.setCurrentWidget(window.images_page)
    window.images_view.selectRow(0)
    _wait(app, 1)
    _save(window, OUT / f"images-{theme}.png")

    window.pages.setCurrentWidget(window.build_page)
    _wait(app, 3)
    _save(window, OUT / f"build-{theme}.png")

    window.pages.setCurrentWidget(window.predict_page)
    _wait(app, 3)
    _save(window, OUT / f"predict-{theme}.png")
    window.close()
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        sys.exit(child(sys.argv[2]))
    sys.exit(main())
