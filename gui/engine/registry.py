"""Pull, push and log in to registries, with per-layer progress and errors a person understands.

``Transfer`` is an iterable of LayerProgress / TransferStatus records ending with one
TransferResult; ``close()`` from any thread cancels it by closing the engine's HTTP response
(docker-py has no cancel for pull and push), which makes the engine abort the transfer.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from gui.engine import credentials
from gui.engine.client import Engine
from gui.engine.errors import EngineError, is_engine_fault, translate
from gui.engine.reference import ImageReference, ReferenceError, parse_reference
from gui.engine.streams import CancellableStream, close_response

LAYER_ID = re.compile(r"[0-9a-f]{12}")
DONE_STATUSES = ("Pull complete", "Already exists", "Pushed", "Layer already exists", "Mounted from")


@dataclass(frozen=True)
class LayerProgress:
    """One layer's state: ``status`` is the engine's word (Downloading, Extracting, Pushing, Pushed ...)."""

    id: str
    status: str
    current: int = 0
    total: int = 0

    @property
    def done(self) -> bool:
        return self.status.startswith(DONE_STATUSES)


@dataclass(frozen=True)
class TransferStatus:
    """A line about the whole transfer ("Pulling from team/model", "Digest: sha256:...")."""

    message: str


@dataclass(frozen=True)
class TransferResult:
    kind: str  # "pull" or "push"
    reference: str
    digest: str
    image_id: str


def _target(kind: str, text: str) -> ImageReference:
    ref = parse_reference(text)
    if kind == "push" and ref.digest:
        raise ReferenceError(f"“{text}”: push a tag, not a digest (such as {ref.familiar_name}:v1).")
    return ref.with_default_tag()


def readable_error(message: str, registry: str = "") -> str:
    """The engine's registry error as a sentence; its own words follow in brackets where they help."""
    text = (message or "").strip()
    host = registry
    m = re.search(r"dial tcp ([^\s:]+(?::\d+)?|\[[^\]]+\]:\d+)", text) or re.search(r'"https?://([^/"]+)', text)
    if m:
        host = m.group(1)
    where = f" at {host}" if host else ""
    low = text.lower()
    if "connection refused" in low:
        return f"no registry answers{where}: is it running? (connection refused)"
    if "no such host" in low or "server misbehaving" in low:
        return f"no registry answers{where}: the name does not resolve (no such host)"
    if "i/o timeout" in low or "timeout exceeded" in low or "deadline exceeded" in low:
        return f"no registry answers{where} in time: check the address and the network (timeout)"
    if "network is unreachable" in low or "no route to host" in low:
        return f"no registry answers{where}: the network is unreachable"
    if "server gave http response to https client" in low:
        return (f"The registry{where} speaks plain HTTP but the engine expects HTTPS: add it to "
                "insecure-registries in the engine's daemon.json, or give the registry TLS.")
    if "x509:" in low or "certificate" in low and "tls" in low:
        return (f"The engine does not trust the registry's certificate{where}: put its CA in "
                f"/etc/docker/certs.d/{host or '<registry>'}/ca.crt on the engine's host ({text})")
    if "401 unauthorized" in low or "incorrect username or password" in low:
        return f"Wrong user name or password for {host or 'the registry'}."
    if "no basic auth credentials" in low or "authentication required" in low:
        return f"{host or 'The registry'} asks for a login: log in to it first."
    if "denied" in low:
        return f"{host or 'The registry'} denied access: log in, or check you may use this repository ({text})"
    if "an image does not exist locally with the tag" in low:
        return f"There is no local image to push: {text.split(':', 1)[-1].strip()}. Tag an image with that name first."
    if "manifest unknown" in low or "not found" in low or "name unknown" in low:
        return f"Not found{where}: check the repository and tag ({text})"
    return text[:1].upper() + text[1:] if text else "The registry transfer failed."


def _error(exc: BaseException, engine: Engine, registry: str) -> EngineError:
    err = translate(exc, engine.url)
    if err.kind in ("api", "not_found", "bad_request") and err.status is not None:
        return EngineError(readable_error(err.message, registry), err.kind, err.status)
    return err


