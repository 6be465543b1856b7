"""HTTP for the prediction clients: one ``requests.Session`` per thread, a timeout, plain-spoken errors."""

from __future__ import annotations

import json
import threading
import time
from urllib.parse import urlsplit

import requests

from gui.predict.errors import PredictError

DEFAULT_TIMEOUT = 10.0  # seconds


def normalize_url(url: str) -> str:
    """``"127.0.0.1:8080/"`` -> ``"http://127.0.0.1:8080"``; refuses what is no http(s) URL."""
    url = url.strip()
    if "://" not in url:
        url = "http://" + url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PredictError(f"not a server address: {url!r} (expected http://host:port)", kind="input")
    return url.rstrip("/")


def _refused(exc: BaseException) -> bool:
    seen = set()
    stack = [exc]
    while stack:
        e = stack.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, ConnectionRefusedError) or "Connection refused" in str(e):
            return True
        stack.extend(a for a in getattr(e, "args", ()) if isinstance(a, BaseException))
        for nxt in (e.__cause__, e.__context__, getattr(e, "reason", None)):
            if isinstance(nxt, BaseException):
                stack.append(nxt)
    return False


def error_text(body: bytes, limit: int = 300) -> str:
    """The error a server put in its answer: JSON ``error``/``detail``/``message``, else the text."""
    try:
        doc = json.loads(body)
    except ValueError:
        doc = None
    if isinstance(doc, dict):
        for key in ("error", "detail", "message"):
            if doc.get(key):
                value = doc[key]
                return value if isinstance(value, str) else json.dumps(value)[:limit]
    text = body.decode("utf-8", "replace").strip()
    if text.startswith("Traceback"):  # a server that leaks its traceback: its last line says what failed
        text = text.splitlines()[-1].strip()
    return (text[:limit] + "…") if len(text) > limit else (text or "(empty answer)")


class Transport:
    """Requests to one server. Safe to share between threads: each thread gets its own session."""

    def __init__(self, base_url: str, timeout: float = DEFAULT_TIMEOUT):
        self.base_url = normalize_url(base_url)
        self.timeout = timeout
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._lock = threading.Lock()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.trust_env = False  # a proxy from the environment must not catch 127.0.0.1
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        return session

    def close(self) -> None:
        with self._lock:
            sessions, self._sessions = self._sessions, []
        for s in sessions:
            s.close()
        self._local = threading.local()

    def request(self, method: str, path: str, **kwargs) -> tuple[requests.Response, float]:
        """Send one request; returns the successful response and the round trip in milliseconds."""
        url = self.base_url + path
        start = time.perf_counter()
        try:
            resp = self._session().request(method, url, timeout=self.timeout, **kwargs)
            body = resp.content
        except requests.Timeout:
            raise PredictError(
                f"the server at {self.base_url} timed out after {self.timeout:g} s", kind="timeout"
            ) from None
        except requests.ConnectionError as exc:
            if _refused(exc):
                msg = f"the server at {self.base_url} refused the connection: is the container running?"
            else:
                msg = f"lost the connection to the server at {self.base_url}: {_short(exc)}"
            raise PredictError(msg, kind="connection") from None
        except requests.exceptions.ChunkedEncodingError:  # the answer was cut off mid-body
            raise PredictError(
                f"lost the connection to the server at {self.base_url} in the middle of its answer: "
                "did the container stop?", kind="connection") from None
        except requests.RequestException as exc:
            raise PredictError(f"request to {url} failed: {_short(exc)}", kind="connection") from None
        ms = (time.perf_counter() - start) * 1000.0
        if resp.status_code >= 400:
            raise PredictError(
                f"server answered {resp.status_code}: {error_text(body)}",
                kind="http",
                status=resp.status_code,
            )
        return resp, ms

    def get_json(self, path: str) -> dict:
        resp, _ = self.request("GET", path)
        return parse_json(resp)

    def post_json(self, path: str, doc, params=None, any_json: bool = False) -> tuple[dict, float]:
        resp, ms = self.request(
            "POST", path, data=json.dumps(doc), params=params, headers={"Content-Type": "application/json"}
        )
        return parse_json(resp, any_json), ms


def parse_json(resp: requests.Response, any_json: bool = False) -> dict:
    try:
        doc = resp.json()
    except ValueError:
        raise PredictError(
            f"the server's answer is not JSON: {error_text(resp.content, 120)!r}", kind="answer"
        ) from None
    if not isinstance(doc, dict) and not any_json:
        raise PredictError(f"the server's answer is not a JSON object: {str(doc)[:120]}", kind="answer")
    return doc


def _short(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) < 200 else text[:200] + "…"
