"""Engines reached other ways: tcp:// with TLS (socat in front of the socket), ssh:// (a local sshd),
a Docker context made by the Docker CLI, and Podman's Docker-compatible socket."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import docker
import pytest

from gui.engine import Engine, EngineError
from gui.engine.contexts import EngineSpec, list_choices, make_target, probe
from tests.support.busybox import BUSYBOX_DOCKERFILE, busybox_tar
from tests.support.certs import make_ca, make_cert
from tests.support.servers import free_port, start, stop, wait_port

DOCKER_SOCK = "/var/run/docker.sock"


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    folder = str(tmp_path_factory.mktemp("tls"))
    ca = make_ca(folder)
    other_ca = make_ca(folder, "other-ca")
    return {
        "ca": ca[0],
        "other_ca": other_ca[0],
        "server": make_cert(folder, "server", ca, server=True),
        "client": make_cert(folder, "client", ca, server=False),
        "stranger": make_cert(folder, "stranger", other_ca, server=False),
    }


@pytest.fixture(scope="module")
def tls_engine(certs, tmp_path_factory):
    """socat: TLS with client-certificate check on 127.0.0.1:<port>, forwarding to the engine's socket."""
    if shutil.which("socat") is None:
        pytest.fail("socat is not installed (apt-get install socat)")
    port = free_port()
    log = str(tmp_path_factory.mktemp("socat") / "socat.log")
    cert, key = certs["server"]
    proc = start(["socat", f"OPENSSL-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork,cert={cert},key={key},"
                  f"cafile={certs['ca']},verify=1", f"UNIX-CONNECT:{DOCKER_SOCK}"], log)
    wait_port(port, proc, what="socat", log=log)
    yield f"tcp://127.0.0.1:{port}"
    stop(proc)


def tls_spec(url, certs, client="client", ca="ca") -> EngineSpec:
    cert, key = certs[client]
    return EngineSpec(url, certs[ca], cert, key)


def test_tls_engine_lists_containers(tls_engine, certs, make_container, monkeypatch):
    # A CA bundle in the environment must not replace the engine's own CA (psf/requests#3829).
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    c = make_container()
    engine = Engine(make_target(tls_spec(tls_engine, certs)))
    try:
        assert c["name"] in [x.name for x in engine.list_containers()]
        assert engine.info().url == tls_engine
    finally:
        engine.close()


def test_tls_wrong_client_certificate_is_a_clear_error(tls_engine, certs):
    target = make_target(tls_spec(tls_engine, certs, client="stranger"))
    with pytest.raises(EngineError) as err:
        probe(target)
    assert str(err.value).startswith(f"Cannot connect to {tls_engine}: the engine refused the client certificate")
    engine = Engine(target)
    with pytest.raises(EngineError):
        engine.list_containers()


def test_tls_untrusted_engine_certificate_is_a_clear_error(tls_engine, certs):
    target = make_target(tls_spec(tls_engine, certs, ca="other_ca"))
    with pytest.raises(EngineError) as err:
        probe(target)
    assert "the engine's certificate is not trusted" in str(err.value)


def test_plain_tcp_to_a_tls_engine_is_explained(tls_engine):
    with pytest.raises(EngineError) as err:
        probe(make_target(EngineSpec(tls_engine)))
    assert "probably needs TLS certificates" in str(err.value)


@pytest.mark.parametrize("spec, words", [
    (EngineSpec(""), "Enter the engine's address"),
    (EngineSpec("http://h:2375"), "write tcp://h:2375"),
    (EngineSpec("ftp://h"), "must start with unix://, tcp:// or ssh://"),
    (EngineSpec("tcp://h"), "give the port"),
    (EngineSpec("tcp://h:99999"), "port is not a number"),
    (EngineSpec("ssh://"), "host name is missing"),
    (EngineSpec("tcp://h:2376", ca="/nonexistent/ca.pem"), "CA certificate file /nonexistent/ca.pem does not exist"),
    (EngineSpec("tcp://h:2376", cert="/etc/hostname"), "both the client certificate and its key"),
    (EngineSpec("ssh://h", ca="/etc/hostname"), "only to tcp://"),
])
def test_bad_engine_addresses_are_explained(spec, words):
    with pytest.raises(EngineError) as err:
        make_target(spec)
    assert words in str(err.value)


