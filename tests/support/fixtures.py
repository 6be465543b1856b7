"""The shared pytest plugin (registered by tests/conftest.py): the engine requirement, the fixtures
every tier uses, and the cleanup of what a run created.

A test needs the engine when it uses a fixture that does (`engine`, `docker_api`, `window`,
`make_container`, ...; they all depend on `engine_required`) or when it carries `@pytest.mark.engine`.
Such a test skips with one loud line when no engine answers, and fails instead under REQUIRE_ENGINE=1.
Every other test runs without an engine, whatever its folder.
"""

from __future__ import annotations

import io
import os
import uuid

import pytest

from gui.engine import Engine, EngineError, resolve_engine
from tests.support.busybox import SLEEPER, build_busybox
from tests.support.labels import RUN_ID, run_filter, run_labels

REQUIRE_ENGINE = os.environ.get("REQUIRE_ENGINE") == "1"
ENGINE_FIXTURE = "engine_required"

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


def require_engine() -> None:
    """Skip (or fail under REQUIRE_ENGINE=1) when no engine answers."""
    problem = engine_problem()
    if problem is None:
        return
    if REQUIRE_ENGINE:
        pytest.fail(f"REQUIRE_ENGINE=1 but no Docker Engine answers: {problem}", pytrace=False)
    pytest.skip(f"NO DOCKER ENGINE: {problem}")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "engine: needs a real Docker Engine (skips without one unless REQUIRE_ENGINE=1)")


def pytest_report_header(config):
    problem = engine_problem()
    if problem is None:
        return f"engine: {resolve_engine().url} (real Docker Engine)"
    verdict = "FAIL (REQUIRE_ENGINE=1)" if REQUIRE_ENGINE else "SKIP"
    return f"!!!!! NO DOCKER ENGINE: tests that need one will {verdict}: {problem} !!!!!"


def pytest_collection_modifyitems(config, items):
    """Mark what needs the engine by the fixtures it uses (so `-m "not engine"` selects the rest)."""
    for item in items:
        if ENGINE_FIXTURE in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.engine)


def pytest_runtest_setup(item):
    if item.get_closest_marker("engine") is not None:
        require_engine()


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


# -- the engine ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def engine_required() -> None:
    """Depend on this (directly or through another fixture) to need a real engine."""
    require_engine()


@pytest.fixture
def engine(engine_required):
    """The app's own engine object for the real engine; closed after the test."""
    e = Engine(resolve_engine())
    yield e
    e.close()


@pytest.fixture(scope="session")
def docker_api(engine_required):
    """A plain docker-py client for test set-up (the app under test uses gui.engine); at the end of
    the session it removes every container and image this run labelled."""
    import docker

    api = docker.APIClient(base_url=resolve_engine().url, version="auto", timeout=120)
    yield api
    _cleanup(api)
    api.close()


def _cleanup(api) -> None:
    flt = run_filter()
    try:
        # Labelled ones, and any named by unique_name (e.g. started by the app's Run dialog, unlabelled).
        named = api.containers(all=True, filters={"name": f"^/aicstest-{RUN_ID}-"})
        for c in api.containers(all=True, filters=flt) + named:
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


# -- labels and names ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def run_id() -> str:
    return RUN_ID


@pytest.fixture(scope="session")
def test_labels() -> dict[str, str]:
    """Labels every container and image a test creates must carry (so cleanup finds them)."""
    return run_labels()


@pytest.fixture
def unique_name():
    """`unique_name("web")` -> "aicstest-<run>-web-<n>": names no other run or test uses."""
    counter = iter(range(10_000))

    def make(stem: str = "c") -> str:
        return f"aicstest-{RUN_ID}-{stem}-{uuid.uuid4().hex[:6]}{next(counter)}"

    return make


# -- images and containers ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def busybox_image(docker_api) -> str:
    """A 1 MB image with a shell and `sleep`, built offline when missing. Kept between runs as a cache."""
    try:
        return build_busybox(docker_api)
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def python_app_cache(docker_api, test_labels, tmp_path_factory) -> str:
    """The python-app template's package layer for PYTHON_APP_PACKAGES, kept as ``aics-cache/python-app``
    (``AICS_TEST_CACHE_REPO`` changes the name): built once when missing, so a Build page test that expects
    " ---> Using cache" passes alone on a fresh machine. That first build pulls python:3.11-slim and installs
    the packages: a test using this fixture carries ``@pytest.mark.timeout(COLD_BUILD_S)``."""
    from tests.support.templates import PYTHON_APP_PACKAGES, ensure_template_cache

    return ensure_template_cache("python-app", {"packages": PYTHON_APP_PACKAGES},
                                 tmp_path_factory.mktemp("python-app-cache"), test_labels)


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
def unique_image(docker_api, busybox_image, test_labels):
    """Build an image with a layer no other image has (``size`` random bytes); returns its id."""
    import docker

    made: list[str] = []

    def build(size: int = 64) -> str:
        dockerfile = (f"FROM {busybox_image}\nRUN head -c {size} /dev/urandom > /blob "
                      f"&& echo {uuid.uuid4().hex} > /id\n")
        image_id = None
        # A client of its own: a build loads the credentials of $DOCKER_CONFIG into the client, and the
        # shared docker_api must not keep a test's temporary ones.
        api = docker.APIClient(base_url=resolve_engine().url, version="auto", timeout=120)
        try:
            chunks = list(api.build(fileobj=io.BytesIO(dockerfile.encode()), rm=True, decode=True,
                                    labels=test_labels))
        finally:
            api.close()
        for chunk in chunks:
            if "error" in chunk:
                raise RuntimeError(chunk["error"])
            image_id = (chunk.get("aux") or {}).get("ID") or image_id
        assert image_id, "the build gave no image ID"
        made.append(image_id)
        return image_id

    yield build
    for image_id in made:
        try:
            docker_api.remove_image(image_id, force=True)
        except Exception:
            pass


# -- servers --------------------------------------------------------------------------------------


@pytest.fixture
def registry():
    """Debian's docker-registry on a free 127.0.0.1 port, without auth; stopped after the test."""
    from tests.support.registry import RegistryServer

    server = RegistryServer().start()
    yield server
    server.stop()


@pytest.fixture
def private_dockerd():
    """A Docker daemon of the test's own (not started yet: call .start())."""
    from tests.support.dockerd import PrivateDockerd

    d = PrivateDockerd()
    yield d
    d.destroy()


# -- the window -----------------------------------------------------------------------------------


@pytest.fixture
def window(engine_required, qtbot, tmp_path, monkeypatch):
    """The real main window on the real engine (state folder of the test's own), loaded; closed after."""
    from gui.app import create_window

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    w = create_window()
    qtbot.addWidget(w)
    w.resize(1280, 860)
    w.show()
    qtbot.waitUntil(lambda: w.session.has_loaded, timeout=10000)
    yield w
    w.close()


@pytest.fixture
def app_container_name(window, docker_api, unique_name):
    """``app_container_name("web")``: a unique name for a container the app starts (the Run dialog gives
    it no test label, so the session's cleanup by label would miss it). After the test, passed or failed,
    the window's change queue is closed and its change in flight waited for (pytest-qt has usually closed
    the window already, and a run still on its way would land after the cleanup), then the containers of
    those names are removed."""
    names: list[str] = []

    def make(stem: str = "run") -> str:
        names.append(unique_name(stem))
        return names[-1]

    yield make
    if not names:
        return
    window.session.changes.shutdown(wait=True)
    for c in docker_api.containers(all=True, filters={"name": [f"^/{n}$" for n in names]}):
        docker_api.remove_container(c["Id"], force=True, v=True)
