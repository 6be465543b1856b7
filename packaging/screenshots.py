"""Screenshots of the pages, light and dark, from the real app under Xvfb: resources/screenshots/*.png.

    .venv/bin/python packaging/screenshots.py            # needs Xvfb and a Docker Engine

A few labelled containers (ai-container-studio.test=screenshots) are made from a local image so the
Containers page shows each state badge, a digits classifier is built from the sklearn-image template
(its package layer comes from the build cache; the training step takes a minute or two) and run so the
Predict page answers the sample pictures, with labelled volumes (some data in them, mounted by the
containers) and a labelled network the containers are attached to; all are removed afterwards. The
Cluster page shows the engine's swarm as it is: this script never initializes or leaves a swarm. Each
theme runs in its own app process (AICS_THEME=light|dark) on a private X display with a fresh settings
folder, at 1440x900 (80 % of a 1800x1125 screen).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "resources" / "screenshots"
LABEL = "ai-container-studio.test"
VALUE = "screenshots"
SIZE = (1440, 900)
PAGES = ("containers", "images", "build", "predict", "volumes", "networks", "disk", "cluster")
# Sample volumes: name -> (MB of data written into it, the sample container that mounts it, where).
VOLUMES = {"model-weights": (24, "llm-chat-server", "/models"), "datasets": (60, "train-resnet50", "/data"),
           "jupyter-home": (3, "jupyter-notebook", "/home/jovyan")}
NETWORK = "inference-net"  # the serving containers are attached to it
NETWORK_MEMBERS = ("llm-chat-server", "vision-api", "embeddings-worker")
DEFAULT_NETWORKS = ("bridge", "host", "none")
SERVER = "digits-classifier"  # runs the image built from the sklearn-image template: the Predict page asks it
SERVER_TAG = "aics-screenshots/digits-classifier:latest"
SAMPLE_CONTAINERS = (SERVER, "llm-chat-server", "vision-api", "embeddings-worker", "jupyter-notebook", "train-resnet50",
                     "gpu-smoke-test")
TEST_IMAGE_PREFIXES = ("aicstest-", "aics-bench", "aicsbench-")  # what the test suites and benchmarks build


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
    """Every container, network and volume this script made (by its label); nothing else."""
    mine = {"label": f"{LABEL}={VALUE}"}
    for c in client.containers.list(all=True, filters=mine):
        c.remove(force=True, v=False)
    for n in client.networks.list(filters=mine):
        n.remove()
    for v in client.volumes.list(filters=mine):
        v.remove()
    for image in client.images.list(filters=mine):  # the digits classifier (its cached layers stay)
        client.images.remove(image.id, force=True)


def build_server(client) -> None:
    """The sklearn-image template with its defaults, built with the app's own builder, labelled as ours."""
    sys.path.insert(0, str(ROOT))
    from gui.builder import assemble_context, get_template
    from gui.engine import Engine, resolve_engine
    from gui.engine.build import ImageBuild

    template = get_template("sklearn-image")
    with tempfile.TemporaryDirectory() as folder:
        context = assemble_context(template, template.defaults(), Path(folder) / "context")
        build = ImageBuild(Engine(resolve_engine()), context.directory, SERVER_TAG, labels={LABEL: VALUE})
        lines = list(build)
    if not (lines and lines[-1].done and build.image_id):
        tail = "\n".join(line.text for line in lines[-15:])
        raise SystemExit(f"the digits classifier did not build:\n{tail}")


def run_server(client) -> None:
    """Run it on a free 127.0.0.1 port and wait until its health check passes (it has loaded its model)."""
    server = client.containers.run(SERVER_TAG, name=SERVER, labels={LABEL: VALUE}, detach=True,
                                   ports={"8080/tcp": ("127.0.0.1", None)})
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        server.reload()
        health = server.attrs["State"].get("Health", {}).get("Status")
        if health == "healthy":
            return
        if server.status not in ("created", "running"):
            raise SystemExit(f"{SERVER} stopped: {server.logs(tail=20).decode(errors='replace')}")
        time.sleep(1)
    raise SystemExit(f"{SERVER} was not healthy within 120 s")


def _refuse_foreign(client) -> None:
    """A volume or network of the samples' names that this script did not make is someone's: stop."""
    import docker.errors

    for name, get in [*((v, client.volumes.get) for v in VOLUMES), (NETWORK, client.networks.get)]:
        try:
            thing = get(name)
        except docker.errors.NotFound:
            continue
        if (thing.attrs.get("Labels") or {}).get(LABEL) != VALUE:
            raise SystemExit(f"the engine already has a {name!r} that this script did not make: "
                             "remove or rename it, or run the script on another engine")