def test_docker_context_made_by_the_cli_is_listed_and_works(tls_engine, certs, tmp_path, monkeypatch,
                                                            make_container):
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "cfg"))
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    cert, key = certs["client"]
    name = f"aicstest-{os.getpid()}"
    done = subprocess.run(["docker", "context", "create", name, "--docker",
                           f"host={tls_engine},ca={certs['ca']},cert={cert},key={key}"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    choices = {c.target.url: c for c in list_choices([EngineSpec("tcp://10.0.0.1:2375")])}
    assert choices[tls_engine].kind == "context" and choices[tls_engine].target.source == f"context {name}"
    assert choices["tcp://10.0.0.1:2375"].kind == "recent"
    assert next(iter(choices.values())).kind == "local"
    c = make_container()
    engine = Engine(choices[tls_engine].target)
    try:
        assert c["name"] in [x.name for x in engine.list_containers()]
    finally:
        engine.close()


# -- ssh:// ---------------------------------------------------------------------------------


@pytest.fixture
def sshd(tmp_path, monkeypatch):
    """An sshd of the test's own on 127.0.0.1 (key login for root), and a HOME whose ~/.ssh knows it."""
    if not os.path.exists("/usr/sbin/sshd"):
        pytest.fail("sshd is not installed (apt-get install openssh-server)")
    os.makedirs("/run/sshd", exist_ok=True)  # sshd's privilege-separation directory
    port = free_port()
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    for args in (["-f", str(tmp_path / "host_key")], ["-f", str(home / ".ssh" / "id_ed25519")]):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", *args], check=True)
    (tmp_path / "authorized_keys").write_text((home / ".ssh" / "id_ed25519.pub").read_text())
    config = tmp_path / "sshd_config"
    config.write_text(f"Port {port}\nListenAddress 127.0.0.1\nHostKey {tmp_path}/host_key\n"
                      f"PidFile {tmp_path}/sshd.pid\nAuthorizedKeysFile {tmp_path}/authorized_keys\n"
                      "PermitRootLogin prohibit-password\nPasswordAuthentication no\n"
                      "KbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n")
    log = str(tmp_path / "sshd.log")
    proc = start(["/usr/sbin/sshd", "-D", "-e", "-f", str(config)], log)
    wait_port(port, proc, what="sshd", log=log)
    host_key = (tmp_path / "host_key.pub").read_text().split()[:2]
    monkeypatch.setenv("HOME", str(home))  # paramiko reads ~/.ssh/{config,known_hosts,id_*}
    yield {"url": f"ssh://root@127.0.0.1:{port}", "known_hosts": home / ".ssh" / "known_hosts",
           "host_key": f"[127.0.0.1]:{port} {' '.join(host_key)}\n", "log": log}
    stop(proc)


def test_ssh_engine_lists_containers(sshd, make_container):
    sshd["known_hosts"].write_text(sshd["host_key"])
    c = make_container()
    target = make_target(EngineSpec(sshd["url"]))
    assert probe(target).url == sshd["url"]
    engine = Engine(target)
    try:
        assert c["name"] in [x.name for x in engine.list_containers()]
    finally:
        engine.close()
    assert "Accepted publickey for root" in Path(sshd["log"]).read_text()


def test_ssh_unknown_host_key_is_a_clear_error(sshd):
    with pytest.raises(EngineError) as err:
        probe(make_target(EngineSpec(sshd["url"])))
    assert "SSH failed" in str(err.value) and "known_hosts" in str(err.value)


# -- Podman ---------------------------------------------------------------------------------


@pytest.fixture
def podman():
    """`podman system service` on a socket of its own, with its own storage (removed afterwards)."""
    if shutil.which("podman") is None:
        pytest.fail("podman is not installed (apt-get install podman)")
    root = Path(tempfile.mkdtemp(prefix="aics-pod-", dir="/tmp"))  # podman wants a short runroot
    sock = root / "podman.sock"
    log = str(root / "service.log")
    proc = start(["podman", "--root", str(root / "storage"), "--runroot", str(root / "run"),
                  "system", "service", "--time=0", f"unix://{sock}"], log)
    deadline = time.monotonic() + 30
    while not sock.exists() and time.monotonic() < deadline:
        assert proc.poll() is None, Path(log).read_text()
        time.sleep(0.05)
    yield f"unix://{sock}"
    stop(proc)
    with open("/proc/mounts") as fh:  # podman leaves its storage bind-mounted
        mounts = [line.split()[1] for line in fh if line.split()[1].startswith(str(root))]
    for path in sorted(mounts, reverse=True):
        subprocess.run(["umount", "-l", path], check=False)
    shutil.rmtree(root, ignore_errors=True)


def test_podman_socket_lists_containers(podman, test_labels, unique_name):
    api = docker.APIClient(base_url=podman, version="1.41", timeout=120)
    try:
        for chunk in api.build(fileobj=io.BytesIO(busybox_tar(BUSYBOX_DOCKERFILE)), custom_context=True,
                               tag="aics-test/busybox:latest", rm=True, decode=True):
            assert "error" not in chunk, chunk
        name = unique_name("pod")
        api.create_container("aics-test/busybox:latest", command=["sleep", "60"], name=name,
                             labels=test_labels)
    finally:
        api.close()
    target = make_target(EngineSpec(podman))
    assert probe(target).version.startswith(("4.", "5."))
    engine = Engine(target)
    try:
        rows = engine.list_containers()
        assert [(c.name, c.state) for c in rows] == [(name, "created")]
        assert any(i.reference.endswith("aics-test/busybox:latest") for i in engine.list_images())
    finally:
        engine.close()
