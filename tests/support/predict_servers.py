"""MLServer (Open Inference Protocol v2) and KServe (TF Serving REST) digit servers in containers, for the
engine tests of the clients (tests/engine/test_predict_servers.py) and the Predict page's ui tests.

Each server image is built from tests/engine/servers/<server> with the classic builder and kept as a cache
image (``aics-cache/<server>``, pip layer first), so a second run reuses its layers; containers carry the
test label and are removed. Fixtures are registered by their ``name=`` (``mlserver``, ``kserve``,
``report``); a test module imports the ``*_fixture`` functions to use them.
"""

from __future__ import annotations

import io
import json
import tarfile
import time
from pathlib import Path

import pytest

from gui.predict import OpenInferenceClient, PredictError, TFServingClient

SERVERS = Path(__file__).resolve().parents[1] / "engine" / "servers"
SHARED = ("digits_shape.py", "digits_train.py")


def server_context(server: str) -> bytes:
    """The build context: the server's folder plus the shared training files."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for path in sorted((SERVERS / server).iterdir()):
            tar.add(path, arcname=path.name)
        for name in SHARED:
            tar.add(SERVERS / name, arcname=name)
    return buf.getvalue()


def build_cache_image(api, server: str, report) -> str:
    """Build (or refresh from cache) ``aics-cache/<server>:latest``; reports the time and cached steps."""
    tag = f"aics-cache/{server}:latest"
    start = time.perf_counter()
    steps = cached = 0
    tail: list[str] = []
    for chunk in api.build(
        fileobj=io.BytesIO(server_context(server)),
        custom_context=True,
        tag=tag,
        rm=True,
        forcerm=True,
        decode=True,
    ):
        if "error" in chunk:
            raise AssertionError(f"building {tag} failed: {chunk['error']}\n" + "".join(tail[-30:]))
        text = chunk.get("stream", "")
        steps += text.startswith("Step ")
        cached += "Using cache" in text
        tail.append(text)
    report(f"[build] {tag}: {time.perf_counter() - start:.1f} s, {cached} of {steps} steps from cache")
    return tag


def start_server(api, image: str, name: str, labels: dict) -> tuple[str, str]:
    """Run ``image`` with its port 8080 published on a free 127.0.0.1 port; returns (container id, url)."""
    container = api.create_container(
        image,
        name=name,
        labels=labels,
        ports=[8080],
        host_config=api.create_host_config(port_bindings={8080: ("127.0.0.1",)}),
    )
    cid = container["Id"]
    api.start(cid)
    binding = api.inspect_container(cid)["NetworkSettings"]["Ports"]["8080/tcp"][0]
    assert binding["HostIp"] == "127.0.0.1"
    return cid, f"http://127.0.0.1:{binding['HostPort']}"


def wait_ready(api, cid: str, client, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if client.ready():
                return
        except PredictError:
            pass
        if api.inspect_container(cid)["State"]["Status"] != "running":
            break
        time.sleep(0.5)
    logs = api.logs(cid, tail=40).decode("utf-8", "replace")
    raise AssertionError(f"server in {cid[:12]} never became ready:\n{logs}")


def read_holdout(api, cid: str) -> dict:
    stream, _ = api.get_archive(cid, "/srv/holdout.json")
    with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
        return json.load(tar.extractfile("holdout.json"))


@pytest.fixture(scope="module", name="report")
def report_fixture(request):
    capman = request.config.pluginmanager.getplugin("capturemanager")

    def say(text: str) -> None:
        with capman.global_and_fixture_disabled():
            print("\n" + text, flush=True)

    return say


def _server(docker_api, test_labels, run_id, report, server: str):
    image = build_cache_image(docker_api, server, report)
    cid, url = start_server(docker_api, image, f"aicstest-{run_id}-{server}", dict(test_labels))
    return image, cid, url


@pytest.fixture(scope="module", name="mlserver")
def mlserver_fixture(docker_api, test_labels, run_id, report):
    image, cid, url = _server(docker_api, test_labels, run_id, report, "mlserver")
    try:
        client = OpenInferenceClient(url, "digits", timeout=20)
        start = time.perf_counter()
        wait_ready(docker_api, cid, client)
        report(f"[start] MLServer ready after {time.perf_counter() - start:.1f} s")
        yield {
            "image": image,
            "id": cid,
            "url": url,
            "client": client,
            "holdout": read_holdout(docker_api, cid),
        }
        client.close()
    finally:
        docker_api.remove_container(cid, force=True, v=True)


@pytest.fixture(scope="module", name="kserve")
def kserve_fixture(docker_api, test_labels, run_id, report):
    image, cid, url = _server(docker_api, test_labels, run_id, report, "kserve")
    try:
        probe = TFServingClient(url, "digits", timeout=20)
        start = time.perf_counter()
        wait_ready(docker_api, cid, probe)
        report(f"[start] KServe ready after {time.perf_counter() - start:.1f} s")
        probe.close()
        yield {"image": image, "id": cid, "url": url, "holdout": read_holdout(docker_api, cid)}
    finally:
        docker_api.remove_container(cid, force=True, v=True)
