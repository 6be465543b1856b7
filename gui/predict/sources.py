"""Where pictures to predict come from (files, folders, web URLs, raw bytes) and reading their bytes.

``PictureSource`` records are made on the UI thread without reading anything (see gui/qt/predict/sources.py
for drops and pastes); ``read_source``, ``fetch_url`` and ``expand_folder`` block and run on workers.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import requests

from gui.predict.errors import PredictError

MAX_BYTES = 64 * 1024 * 1024  # a file or download bigger than this is refused before it is read
FETCH_TIMEOUT = 15.0
MAX_FOLDER_FILES = 5000


@dataclass(frozen=True)
class PictureSource:
    """One thing to predict. Exactly one of ``path``, ``url``, ``data`` or ``folder`` is set, or ``problem``
    says why the dropped item cannot be used."""

    name: str
    path: str = ""
    url: str = ""
    data: bytes | None = None
    folder: str = ""
    problem: str = ""


def url_name(url: str) -> str:
    parts = urlsplit(url)
    tail = unquote(parts.path.rstrip("/").rsplit("/", 1)[-1])
    return tail or parts.hostname or url


def source_for(text: str, local_path: str = "") -> PictureSource:
    """The source for one dropped or pasted URL: ``local_path`` for a file URL, else its ``text``."""
    if local_path:
        if os.path.isdir(local_path):
            return PictureSource(name=os.path.basename(local_path.rstrip(os.sep)) or local_path, folder=local_path)
        return PictureSource(name=os.path.basename(local_path) or local_path, path=local_path)
    scheme = urlsplit(text).scheme.lower()
    if scheme in ("http", "https"):
        return PictureSource(name=url_name(text), url=text)
    if scheme == "data":
        head, _, payload = text.partition(",")
        if head.startswith("data:image/") and head.endswith(";base64"):
            try:
                return PictureSource(name="picture from a data URL", data=base64.b64decode(payload))
            except ValueError:
                pass
        return PictureSource(name="data URL", problem="a data: URL that holds no base64 picture")
    return PictureSource(name=text[:80], problem=f"cannot fetch {scheme or 'this'}: URLs, only http(s) and files")


# -- blocking work, for worker threads --------------------------------------------------


def _size_text(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n / 1024:.0f} kB"


def expand_folder(folder: str, limit: int = MAX_FOLDER_FILES) -> list[PictureSource]:
    """The files in ``folder`` and its sub-folders (hidden ones skipped), sorted, at most ``limit``."""
    found: list[PictureSource] = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith("."):
                continue
            path = os.path.join(root, name)
            found.append(PictureSource(name=os.path.relpath(path, os.path.dirname(folder.rstrip(os.sep))),
                                       path=path))
            if len(found) >= limit:
                return found
    return found


def read_source(src: PictureSource, limit: int | None = None, timeout: float = FETCH_TIMEOUT) -> bytes:
    """The bytes of one source (at most ``limit``, default ``MAX_BYTES``); a ``PredictError(kind="picture")``
    says why they cannot be had."""
    limit = MAX_BYTES if limit is None else limit
    if src.problem:
        raise PredictError(src.problem, kind="picture")
    if src.data is not None:
        return src.data
    if src.path:
        try:
            size = os.path.getsize(src.path)
            if size > limit:
                raise PredictError(f"file too large: {_size_text(size)}, over the {_size_text(limit)} limit",
                                   kind="picture")
            with open(src.path, "rb") as fh:
                return fh.read(limit + 1)
        except FileNotFoundError:
            raise PredictError("the file is gone (moved or deleted after the drop)", kind="picture") from None
        except IsADirectoryError:
            raise PredictError("a folder, not a file", kind="picture") from None
        except PermissionError:
            raise PredictError("no permission to read this file", kind="picture") from None
        except OSError as exc:
            raise PredictError(f"cannot read the file: {exc.strerror or exc}", kind="picture") from None
    if src.url:
        return fetch_url(src.url, limit, timeout)
    raise PredictError("nothing to read", kind="picture")


def fetch_url(url: str, limit: int | None = None, timeout: float = FETCH_TIMEOUT) -> bytes:
    """Download ``url`` (at most ``limit`` bytes, default ``MAX_BYTES``; ``timeout`` per read)."""
    limit = MAX_BYTES if limit is None else limit
    try:
        with requests.get(url, stream=True, timeout=timeout) as resp:
            if resp.status_code >= 400:
                raise PredictError(f"download failed: {url} answered {resp.status_code} {resp.reason}",
                                   kind="picture")
            declared = int(resp.headers.get("Content-Length") or 0)
            if declared > limit:
                raise PredictError(f"download too large: {_size_text(declared)}, over the "
                                   f"{_size_text(limit)} limit", kind="picture")
            buf = bytearray()
            for chunk in resp.iter_content(256 * 1024):
                buf += chunk
                if len(buf) > limit:
                    raise PredictError(f"download too large: over the {_size_text(limit)} limit",
                                       kind="picture")
            return bytes(buf)
    except requests.Timeout:
        raise PredictError(f"download timed out after {timeout:g} s: {url}", kind="picture") from None
    except requests.RequestException as exc:
        raise PredictError(f"download failed: {type(exc).__name__} for {url}", kind="picture") from None