def make_samples(client) -> None:
    """Containers in each state a badge shows: running (with a port), paused, unhealthy, exited, created."""
    _remove_samples(client)
    _refuse_foreign(client)
    image = _image(client)
    labels = {LABEL: VALUE}
    sleep = ["sleep", "3600"]
    for name, (megabytes, _user, _target) in VOLUMES.items():
        client.volumes.create(name, labels=labels)
        # Some data in it, so the Volumes page shows a size (written by a container that goes at once).
        client.containers.run(image, ["sh", "-c", f"head -c {megabytes * 1_000_000} /dev/urandom > /v/sample.bin"],
                              volumes={name: {"bind": "/v", "mode": "rw"}}, labels=labels, remove=True)
    network = client.networks.create(NETWORK, driver="bridge", labels=labels)
    mounts = {user: {name: {"bind": target, "mode": "rw"}} for name, (_mb, user, target) in VOLUMES.items()}

    def run(name, command, **kw):
        return client.containers.run(image, command, name=name, labels=labels, detach=True,
                                     volumes=mounts.get(name), **kw)

    run("llm-chat-server", sleep, ports={"8080/tcp": ("127.0.0.1", None)})
    run("vision-api", sleep, ports={"9000/tcp": ("127.0.0.1", None)})
    run("embeddings-worker", sleep,
        healthcheck={"test": ["CMD", "false"], "interval": 500_000_000, "retries": 1})
    for name in NETWORK_MEMBERS:
        network.connect(name)
    run("jupyter-notebook", sleep).pause()
    run("train-resnet50", ["true"]).wait()
    client.containers.create(image, sleep, name="gpu-smoke-test", labels=labels)
    build_server(client)
    run_server(client)
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
    try:
        make_samples(client)
    except BaseException:
        _remove_samples(client)  # half made: leave nothing behind
        raise
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
    from PySide6.QtWidgets import QApplication

    raw = path.with_suffix(".raw.png")
    window.statusBar().clearMessage()  # a message of the page before ("Sizes of 3 volume(s) read") is not this page's
    QApplication.processEvents()
    window.grab().save(str(raw))
    with Image.open(raw) as im:  # 256 colours: a third of the size, no visible loss on flat UI colours
        im.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE) \
            .save(path, optimize=True)
    raw.unlink()


def _keep_only(model, wanted) -> None:
    """From now on ``model`` takes only the records ``wanted`` accepts; the others it holds go now."""
    upsert = getattr(model, "_all_upsert", model.upsert)
    model._all_upsert = upsert
    model.upsert = lambda records: upsert([r for r in records if wanted(r)])
    model.remove_keys([r.key for r in model.records() if not wanted(r)])


def child(theme: str) -> int:
    sys.path.insert(0, str(ROOT))
    from gui.app import create_window, ensure_app
    from gui.qt.common.table_models import RecordRole

    app = ensure_app()
    window = create_window()  # its menus (File, Help) are its own
    model = window.containers_model
    # The engine may hold other containers and images (tests and benchmarks running): show the samples
    # and the images a user would have, also when the first list arrived before these filters were set.
    def sample(c) -> bool:
        return c.label_map.get(LABEL) == VALUE

    def usual(i) -> bool:
        return (not i.reference.startswith(("<none>", *TEST_IMAGE_PREFIXES))
                and dict(i.labels).get(LABEL, VALUE) == VALUE)  # no other run's test image; ours is shown

    _keep_only(model, sample)
    _keep_only(window.images_model, usual)
    window.resize(*SIZE)
    window.show()
    _wait(app, 20, lambda: window.session.has_loaded and model.rowCount() >= 5)
    _wait(app, 1)
    _keep_only(model, sample)
    _keep_only(window.images_model, usual)

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

    predict = window.predict_page
    window.pages.setCurrentWidget(predict)
    server = next(r for r in model.records() if r.name == SERVER)
    key = f"container:{server.id}"
    _wait(app, 20, lambda: predict.picker.combo.findData(key) >= 0)
    predict.picker.select(key)
    _wait(app, 20, lambda: predict.spec is not None and predict.meta is not None)
    predict.try_samples()
    _wait(app, 60, lambda: bool(predict.cards) and predict.counts()["waiting"] == 0)
    _wait(app, 1)
    _save(window, OUT / f"predict-{theme}.png")

    # The engine may hold other volumes and networks (tests running): show ours, and the engine's own networks.
    def mine(info) -> bool:
        return dict(info.labels).get(LABEL) == VALUE

    volumes = window.volumes_page
    set_volumes = volumes.model.set_volumes
    volumes.model.set_volumes = lambda vols, users: set_volumes([v for v in vols if mine(v)], users)
    volumes.refresh()
    window.pages.setCurrentWidget(volumes)
    _wait(app, 20, lambda: volumes.model.rowCount() >= len(VOLUMES) and volumes.model.sizes)
    volumes.view.selectRow(0)
    _wait(app, 1)
    _save(window, OUT / f"volumes-{theme}.png")

    networks = window.networks_page
    replace_networks = networks.model.replace_all
    networks.model.replace_all = lambda nets: replace_networks(
        [replace(n, containers=tuple(c for c in n.containers if c in SAMPLE_CONTAINERS))
         for n in nets if mine(n) or n.name in DEFAULT_NETWORKS])
    networks.refresh()
    window.pages.setCurrentWidget(networks)
    _wait(app, 10, lambda: any(r.name == NETWORK for r in networks.model.records()))
    proxy = networks.view.model()
    for row in range(proxy.rowCount()):
        if proxy.index(row, 0).data() == NETWORK:
            networks.view.selectRow(row)
    _wait(app, 1)
    _save(window, OUT / f"networks-{theme}.png")

    disk = window.disk_page
    show_usage = disk._show

    def sample_usage(usage) -> None:  # without what other tests and benchmarks left on the engine
        show_usage(replace(usage, items=tuple(
            i for i in usage.items
            if (i.category != "images" or not i.name.startswith(("<none>", *TEST_IMAGE_PREFIXES)))
            and (i.category != "containers" or i.name in SAMPLE_CONTAINERS)
            and (i.category != "volumes" or i.name in VOLUMES))))

    disk._show = sample_usage
    window.pages.setCurrentWidget(disk)
    _wait(app, 60, lambda: disk.usage is not None)
    _wait(app, 1)
    _save(window, OUT / f"disk-{theme}.png")

    cluster = window.cluster_page
    window.pages.setCurrentWidget(cluster)  # read only: the swarm is shown as it is, never joined or left
    _wait(app, 15, lambda: cluster.state is not None)
    _wait(app, 1)
    _save(window, OUT / f"cluster-{theme}.png")
    window.close()
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        sys.exit(child(sys.argv[2]))
    sys.exit(main())
