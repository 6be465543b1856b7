"""Pull, push and login for real: the engine against Debian's docker-registry started on 127.0.0.1."""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import threading
import time

import docker
import pytest

from gui.engine import Engine, EngineError, EngineTarget
from gui.engine import credentials as creds_store
from gui.engine.reference import ReferenceError
from gui.engine.registry import LayerProgress, Transfer, TransferResult, login, pull, push
from tests.support.registry import RegistryServer
from tests.support.servers import free_port
from tests.support.throttle import ThrottledProxy

USER, PASSWORD = "aics", "s3cret-pw"


@pytest.fixture
def auth_registry():
    server = RegistryServer(USER, PASSWORD).start()
    yield server
    server.stop()


@pytest.fixture
def docker_config(tmp_path, monkeypatch):
    path = tmp_path / "docker-config"
    monkeypatch.setenv("DOCKER_CONFIG", str(path))
    return path


def drain(transfer):
    items = list(transfer)
    assert isinstance(items[-1], TransferResult), items[-1:]
    return items


def layers(items) -> dict[str, list[LayerProgress]]:
    out: dict[str, list[LayerProgress]] = {}
    for it in items:
        if isinstance(it, LayerProgress):
            out.setdefault(it.id, []).append(it)
    return out


def test_push_remove_pull_back_same_image(engine, docker_api, registry, unique_image, unique_name):
    image_id = unique_image(200_000)
    ref = f"{registry.address}/aicstest/{unique_name('img')}:v1"
    docker_api.tag(image_id, ref.rsplit(":", 1)[0], "v1")

    pushed = drain(push(engine, ref))
    per_layer = layers(pushed)
    assert len(per_layer) == 3  # busybox copy, its symlinks, our random blob
    assert all(p[-1].done for p in per_layer.values()), per_layer
    assert any(p.status == "Pushing" and p.total > 100_000 for ps in per_layer.values() for p in ps)
    result = pushed[-1]
    assert result.kind == "push" and result.image_id == image_id and result.digest.startswith("sha256:")
    assert registry.tags(ref.split("/", 1)[1].rsplit(":", 1)[0]) == ["v1"]

    docker_api.remove_image(image_id, force=True)
    with pytest.raises(docker.errors.ImageNotFound):
        docker_api.inspect_image(ref)

    pulled = drain(pull(engine, ref))
    per_layer = layers(pulled)
    assert len(per_layer) == 3
    statuses = {p[-1].status for p in per_layer.values()}
    assert statuses == {"Already exists", "Pull complete"}, statuses
    fresh = [ps for ps in per_layer.values() if ps[-1].status == "Pull complete"]
    assert len(fresh) == 1
    assert any(p.status == "Downloading" and p.total > 0 for p in fresh[0])
    assert pulled[-1].image_id == image_id
    assert pulled[-1].digest == result.digest
    assert docker_api.inspect_image(ref)["Id"] == image_id


def test_no_registry_answers_says_so(engine, docker_api, busybox_image):
    port = free_port()  # nothing listens there
    with pytest.raises(EngineError) as err:
        list(pull(engine, f"127.0.0.1:{port}/aicstest/nothing:v1"))
    assert str(err.value) == f"no registry answers at 127.0.0.1:{port}: is it running? (connection refused)"

    repo = f"127.0.0.1:{port}/aicstest/pushme"
    docker_api.tag(busybox_image, repo, "v1")
    try:
        with pytest.raises(EngineError) as err:
            list(push(engine, f"{repo}:v1"))
        assert str(err.value) == f"no registry answers at 127.0.0.1:{port}: is it running? (connection refused)"
    finally:
        docker_api.remove_image(f"{repo}:v1")


def test_missing_image_and_local_tag_are_explained(engine, registry):
    with pytest.raises(EngineError) as err:
        list(pull(engine, f"{registry.address}/aicstest/absent:v1"))
    assert str(err.value).startswith(f"Not found at {registry.address}")
    with pytest.raises(EngineError) as err:
        list(push(engine, f"{registry.address}/aicstest/absent:v1"))
    assert "no local image to push" in str(err.value)


@pytest.mark.parametrize("bad", ["Upper/Case:v1", "busybox:bad tag", "busybox:-x", "a//b", "busybox@sha256:12"])
def test_invalid_reference_fails_before_any_call(bad):
    nowhere = Engine(EngineTarget("unix:///nonexistent/docker.sock", "test"))
    with pytest.raises(ReferenceError):
        Transfer(nowhere, "pull", bad)


def test_push_refuses_a_digest(engine):
    with pytest.raises(ReferenceError, match="push a tag"):
        push(engine, "127.0.0.1:5000/a/b@sha256:" + "a" * 64)


