"""Streaming builds (cancel, failure) and the python-app and jupyter templates on the real engine."""

from __future__ import annotations

import json
import threading
import time

import pytest

from gui.builder import get_template, run_settings
from gui.engine.build import BuildError, ImageBuild
from tests.support.labels import RUN_ID, TEST_LABEL
from tests.support.templates import COLD_BUILD_S, build_template, engine, http, run_container, wait_for

pytestmark = pytest.mark.timeout(COLD_BUILD_S)  # python-app and jupyter may be built from nothing


def _context(tmp_path, dockerfile: str):
    (tmp_path / "Dockerfile").write_text(dockerfile)
    return tmp_path


def _tag_exists(api, tag) -> bool:
    try:
        api.inspect_image(tag)
        return True
    except Exception:
        return False


def test_cancel_stops_the_build_container_and_makes_no_tag(
    docker_api, busybox_image, test_labels, tmp_path, unique_name
):
    tag = f"{unique_name('cancel')}:latest"
    ctx = _context(tmp_path, f"FROM {busybox_image}\nRUN echo started && sleep 300\nRUN echo never\n")
    build = ImageBuild(engine(), ctx, tag, labels=test_labels, nocache=True)
    lines = []
    running = threading.Event()

    def consume():
        for line in build:
            lines.append(line)
            if line.container_id:
                running.set()

    worker = threading.Thread(target=consume)
    worker.start()
    assert running.wait(60), [line.text for line in lines]
    container = next(line.container_id for line in lines if line.container_id)
    # "Running in <id>" comes as the engine creates the step's container; it starts a moment later.
    deadline = time.monotonic() + 10
    while not docker_api.inspect_container(container)["State"]["Running"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert docker_api.inspect_container(container)["State"]["Running"]
    t0 = time.monotonic()
    build.cancel()
    worker.join(20)
    assert not worker.is_alive()
    assert time.monotonic() - t0 < 15
    assert lines[-1].cancelled and build.cancelled and not build.image_id
    assert lines[-1].step == 2 and lines[-1].total == 4  # the labels add a LABEL step
    try:
        state = docker_api.inspect_container(container)["State"]
        assert not state["Running"]
    except Exception as exc:  # removed: even better
        assert "404" in str(exc) or "No such container" in str(exc)
    running_children = [c for c in docker_api.containers() if c["Id"].startswith(container)]
    assert running_children == []
    assert not _tag_exists(docker_api, tag)


def test_cancel_before_start_builds_nothing(tmp_path, busybox_image, unique_name, docker_api):
    tag = f"{unique_name('cancel0')}:latest"
    build = ImageBuild(engine(), _context(tmp_path, f"FROM {busybox_image}\n"), tag)
    build.cancel()
    lines = list(build)
    assert [line.cancelled for line in lines] == [True]
    assert not _tag_exists(docker_api, tag)


def test_failing_step_is_reported(tmp_path, busybox_image, test_labels, unique_name, docker_api):
    tag = f"{unique_name('fail')}:latest"
    build = ImageBuild(
        engine(),
        # The run's label before the steps: the layer "RUN echo fine" leaves (an untagged image once the
        # build fails) carries it, so the session's clean-up removes it.
        _context(tmp_path, f"FROM {busybox_image}\nLABEL {TEST_LABEL}={RUN_ID}\nRUN echo fine\nRUN exit 3\n"),
        tag,
        labels=test_labels,
    )
    lines = []
    with pytest.raises(BuildError) as info:
        for line in build:
            lines.append(line)
    assert info.value.step == 4 and info.value.instruction == "RUN exit 3"
    assert "returned a non-zero code: 3" in str(info.value)
    assert lines[-1].error and lines[-1].step == 4
    steps = [line.text for line in lines if line.text.startswith("Step ")]
    assert steps == [f"Step 1/5 : FROM {busybox_image}", f"Step 2/5 : LABEL {TEST_LABEL}={RUN_ID}",
                     "Step 3/5 : RUN echo fine", "Step 4/5 : RUN exit 3"]
    assert not _tag_exists(docker_api, tag)
    left = docker_api.images(filters={"dangling": True, "label": f"{TEST_LABEL}={RUN_ID}"})
    assert left, "the failed build's last good layer is an untagged image with the run's label"


def test_python_app_runs_the_users_script(docker_api, test_labels, tmp_path, unique_name):
    script = tmp_path / "my_script.py"
    script.write_text(
        "import os, sys, six\nprint('six', six.__version__, sys.argv[1:], 'uid', os.getuid())\n"
    )
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("# pinned\nsix==1.17.0\n")
    t = get_template("python-app")
    values = {
        **t.defaults(),
        "script": str(script),
        "requirements_file": str(reqs),
        "args": "alpha beta",
        "port": 0,
    }
    tag = f"aicstest-pyapp:{test_labels['ai-container-studio.test']}"
    build, _ = build_template(t, values, tmp_path / "ctx", tag, test_labels)
    try:
        c = docker_api.create_container(tag, labels=test_labels, name=unique_name("pyapp"))
        docker_api.start(c["Id"])
        assert docker_api.wait(c["Id"], timeout=60)["StatusCode"] == 0
        assert docker_api.logs(c["Id"]).decode().strip() == "six 1.17.0 ['alpha', 'beta'] uid 10001"
    finally:
        docker_api.remove_image(build.image_id, force=True)


def test_jupyter_token_is_given_at_run_time_only(docker_api, test_labels, tmp_path, unique_name):
    t = get_template("jupyter")
    token = "tok-" + unique_name("secret")
    tag = f"aicstest-jupyter:{test_labels['ai-container-studio.test']}"
    build, lines = build_template(t, t.defaults(), tmp_path / "ctx", tag, test_labels)
    cid = None
    try:
        settings = run_settings(t, t.defaults(), {"host_port": 0, "token": token})
        cid, ports = run_container(
            docker_api,
            tag,
            test_labels,
            unique_name("jup"),
            ports=settings.ports,
            environment=settings.environment,
        )
        base = f"http://127.0.0.1:{ports[8888]}"
        wait_for(f"{base}/api", docker_api, cid, timeout=90)
        status, body = http("GET", f"{base}/api/status?token={token}")
        assert status == 200 and "started" in body
        assert http("GET", f"{base}/api/status")[0] == 403
        assert http("GET", f"{base}/api/status?token=wrong")[0] == 403
        image = docker_api.inspect_image(tag)
        history = docker_api.history(tag)
        assert token not in json.dumps(image) and token not in json.dumps(history)
        assert all(token not in line.text for line in lines)
        assert image["Config"]["User"] == "aics"
        assert not any("JUPYTER_TOKEN" in e for e in image["Config"]["Env"] or [])
    finally:
        if cid:
            docker_api.remove_container(cid, force=True)
        docker_api.remove_image(build.image_id, force=True)
