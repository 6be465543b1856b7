"""Registry credentials kept the way the Docker CLI keeps them, so `docker` and the app share logins.

They live in ``$DOCKER_CONFIG/config.json`` (default ``~/.docker/config.json``): either inline as
``auths[registry].auth = base64(user:password)``, or, when ``credHelpers[registry]`` or ``credsStore``
names a helper, in ``docker-credential-<helper>`` (``store``/``get``/``erase`` with JSON on stdin and
stdout). Never in the app's own settings.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from gui.engine.errors import EngineError

DOCKER_HUB_KEY = "https://index.docker.io/v1/"
_HUB_NAMES = {"", "docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"}
HELPER_TIMEOUT = 30  # seconds; a keychain helper may ask the desktop to unlock


class CredentialError(EngineError):
    """Reading or writing stored credentials failed; ``str()`` says why, for the user."""

    def __init__(self, message: str):
        super().__init__(message, "credentials")


@dataclass(frozen=True)
class Credentials:
    registry: str  # the key in config.json: "127.0.0.1:5000", or DOCKER_HUB_KEY
    username: str
    password: str = field(default="", repr=False)
    identity_token: str = field(default="", repr=False)

    def auth_config(self) -> dict:
        """What docker-py sends as X-Registry-Auth."""
        if self.identity_token:
            return {"identitytoken": self.identity_token, "serveraddress": self.registry}
        return {"username": self.username, "password": self.password, "serveraddress": self.registry}


def config_dir() -> Path:
    return Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker")


def config_path() -> Path:
    return config_dir() / "config.json"


def registry_key(registry: str) -> str:
    """The config.json key for a registry: host[:port], or the CLI's Docker Hub key."""
    text = (registry or "").strip()
    if text == DOCKER_HUB_KEY:
        return text
    for scheme in ("https://", "http://"):
        text = text.removeprefix(scheme)
    host = text.split("/", 1)[0].lower()
    return DOCKER_HUB_KEY if host in _HUB_NAMES else host


def _load_config() -> dict:
    path = config_path()
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise CredentialError(f"Cannot read {path}: {exc}") from None
    if not isinstance(data, dict):
        raise CredentialError(f"{path} does not hold a JSON object.")
    return data


def _save_config(data: dict) -> None:
    path = config_path()
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".config.json.", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, indent="\t")
                fh.write("\n")
            os.chmod(tmp, 0o600)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError as exc:
        raise CredentialError(f"Cannot write {path}: {exc}") from None


def helper_for(registry: str, config: dict | None = None) -> str | None:
    """The credential helper that holds this registry's secret, or None for config.json itself."""
    config = _load_config() if config is None else config
    key = registry_key(registry)
    helpers = config.get("credHelpers") or {}
    return helpers.get(key) or config.get("credsStore") or None


def _run_helper(helper: str, action: str, payload: str) -> str:
    program = f"docker-credential-{helper}"
    try:
        done = subprocess.run([program, action], input=payload, capture_output=True, text=True,
                              timeout=HELPER_TIMEOUT)
    except FileNotFoundError:
        raise CredentialError(f"The credential helper {program} named in {config_path()} is not "
                              "installed (or not on PATH).") from None
    except subprocess.TimeoutExpired:
        raise CredentialError(f"The credential helper {program} did not answer in {HELPER_TIMEOUT} s.") from None
    if done.returncode != 0:
        reason = (done.stdout.strip() or done.stderr.strip() or f"exit status {done.returncode}")
        if action == "get" and "credentials not found" in reason.lower():
            return ""
        raise CredentialError(f"The credential helper {program} failed to {action}: {reason}")
    return done.stdout


def _decode_auth(key: str, entry: dict) -> Credentials | None:
    encoded = entry.get("auth") or ""
    token = entry.get("identitytoken") or ""
    if not encoded and not token:
        return None
    try:
        user, _, password = base64.b64decode(encoded).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise CredentialError(f"The login for {key} in {config_path()} is not valid base64.") from None
    return Credentials(key, user, password, token)


def load(registry: str) -> Credentials | None:
    """The stored login for a registry, or None."""
    key = registry_key(registry)
    config = _load_config()
    helper = helper_for(key, config)
    if helper:
        out = _run_helper(helper, "get", key)
        if not out.strip():
            return None
        try:
            got = json.loads(out)
        except ValueError:
            raise CredentialError(f"docker-credential-{helper} answered something that is not JSON.") from None
        user, secret = got.get("Username") or "", got.get("Secret") or ""
        if user == "<token>":  # how the CLI keeps an identity token in a helper
            return Credentials(key, "", "", secret)
        return Credentials(key, user, secret)
    entry = (config.get("auths") or {}).get(key)
    if entry is None:  # entries written by hand may carry a scheme or path
        for other, value in (config.get("auths") or {}).items():
            if registry_key(other) == key:
                entry = value
                break
    return _decode_auth(key, entry) if entry else None


def store(creds: Credentials) -> str:
    """Save a login; returns where it went (the config file or the helper) for the user."""
    key = registry_key(creds.registry)
    config = _load_config()
    helper = helper_for(key, config)
    auths = config.setdefault("auths", {})
    if helper:
        user, secret = ("<token>", creds.identity_token) if creds.identity_token else (creds.username,
                                                                                     creds.password)
        _run_helper(helper, "store", json.dumps({"ServerURL": key, "Username": user, "Secret": secret}))
        auths[key] = {}  # the CLI keeps an empty entry so `docker` knows the registry is logged in
        _save_config(config)
        return f"docker-credential-{helper}"
    entry: dict = {"auth": base64.b64encode(f"{creds.username}:{creds.password}".encode()).decode()}
    if creds.identity_token:
        entry = {"auth": base64.b64encode(f"{creds.username}:".encode()).decode(),
                 "identitytoken": creds.identity_token}
    auths[key] = entry
    _save_config(config)
    return str(config_path())


def erase(registry: str) -> None:
    """Log out: forget the stored login (what ``docker logout`` does)."""
    key = registry_key(registry)
    config = _load_config()
    helper = helper_for(key, config)
    if helper:
        _run_helper(helper, "erase", key)
    auths = config.get("auths") or {}
    if key in auths:
        del auths[key]
        _save_config(config)


def logged_in_registries() -> list[str]:
    return sorted((_load_config().get("auths") or {}).keys())
