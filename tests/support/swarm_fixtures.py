"""Fixtures of the real two-node swarm (tests/support/swarm.py), one per test session, and the digits
images it serves. Registered by tests/conftest.py.

The images are the LiteRT digits server built from the tensorflow-image template on the main engine,
plus thin layers over it (a 1 s health check, so tasks are running in seconds rather than the image's
10 s; a "v2" tag; a tag whose health check always fails), sent to both nodes with ``docker save |
docker load`` (no registry is reachable here).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import time

import pytest

from tests.support.labels import RUN_ID

FAST_HEALTH = ('HEALTHCHECK --interval=1s --timeout=3s --start-period=30s --retries=3 '
               'CMD ["python3", "/opt/aics/serving/cli.py", "health"]')
BAD_HEALTH = 'HEALTHCHECK --interval=1s --timeout=2s --start-period=1s --retries=2 CMD ["false"]'  # start period: the base's 60 s is inherited otherwise
REPO = f"aicstest-swarm-{RUN_ID}/digits"


def _build(api, dockerfile: str, tag: str, labels: dict) -> None:
    for chunk in api.build(fileobj=io.BytesIO(dockerfile.encode()), tag=tag, rm=True, decode=True,
                           labels=labels):
        if "error" in chunk:
            raise RuntimeError(chunk["error"])


_failed: dict[str, str] = {}


def _reused() -> dict | None:
    """While developing: AICS_REUSE_SWARM=<json> names a swarm kept running by hand (the addresses,
    sockets and image references of a TwoNodeSwarm), so a test run does not make one."""
    path = os.environ.get("AICS_REUSE_SWARM")
    if not path:
        return None
    with open(path) as fh:
        return json.load(fh)


def digit_pngs(n: int) -> list[bytes]:
    """``n`` digit pictures (8x8 PNGs of load_digits rows 1500-1796, which the demo did not train on)."""
    import numpy as np
    from PIL import Image
    from sklearn.datasets import load_digits

    rows = load_digits().data[1500:]
    out = []
    for i in range(n):
        buf = io.BytesIO()
        Image.fromarray(np.round(rows[i % len(rows)].reshape(8, 8) * 255 / 16).astype(np.uint8), "L").save(buf, "PNG")
        out.append(buf.getvalue())
    return out


def build_swarm_images(docker_api, labels: dict, tmp, base: str = "") -> tuple[dict, object]:
    """Build the digits images on the main engine: (``{"v1", "v2", "bad", "base"}`` -> reference, the build).
    ``base``: a LiteRT digits image built before (then the template is not rebuilt, and "base" not given)."""
    from tests.support.tensorflow_builds import build_variant

    base, build = base or os.environ.get("AICS_SWARM_BASE_IMAGE", ""), None
    if not base:  # AICS_SWARM_BASE_IMAGE: a LiteRT digits image built before (the template not rebuilt)
        base = f"{REPO}:base"
        build, _lines, _s = build_variant({"runtime": "litert"}, tmp / "litert", base, labels)
    refs = {"v1": f"{REPO}:v1", "v2": f"{REPO}:v2", "bad": f"{REPO}:bad"}
    _build(docker_api, f"FROM {base}\n{FAST_HEALTH}\n", refs["v1"], labels)
    _build(docker_api, f"FROM {base}\n{FAST_HEALTH}\nLABEL org.opencontainers.image.version=2.0.0\n",
           refs["v2"], labels)
    _build(docker_api, f"FROM {base}\n{BAD_HEALTH}\nLABEL org.opencontainers.image.version=3.0.0-bad\n",
           refs["bad"], labels)
    return {**refs, **({} if build is None else {"base": base})}, build


def remove_swarm_images(docker_api, refs: dict, build) -> None:
    from tests.support.tensorflow_builds import remove_leftovers

    for ref in refs.values():
        with contextlib.suppress(Exception):
            docker_api.remove_image(ref, force=True)
    if build is not None:
        remove_leftovers(build)


@pytest.fixture(scope="session")
def swarm_images(request, docker_api, test_labels, tmp_path_factory):
    """``{"v1", "v2", "bad"}`` -> image references on the main engine (removed at the end), over the
    session's LiteRT digits image (tests/support/demo_images.py) unless AICS_SWARM_BASE_IMAGE names one."""
    if (kept := _reused()) is not None:
        yield kept["images"]
        return
    if "failed" in _failed:  # a session fixture that failed is set up again for every test: not a build each
        pytest.fail(_failed["failed"], pytrace=False)
    try:
        base = os.environ.get("AICS_SWARM_BASE_IMAGE") or request.getfixturevalue("litert_digits_image")["tag"]
        refs, build = build_swarm_images(docker_api, test_labels, tmp_path_factory.mktemp("swarm-litert"), base)
    except Exception as exc:
        _failed["failed"] = f"the LiteRT digits image did not build (tensorflow-image template): {exc}"
        raise
    yield {k: v for k, v in refs.items() if k != "base"}
    remove_swarm_images(docker_api, refs, build)


@pytest.fixture(scope="session")
def two_node_swarm(docker_api, swarm_images):
    """A manager and a worker in one swarm, both holding the digits images; torn down at the end."""
    from tests.support.swarm import TwoNodeSwarm

    if (kept := _reused()) is not None:
        yield TwoNodeSwarm.attach(kept)
        return
    if os.geteuid() != 0:
        pytest.skip("a two-node swarm needs root (network namespaces)")
    swarm = TwoNodeSwarm()
    try:
        t0 = time.monotonic()
        swarm.start()
        swarm.form()
        swarm.load_images(docker_api, list(swarm_images.values()))
        swarm.setup_seconds = time.monotonic() - t0
        yield swarm
    finally:
        swarm.destroy()