class Transfer(CancellableStream):
    """One pull or push. Iterate (on a worker thread) for progress; ``close()`` cancels it.

    The reference is checked when the Transfer is made, so a bad one fails before any call
    (ReferenceError). Stored credentials for the registry are used unless others are given.
    """

    def __init__(self, engine: Engine, kind: str, reference: str,
                 login: credentials.Credentials | None = None):
        if kind not in ("pull", "push"):
            raise ValueError(f"kind must be pull or push, not {kind!r}")
        super().__init__()
        self.engine = engine
        self.kind = kind
        self.reference = _target(kind, reference)
        self._login = login

    def _cut(self, held) -> None:
        # Closing the response makes the engine abort the transfer; docker-py's reader of it
        # takes a closed response as the end (unlike the fast log reader).
        api, response = held
        if response is not None:
            close_response(response)
        try:
            api.close()
        except Exception:  # best effort: close() (from any thread) never raises
            pass

    def _hold_responses_of(self, api) -> None:
        # Hold (client, response): close() closes the client too, even before the engine answers.
        self._hold((api, None))

        def hook(response, *args, **kwargs):
            self._hold((api, response))

        api.hooks["response"].append(hook)

    def _open(self, api):
        ref = self.reference
        login = self._login or credentials.load(ref.domain)
        auth = login.auth_config() if login else None
        tag = ref.digest or ref.tag
        if self.kind == "pull":
            return api.pull(ref.familiar_name, tag=tag, stream=True, decode=True, auth_config=auth)
        return api.push(ref.familiar_name, tag=tag, stream=True, decode=True, auth_config=auth)

    def __iter__(self) -> Iterator[LayerProgress | TransferStatus | TransferResult]:
        registry = self.reference.domain
        digest = ""
        try:
            api = self.engine.stream_api()
        except Exception as exc:
            if not is_engine_fault(exc):  # a bug: to the crash reporter, not "the engine failed"
                raise
            raise translate(exc, self.engine.url) from None
        self._hold_responses_of(api)
        try:
            if self.closed:
                return
            try:
                stream = self._open(api)
                for chunk in stream:
                    if self.closed:
                        return
                    if chunk.get("error"):
                        raise EngineError(readable_error(chunk["error"], registry), "registry")
                    digest = _digest_of(chunk) or digest
                    item = _item(chunk)
                    if item is not None:
                        yield item
            except (EngineError, ReferenceError):
                raise
            except Exception as exc:  # whatever closing the response under docker-py made it raise, first
                if self.closed:
                    return
                if not is_engine_fault(exc):
                    raise
                raise _error(exc, self.engine, registry) from None
            if self.closed:
                return
            if self.kind == "pull" and not digest:
                raise EngineError(f"The pull of {self.reference} ended early: the engine closed the stream.",
                                  "registry")
            image = self.engine.call(lambda a: a.inspect_image(str(self.reference)))
            yield TransferResult(self.kind, str(self.reference), digest, image["Id"])
        finally:
            self._let_go()
            api.close()


def _digest_of(chunk: dict) -> str:
    aux = chunk.get("aux") or {}
    if aux.get("Digest"):
        return aux["Digest"]
    m = re.search(r"digest: (sha256:[0-9a-f]{64})", chunk.get("status") or "", re.IGNORECASE)
    return m.group(1) if m else ""


def _item(chunk: dict) -> LayerProgress | TransferStatus | None:
    status = chunk.get("status") or ""
    ident = chunk.get("id") or ""
    if ident and LAYER_ID.fullmatch(ident):
        detail = chunk.get("progressDetail") or {}
        return LayerProgress(ident, status, int(detail.get("current") or 0), int(detail.get("total") or 0))
    if status:
        return TransferStatus(f"{ident}: {status}" if ident else status)
    return None


def pull(engine: Engine, reference: str, login: credentials.Credentials | None = None) -> Transfer:
    return Transfer(engine, "pull", reference, login)


def push(engine: Engine, reference: str, login: credentials.Credentials | None = None) -> Transfer:
    return Transfer(engine, "push", reference, login)


def login(engine: Engine, registry: str, username: str, password: str,
          still_wanted=lambda: True) -> tuple[credentials.Credentials, str]:
    """Check a login with the registry through the engine, then store it as the Docker CLI does.

    Returns the credentials and where they were saved. Nothing is saved when the registry refuses,
    or when ``still_wanted()`` says the user cancelled while the registry was asked.
    """
    key = credentials.registry_key(registry)
    if not username or not password:
        raise EngineError("Enter a user name and a password.", "bad_request")
    host = "" if key == credentials.DOCKER_HUB_KEY else key
    if host and not re.fullmatch(r"[A-Za-z0-9.\-]+(:\d+)?|\[[0-9a-fA-F:]+\](:\d+)?", host):
        raise EngineError(f"“{registry}” is not a registry address (such as registry.example.com:5000).",
                          "bad_request")
    try:
        answer = engine.call(lambda api: api.login(username, password, registry=key, reauth=True))
    except EngineError as exc:
        raise EngineError(readable_error(exc.message, host or "Docker Hub"), exc.kind, exc.status) from None
    token = (answer or {}).get("IdentityToken") or ""
    creds = credentials.Credentials(key, username, "" if token else password, token)
    if not still_wanted():
        raise EngineError("The log-in was cancelled; nothing was saved.", "cancelled")
    where = credentials.store(creds)
    return creds, where
