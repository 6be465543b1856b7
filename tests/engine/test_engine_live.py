"""The engine layer against the real Docker Engine: lists, events, errors and reconnection."""

from __future__ import annotations

import os
import queue
import shutil
import subprocess
import threading
import time

import pytest

from gui.engine import Engine, EngineError, EventFollower, resolve_engine
from tests.support.readable import readable_copy


def follow(engine: Engine):
    """Start following events on a thread; returns (queue of events, follower)."""
    q: queue.Queue = queue.Queue()
    follower = EventFollower(engine, backoff=(0.1, 0.5))
    threading.Thread(target=lambda: [q.put(ev) for ev in follower], daemon=True).start()
    return q, follower


def wait_for(q: queue.Queue, pred, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            ev = q.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            break
        if pred(ev):
            return ev
    raise AssertionError("the expected event did not come")


def test_lists_show_real_containers_and_images(engine, make_container, busybox_image, docker_api):
    running = make_container()
    stopped = make_container(start=False)
    by_id = {c.id: c for c in engine.list_containers()}
    assert by_id[running["Id"]].state == "running" and by_id[running["Id"]].name == running["name"]
    assert by_id[stopped["Id"]].state == "created"
    assert by_id[running["Id"]].image == busybox_image
    assert [c.id for c in engine.list_containers([stopped["Id"]])] == [stopped["Id"]]
    image = next(i for i in engine.list_images() if i.reference == busybox_image)
    assert image.id == docker_api.inspect_image(busybox_image)["Id"] and image.size > 100_000
    docker_api.stop(running["Id"], timeout=0)
    assert engine.list_containers([running["Id"]])[0].state == "exited"
    docker_api.remove_container(running["Id"], force=True)
    assert engine.list_containers([running["Id"]]) == []


def test_events_follow_a_container_life(engine, make_container, docker_api):
    q, follower = follow(engine)
    try:
        wait_for(q, lambda e: e.type == "connection" and e.action == "connected")
        c = make_container()
        t0 = time.monotonic()
        wait_for(q, lambda e: e.id == c["Id"] and e.action == "start")
        assert time.monotonic() - t0 < 1.0
        docker_api.stop(c["Id"], timeout=0)
        wait_for(q, lambda e: e.id == c["Id"] and e.action == "die")
        docker_api.remove_container(c["Id"])
        wait_for(q, lambda e: e.id == c["Id"] and e.action == "destroy")
    finally:
        follower.close()


def test_close_ends_the_follower_at_once(engine):
    follower = EventFollower(engine)
    it = iter(follower)
    assert next(it).action == "connected"
    done = threading.Event()

    def drain():
        for _ in it:
            pass
        done.set()

    threading.Thread(target=drain, daemon=True).start()
    time.sleep(0.2)
    t0 = time.monotonic()
    follower.close()
    assert done.wait(2.0), "the event stream did not end on close()"
    assert time.monotonic() - t0 < 1.0


@pytest.mark.engine
@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root and setpriv")
def test_user_without_socket_access_is_told_why():
    url = resolve_engine().url
    code = (
        "from gui.engine import Engine, EngineError, resolve_engine\n"
        f"try:\n    Engine(resolve_engine({url!r})).ping()\n"
        "except EngineError as e:\n    print(e.kind); print(e)\n"
    )
    # `nobody` may not read the checkout: it runs a readable copy of what the import needs.
    interpreter, copy = readable_copy("gui.engine", "gui.engine.client")  # gui.engine loads its parts lazily
    try:
        out = subprocess.run(
            ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", interpreter, "-s", "-c", code],
            capture_output=True,
            text=True,
            cwd=copy,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(copy), "HOME": str(copy)},
        )
    finally:
        shutil.rmtree(copy, ignore_errors=True)
    lines = out.stdout.splitlines()
    assert lines[:1] == ["permission"], out.stdout + out.stderr
    path = url.removeprefix("unix://")
    assert lines[1] == (
        f"permission denied on {path}: add your user to the docker group, or use rootless Docker or Podman"
    )


def test_engine_stopped_and_restarted(private_dockerd):
    private_dockerd.start()
    engine = Engine(resolve_engine(private_dockerd.url))
    assert engine.list_containers() == []
    q, follower = follow(engine)
    try:
        wait_for(q, lambda e: e.action == "connected")
        private_dockerd.stop()
        down = wait_for(q, lambda e: e.action == "disconnected")
        assert private_dockerd.url in down.message
        with pytest.raises(EngineError) as info:
            engine.list_images()
        assert info.value.kind == "unreachable"
        assert str(info.value) == f"Docker Engine is not reachable at {private_dockerd.url}: is it running?"
        private_dockerd.start()
        wait_for(q, lambda e: e.action == "connected", timeout=15)
        assert engine.list_images() == []
    finally:
        follower.close()
