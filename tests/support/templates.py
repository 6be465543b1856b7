"""Build a template on the real engine, run it, wait for it (engine, ui and perf tests).

Each template's package layer is kept as the cache image ``aics-cache/<template>:latest`` so a later run
builds in seconds. ``AICS_TEST_CACHE_REPO`` (a pattern with ``{template}``) points that at other tags, to
try the cold path (``ensure_template_cache``) without touching the real cache images.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path

from gui.builder import Template, assemble_context
from gui.engine import Engine, resolve_engine
from gui.engine.build import ImageBuild

CACHE_REPO = os.environ.get("AICS_TEST_CACHE_REPO", "aics-cache/{template}")
COLD_BUILD_S = 900  # a pytest-timeout that fits a build from nothing (base image pulled, packages installed)
PYTHON_APP_PACKAGES = "six==1.17.0"  # the python-app package layer the Build page tests expect from the cache
CREATED = "2000-01-01T00:00:00Z"


def engine() -> Engine:
    return Engine(resolve_engine())


def build_template(
    template: Template,
    values: dict,
    context_dir: Path,
    tag: str,
    labels: dict,
    dockerfile_text: str | None = None,
) -> tuple[ImageBuild, list]:
    """Assemble and build; returns the finished build and its lines. Keeps the dependency cache image."""
    ctx = assemble_context(template, values, context_dir, dockerfile_text)
    build = ImageBuild(engine(), ctx.directory, tag, labels=labels, buildargs={"AICS_CREATED": CREATED})
    lines = list(build)
    assert lines[-1].done and build.image_id, "\n".join(line.text for line in lines[-30:])
    keep_dependency_cache(template.name, build)
    return build, lines


def rebuild(context_dir: Path, tag: str, labels: dict) -> tuple[ImageBuild, list, float]:
    t0 = time.monotonic()
    build = ImageBuild(engine(), context_dir, tag, labels=labels, buildargs={"AICS_CREATED": CREATED})
    lines = list(build)
    return build, lines, time.monotonic() - t0


def dependency_step(build: ImageBuild):
    """The step that installs the packages (the last `pip install` RUN; onnx-image: `pip --python V install`)."""
    steps = [s for s in build.steps if s.instruction.startswith("RUN")
             and ("pip install" in s.instruction or "pip --python" in s.instruction)]
    assert steps, [s.instruction for s in build.steps]
    return steps[-1]


def keep_dependency_cache(template_name: str, build: ImageBuild) -> None:
    """Tag the package layer as aics-cache/<template>:latest (newest only), so a later run builds fast.

    The classic builder's cache is the layers of images that exist; this tag keeps those layers when
    the test's own images are removed."""
    api = engine().api()
    layer = dependency_step(build).layer_id
    repo = CACHE_REPO.format(template=template_name)
    try:
        old = api.inspect_image(f"{repo}:latest")["Id"]
    except Exception:
        old = None
    api.tag(layer, repo, "latest", force=True)
    new = api.inspect_image(f"{repo}:latest")["Id"]
    if old and old != new:
        with contextlib.suppress(Exception):  # still the parent of another image: then it stays
            api.remove_image(old)


def cache_image(template_name: str) -> str:
    return CACHE_REPO.format(template=template_name) + ":latest"


def ensure_template_cache(template_name: str, values: dict, context_dir: Path, labels: dict) -> str:
    """Build ``template_name`` with ``values`` once when its cache image is missing (a fresh machine), so
    a test that expects " ---> Using cache" for that package layer gets it. Returns the cache image.

    The build's own image is removed again; the package layer stays, tagged as the cache image."""
    api = engine().api()
    ref = cache_image(template_name)
    try:
        api.inspect_image(ref)
        return ref
    except Exception:  # noqa: BLE001 - missing (docker.errors.ImageNotFound): build it
        pass
    from gui.builder import get_template

    t = get_template(template_name)
    tag = f"aicstest-cachefill-{template_name}:{labels.get('ai-container-studio.test', 'x')}"
    build, _ = build_template(t, {**t.defaults(), **values, "tag": tag}, context_dir, tag, labels)
    with contextlib.suppress(Exception):  # the package layer below it stays: it is tagged
        api.remove_image(build.image_id)
    api.inspect_image(ref)
    return ref


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_container(
    docker_api,
    image: str,
    labels: dict,
    name: str,
    ports: dict[int, int] | None = None,
    environment: dict | None = None,
    command=None,
) -> tuple[str, dict[int, int]]:
    """Create and start a labelled container publishing `ports` (container -> host, 0 = free) on 127.0.0.1."""
    published = {cp: (hp or free_port()) for cp, hp in (ports or {}).items()}
    host_config = docker_api.create_host_config(
        port_bindings={cp: ("127.0.0.1", hp) for cp, hp in published.items()}
    )
    c = docker_api.create_container(
        image,
        name=name,
        labels=labels,
        environment=environment or {},
        command=command,
        ports=list(published),
        host_config=host_config,
    )
    docker_api.start(c["Id"])
    return c["Id"], published


def http(
    method: str, url: str, body: bytes | None = None, headers: dict | None = None, timeout: float = 10
) -> tuple[int, dict | str]:
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, data = resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        status, data = exc.code, exc.read()
    try:
        return status, json.loads(data)
    except ValueError:
        return status, data.decode(errors="replace")


def wait_for(url: str, docker_api, container_id: str, timeout: float = 60, status: int = 200):
    """Poll `url` until it answers `status`; fail early with the log if the container stops."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            got, body = http("GET", url, timeout=2)
            if got == status:
                return body
            last = (got, body)
        except OSError as exc:
            last = exc
        state = docker_api.inspect_container(container_id)["State"]
        if not state["Running"]:
            raise AssertionError(f"container stopped: {docker_api.logs(container_id).decode()[-2000:]}")
        time.sleep(0.1)
    raise AssertionError(
        f"{url} did not answer {status} in {timeout}s (last: {last}); "
        f"log: {docker_api.logs(container_id).decode()[-2000:]}"
    )
