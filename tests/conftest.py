"""Shared test set-up: Qt offscreen, the real engine (or a loud skip), labelled and cleaned-up resources."""

from __future__ import annotations

import io
import os
import shutil
import tarfile
import uuid

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")

import pytest  # noqa: E402

from gui.engine import Engine, EngineError, resolve_engine  # noqa: E402

TEST_LABEL = "ai-container-studio.test"
RUN_ID = uuid.uuid4().hex[:8]
REQUIRE_ENGINE = os.environ.get("REQUIRE_ENGINE") == "1"
BUSYBOX_TAG = "aics-test/busybox:latest"

_engine_state: dict = {}


def engine_problem() -> str | None:
    """None when a real engine answers, else why not (checked once per session)."""
    if "problem" not in _engine_state:
        try:
            Engine(resolve_engine()).ping()
            _engine_state["problem"] = None
        except EngineError as exc:
            _engine_state["problem"] = str(exc)
    return _engine_state["problem"]


def pytest_report_header(config):
    problem = engine_problem()
    if problem is None:
        return f"engine: {resolve_engine().url} (real Docker Engine)"
    verdict = "FAIL (REQUIRE_ENGINE=1)" if REQUIRE_ENGINE else "SKIP"
    return f"!!!!! NO DOCKER ENGINE: engine and ui tests will {verdict}: {problem} !!!!!"


_exit_status: dict[str, int] = {}


def pytest_sessionfinish(session, exitstatus):
    _exit_status["code"] = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    """Leave without interpreter teardown: once every report is written, PySide6 can crash while
    Python finalizes Qt objects that daemon threads still reference, and turn a green run red."""
    if "code" in _exit_status:
        import sys

        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_exit_status["code"])


def pytest_collection_modifyitems(config, items):
    for item in items:
        parts = set(item.path.parts)
        if "engine" in parts or "ui" in parts:
            item.add_marker(pytest.mark.engine)


def pytest_runtest_setup(item):
    if item.get_closest_marker("engine") is None:
        return
    problem = engine_problem()
    if problem is None:
        return
    if REQUIRE_ENGINE:
        pytest.fail(f"REQUIRE_ENGINE=1 but no Docker Engine answers: {problem}", pytrace=False)
    pytest.skip(f"NO DOCKER ENGINE: {problem}")


@pytest.fixture(scope="session")
def run_id() -> str:
    return RUN_ID


@pytest.fixture(scope="session")
def test_labels() -> dict[str, str]:
    """Labels every container and image a test creates must carry (so cleanup finds them)."""
    return {TEST_LABEL: RUN_ID}


@pytest.fixture
def unique_name(request):
    """`unique_name("web")` -> "aicstest-<run>-web-<n>": names no other run or test uses."""
    counter = iter(range(10_000))

    def make(stem: str = "c") -> str:
        return f"aicstest-{RUN_ID}-{stem}-{uuid.uuid4().hex[:6]}{next(counter)}"

    return make


@pytest.fixture(scope="session")
def docker_api():
    """A plain docker-py client for test set-up (the app under test uses gui.engine)."""
    import docker

    api = docker.APIClient(base_url=resolve_engine().url, version="auto", timeout=120)
    yield api
    _cleanup(api)
    api.close()


def _cleanup(api) -> None:
    flt = {"label": f"{TEST_LABEL}={RUN_ID}"}
    try:
        for c in api.containers(all=True, filters=flt):
            try:
                api.remove_container(c["Id"], force=True, v=True)
            except Exception:
                pass
        for img in api.images(filters=flt):
            try:
                api.remove_image(img["Id"], force=True)
            except Exception:
                pass
    except Exception:
        pass


def busybox_tar(dockerfile: str) -> bytes:
    """A build context with a static busybox and the given Dockerfile (builds offline FROM scratch)."""
    busybox = shutil.which("busybox") or "/bin/busybox"
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        tar.add(busybox, arcname="busybox")
        data = dockerfile.encode()
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


BUSYBOX_DOCKERFILE = """FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
ENV PATH=/bin
LABEL ai-container-studio.test-base=1
CMD ["sleep", "3600"]
"""


def build_busybox(api, tag: str = BUSYBOX_TAG) -> str:
    """Build (or reuse) the tiny offline test image; returns its tag."""
    try:
        api.inspect_image(tag)
        return tag
    except Exception:
        pass
    if not os.path.exists(shutil.which("busybox") or "/bin/busybox"):
        pytest.fail("busybox is not installed (apt-get install busybox-static; .ci/setup-system does it)")
    for chunk in api.build(fileobj=io.BytesIO(busybox_tar(BUSYBOX_DOCKERFILE)), custom_context=True,
                           tag=tag, rm=True, decode=True):
        if "error" in chunk:
            raise RuntimeError(chunk["error"])
    return tag


@pytest.fixture(scope="session")
def busybox_image(docker_api) -> str:
    """A 1 MB image with a shell and `sleep`, built offline. Kept between runs as a cache image."""
    return build_busybox(docker_api)


# Sleeps for an hour but stops at once on SIGTERM (a bare `sleep` as PID 1 ignores it).
SLEEPER = ("sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait")


@pytest.fixture
def make_container(docker_api, busybox_image, test_labels, unique_name):
    """Create (and optionally start) a labelled busybox container; removed after the test."""
    made: list[str] = []

    def make(name: str | None = None, start: bool = True, command=SLEEPER, **kwargs) -> dict:
        name = name or unique_name("c")
        labels = {**test_labels, **kwargs.pop("labels", {})}
        c = docker_api.create_container(busybox_image, command=list(command), name=name,
                                        labels=labels, **kwargs)
        made.append(c["Id"])
        if start:
            docker_api.start(c["Id"])
        return {"Id": c["Id"], "name": name}

    yield make
    for cid in made:
        try:
            docker_api.remove_container(cid, force=True, v=True)
        except Exception:
            pass


@pytest.fixture
def private_dockerd():
    """A Docker daemon of the test's own (not started yet: call .start())."""
    from tests.support.dockerd import PrivateDockerd

    d = PrivateDockerd()
    yield d
    d.destroy()