def test_login_checks_then_stores_like_the_cli(engine, docker_api, auth_registry, docker_config,
                                               unique_image, unique_name):
    reg = auth_registry.address
    image_id = unique_image()
    repo = f"{reg}/aicstest/{unique_name('priv')}"
    docker_api.tag(image_id, repo, "v1")

    with pytest.raises(EngineError, match=f"^{reg} asks for a login"):
        list(push(engine, f"{repo}:v1"))
    with pytest.raises(EngineError, match="^Wrong user name or password"):
        login(engine, reg, USER, "not-it")
    assert not (docker_config / "config.json").exists(), "a refused login must save nothing"

    saved, where = login(engine, f"http://{reg}/", USER, PASSWORD)
    assert where == str(docker_config / "config.json")
    config = json.loads((docker_config / "config.json").read_text())
    assert config["auths"][reg]["auth"] == base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    assert stat.S_IMODE(os.stat(docker_config / "config.json").st_mode) == 0o600

    # docker-py's own reader agrees with what was written
    import docker.auth

    found = docker.auth.resolve_authconfig(docker.auth.load_config(), reg)
    assert (found["username"], found["password"]) == (USER, PASSWORD)

    drain(push(engine, f"{repo}:v1"))  # with the stored login
    assert auth_registry.tags(repo.split("/", 1)[1]) == ["v1"]

    # The Docker CLI reads the same file: it pulls what we pushed, with our login.
    docker_api.remove_image(image_id, force=True)
    cli = subprocess.run(["docker", "--config", str(docker_config), "pull", f"{repo}:v1"],
                         capture_output=True, text=True, timeout=120)
    assert cli.returncode == 0, cli.stderr
    assert docker_api.inspect_image(f"{repo}:v1")["Id"] == image_id

    creds_store.erase(reg)
    assert reg not in json.loads((docker_config / "config.json").read_text())["auths"]
    docker_api.remove_image(image_id, force=True)
    with pytest.raises(EngineError, match="asks for a login"):
        list(pull(engine, f"{repo}:v1"))


def test_login_through_a_credential_helper(engine, docker_api, auth_registry, docker_config, tmp_path,
                                           monkeypatch, unique_image, unique_name):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    vault = tmp_path / "vault.json"
    helper = bindir / "docker-credential-aicsfake"
    helper.write_text(FAKE_HELPER.replace("VAULT", str(vault)))
    helper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}:{os.environ['PATH']}")
    docker_config.mkdir()
    (docker_config / "config.json").write_text(json.dumps({"credsStore": "aicsfake", "other": 1}))

    reg = auth_registry.address
    _, where = login(engine, reg, USER, PASSWORD)
    assert where == "docker-credential-aicsfake"
    assert json.loads(vault.read_text()) == {reg: {"Username": USER, "Secret": PASSWORD}}
    config = json.loads((docker_config / "config.json").read_text())
    assert config == {"credsStore": "aicsfake", "other": 1, "auths": {reg: {}}}

    image_id = unique_image()
    repo = f"{reg}/aicstest/{unique_name('helper')}"
    docker_api.tag(image_id, repo, "v1")
    drain(push(engine, f"{repo}:v1"))  # the secret comes back through `get`
    assert auth_registry.tags(repo.split("/", 1)[1]) == ["v1"]


FAKE_HELPER = """#!/usr/bin/env python3
import json, sys
path = "VAULT"
try:
    vault = json.load(open(path))
except FileNotFoundError:
    vault = {}
action = sys.argv[1]
data = sys.stdin.read()
if action == "store":
    d = json.loads(data)
    vault[d["ServerURL"]] = {"Username": d["Username"], "Secret": d["Secret"]}
elif action == "get":
    url = data.strip()
    if url not in vault:
        print("credentials not found in native keychain")
        sys.exit(1)
    print(json.dumps({"ServerURL": url, **vault[url]}))
elif action == "list":
    print(json.dumps({url: v["Username"] for url, v in vault.items()}))
elif action == "erase":
    vault.pop(data.strip(), None)
json.dump(vault, open(path, "w"))
"""


def test_cancel_stops_the_pull_on_the_engine(engine, docker_api, registry, unique_image, unique_name):
    image_id = unique_image(3_000_000)
    name = f"aicstest/{unique_name('slow')}"
    docker_api.tag(image_id, f"{registry.address}/{name}", "v1")
    drain(push(engine, f"{registry.address}/{name}:v1"))
    docker_api.remove_image(image_id, force=True)

    proxy = ThrottledProxy(("127.0.0.1", registry.port), rate=150_000)
    try:
        transfer = pull(engine, f"{proxy.address}/{name}:v1")
        seen: list = []
        ended = threading.Event()

        def run():
            try:
                for item in transfer:
                    seen.append(item)
            finally:
                ended.set()

        threading.Thread(target=run, daemon=True).start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(
                isinstance(i, LayerProgress) and i.status == "Downloading" and i.current > 0 for i in seen):
            time.sleep(0.05)
        assert any(isinstance(i, LayerProgress) and i.status == "Downloading" for i in seen), seen
        cancelled_at = time.monotonic()
        transfer.close()
        assert ended.wait(5), "the transfer did not end after close()"
        assert time.monotonic() - cancelled_at < 5
        assert not any(isinstance(i, TransferResult) for i in seen)
        # The engine really stopped: its connections to the registry close, and no image appears.
        deadline = time.monotonic() + 20
        while proxy.open_connections and time.monotonic() < deadline:
            time.sleep(0.1)
        assert proxy.open_connections == 0, "the engine kept downloading after the cancel"
        time.sleep(1)
        with pytest.raises(docker.errors.ImageNotFound):
            docker_api.inspect_image(f"{proxy.address}/{name}:v1")
    finally:
        proxy.close()
