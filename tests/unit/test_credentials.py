"""Credentials in $DOCKER_CONFIG/config.json and through docker-credential-* helpers (the CLI's protocol)."""

from __future__ import annotations

import base64
import json
import os
import stat

import docker.auth
import pytest

from gui.engine import credentials
from gui.engine.credentials import DOCKER_HUB_KEY, CredentialError, Credentials

HELPER = """#!/bin/sh
# Records each call (action and stdin) and answers like a real helper, from a JSON file.
dir="$(dirname "$0")"
input="$(cat)"
printf '%s %s\\n' "$1" "$input" >> "$dir/calls.log"
case "$1" in
  store) printf '%s' "$input" > "$dir/stored.json" ;;
  get)
    if [ -f "$dir/stored.json" ] && grep -q "\\"ServerURL\\": \\"$input\\"" "$dir/stored.json"; then
      cat "$dir/stored.json"
    else
      echo "credentials not found in native keychain"; exit 1
    fi ;;
  erase) rm -f "$dir/stored.json" ;;
  *) echo "unknown action"; exit 2 ;;
esac
"""


@pytest.fixture
def config_dir(tmp_path, monkeypatch):
    path = tmp_path / "cfg"
    monkeypatch.setenv("DOCKER_CONFIG", str(path))
    return path


@pytest.fixture
def helper(tmp_path, monkeypatch):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    script = bindir / "docker-credential-fake"
    script.write_text(HELPER)
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}:{os.environ['PATH']}")
    return bindir


def read(config_dir) -> dict:
    return json.loads((config_dir / "config.json").read_text())


@pytest.mark.parametrize("given, key", [
    ("127.0.0.1:5000", "127.0.0.1:5000"),
    ("http://127.0.0.1:5000/", "127.0.0.1:5000"),
    ("https://Registry.Example.com/v2/", "registry.example.com"),
    ("", DOCKER_HUB_KEY),
    ("docker.io", DOCKER_HUB_KEY),
    ("index.docker.io", DOCKER_HUB_KEY),
    (DOCKER_HUB_KEY, DOCKER_HUB_KEY),
])
def test_registry_key_matches_the_cli(given, key):
    assert credentials.registry_key(given) == key


def test_default_location_is_home_docker(monkeypatch, tmp_path):
    monkeypatch.delenv("DOCKER_CONFIG", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert credentials.config_path() == tmp_path / ".docker" / "config.json"


def test_store_inline_keeps_other_settings_and_docker_py_reads_it(config_dir):
    config_dir.mkdir()
    (config_dir / "config.json").write_text(json.dumps({"detachKeys": "ctrl-x", "auths": {"a.io": {"auth": "eDp5"}}}))
    where = credentials.store(Credentials("http://127.0.0.1:5000", "alice", "pa:ss"))
    assert where == str(config_dir / "config.json")
    data = read(config_dir)
    assert data["detachKeys"] == "ctrl-x" and data["auths"]["a.io"] == {"auth": "eDp5"}
    assert data["auths"]["127.0.0.1:5000"] == {"auth": base64.b64encode(b"alice:pa:ss").decode()}
    assert stat.S_IMODE(os.stat(config_dir / "config.json").st_mode) == 0o600
    assert credentials.load("127.0.0.1:5000") == Credentials("127.0.0.1:5000", "alice", "pa:ss")
    got = docker.auth.resolve_authconfig(docker.auth.load_config(), "127.0.0.1:5000")
    assert (got["username"], got["password"]) == ("alice", "pa:ss")
    assert credentials.logged_in_registries() == ["127.0.0.1:5000", "a.io"]


def test_identity_token_is_stored_without_password(config_dir):
    credentials.store(Credentials("r.io", "bob", "", "tok-123"))
    assert read(config_dir)["auths"]["r.io"] == {"auth": base64.b64encode(b"bob:").decode(),
                                                 "identitytoken": "tok-123"}
    creds = credentials.load("r.io")
    assert creds.identity_token == "tok-123"
    assert creds.auth_config() == {"identitytoken": "tok-123", "serveraddress": "r.io"}


def test_load_missing_and_erase(config_dir):
    assert credentials.load("nowhere.io") is None
    credentials.store(Credentials("r.io", "u", "p"))
    credentials.erase("https://r.io")
    assert credentials.load("r.io") is None
    assert read(config_dir)["auths"] == {}


def test_entries_written_with_a_scheme_are_found(config_dir):
    config_dir.mkdir()
    (config_dir / "config.json").write_text(json.dumps({"auths": {"https://r.io/v1/": {"auth": "dTpw"}}}))
    assert credentials.load("r.io") == Credentials("r.io", "u", "p")


def test_broken_config_is_reported(config_dir):
    config_dir.mkdir()
    (config_dir / "config.json").write_text("{not json")
    with pytest.raises(CredentialError, match="Cannot read"):
        credentials.load("r.io")


def test_creds_store_helper_protocol(config_dir, helper):
    config_dir.mkdir()
    (config_dir / "config.json").write_text(json.dumps({"credsStore": "fake"}))
    where = credentials.store(Credentials("r.io:5000", "carol", "secret"))
    assert where == "docker-credential-fake"
    assert json.loads((helper / "stored.json").read_text()) == {
        "ServerURL": "r.io:5000", "Username": "carol", "Secret": "secret"}
    data = read(config_dir)
    assert data["auths"] == {"r.io:5000": {}}, "the secret must not land in config.json"
    assert credentials.load("r.io:5000") == Credentials("r.io:5000", "carol", "secret")
    assert credentials.load("other.io") is None  # "credentials not found" is not an error
    credentials.erase("r.io:5000")
    assert not (helper / "stored.json").exists()
    calls = (helper / "calls.log").read_text().splitlines()
    assert [c.split(" ", 1)[0] for c in calls] == ["store", "get", "get", "erase"]
    assert calls[1] == "get r.io:5000" and calls[3] == "erase r.io:5000"


def test_cred_helpers_win_for_their_registry(config_dir, helper):
    config_dir.mkdir()
    (config_dir / "config.json").write_text(json.dumps({"credHelpers": {"r.io": "fake"}}))
    assert credentials.store(Credentials("r.io", "d", "x")) == "docker-credential-fake"
    assert credentials.store(Credentials("plain.io", "e", "y")) == str(config_dir / "config.json")
    assert "auth" in read(config_dir)["auths"]["plain.io"]


def test_identity_token_through_a_helper(config_dir, helper):
    config_dir.mkdir()
    (config_dir / "config.json").write_text(json.dumps({"credsStore": "fake"}))
    credentials.store(Credentials("r.io", "bob", "", "tok"))
    assert json.loads((helper / "stored.json").read_text())["Username"] == "<token>"
    assert credentials.load("r.io").identity_token == "tok"


def test_missing_or_failing_helper_is_explained(config_dir, helper):
    config_dir.mkdir()
    (config_dir / "config.json").write_text(json.dumps({"credsStore": "absent"}))
    with pytest.raises(CredentialError, match="docker-credential-absent .* is not installed"):
        credentials.store(Credentials("r.io", "u", "p"))
    (helper / "docker-credential-broken").write_text("#!/bin/sh\necho keychain locked >&2\nexit 3\n")
    (helper / "docker-credential-broken").chmod(0o755)
    (config_dir / "config.json").write_text(json.dumps({"credsStore": "broken"}))
    with pytest.raises(CredentialError, match="failed to store: keychain locked"):
        credentials.store(Credentials("r.io", "u", "p"))
