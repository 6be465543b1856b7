"""Which engine the app talks to: --engine, DOCKER_HOST, Docker context, default socket."""

import hashlib
import json

from gui.engine import resolve_engine


def test_explicit_url_wins(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:1")
    t = resolve_engine("/run/podman/podman.sock")
    assert (t.url, t.source) == ("unix:///run/podman/podman.sock", "--engine")


def test_docker_host_next(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:2375")
    t = resolve_engine()
    assert (t.url, t.source) == ("tcp://127.0.0.1:2375", "DOCKER_HOST")


def test_current_docker_context(monkeypatch, tmp_path):
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    (tmp_path / "config.json").write_text(json.dumps({"currentContext": "remote"}))
    meta = tmp_path / "contexts" / "meta" / hashlib.sha256(b"remote").hexdigest()
    meta.mkdir(parents=True)
    (meta / "meta.json").write_text(json.dumps({
        "Name": "remote", "Metadata": {},
        "Endpoints": {"docker": {"Host": "ssh://me@build-box", "SkipTLSVerify": False}}}))
    t = resolve_engine()
    assert (t.url, t.source) == ("ssh://me@build-box", "context remote")


def test_default_socket_when_nothing_is_set(monkeypatch, tmp_path):
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))
    t = resolve_engine()
    assert t.url.startswith("unix://") or t.url.startswith("npipe://")
