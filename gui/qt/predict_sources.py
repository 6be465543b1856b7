"""Where dropped pictures come from: files, folders, web URLs, raw image data; and reading their bytes.

``sources_from_mime`` turns a drop or a paste into ``PictureSource`` records on the UI thread without
reading anything; ``read_source``, ``expand_folder`` and ``make_thumbnail`` block and run on workers.
"""

from __future__ import annotations

import base64
import io
import os
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import requests
from PIL import Image, UnidentifiedImageError
from PySide6.QtCore import QBuffer, QIODevice, QMimeData, QUrl
from PySide6.QtGui import QImage

from gui.predict import MAX_PIXELS, PredictError

MAX_BYTES = 64 * 1024 * 1024  # a file or download bigger than this is refused before it is read
FETCH_TIMEOUT = 15.0
MAX_FOLDER_FILES = 5000
THUMB_SIZE = 176
# Raw picture formats a browser or an image viewer may put on a drag or the clipboard, best first.
IMAGE_FORMATS = ("image/png", "image/jpeg", "image/webp", "image/gif", "image/bmp", "image/tiff")


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


def _url_name(url: str) -> str:
    parts = urlsplit(url)
    tail = unquote(parts.path.rstrip("/").rsplit("/", 1)[-1])
    return tail or parts.hostname or url


def source_for_url(url: QUrl) -> PictureSource:
    if url.isLocalFile():
        path = url.toLocalFile()
        if os.path.isdir(path):
            return PictureSource(name=os.path.basename(path.rstrip(os.sep)) or path, folder=path)
        return PictureSource(name=os.path.basename(path) or path, path=path)
    text = url.toString()
    scheme = url.scheme().lower()
    if scheme in ("http", "https"):
        return PictureSource(name=_url_name(text), url=text)
    if scheme == "data":
        head, _, payload = text.partition(",")
        if head.startswith("data:image/") and head.endswith(";base64"):
            try:
                return PictureSource(name="picture from a data URL", data=base64.b64decode(payload))
            except ValueError:
                pass
        return PictureSource(name="data URL", problem="a data: URL that holds no base64 picture")
    return PictureSource(name=text[:80], problem=f"cannot fetch {scheme or 'this'}: URLs, only http(s) and files")


def _qimage_png(image: QImage) -> bytes:
    buf = QBuffer()
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buf, "PNG")
    return bytes(buf.data())


def sources_from_mime(mime: QMimeData, origin: str = "dropped") -> list[PictureSource]:
    """What a drop or a paste holds, without reading any file or URL.

    Files and folders win; then raw picture bytes (a browser puts them next to the picture's URL, and they
    need no download); then web URLs; then an image the clipboard only has as pixels.
    """
    urls = [u for u in mime.urls() if u.isValid()] if mime.hasUrls() else []
    if urls and all(u.isLocalFile() for u in urls):
        return [source_for_url(u) for u in urls]
    for fmt in IMAGE_FORMATS:
        if mime.hasFormat(fmt):
            data = bytes(mime.data(fmt))
            if data:
                name = _url_name(urls[0].toString()) if urls else f"{origin} picture.{fmt.split('/')[1]}"
                return [PictureSource(name=name, data=data)]
    if urls:
        return [source_for_url(u) for u in urls]
    if mime.hasImage():
        image = mime.imageData()
        if isinstance(image, QImage) and not image.isNull():
            return [PictureSource(name=f"{origin} picture.png", data=_qimage_png(image))]
    if mime.hasText():
        text = mime.text().strip()
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        if lines and all(ln.lower().startswith(("http://", "https://", "file:/")) for ln in lines):
            return [source_for_url(QUrl(ln)) for ln in lines]
    return []


def can_accept(mime: QMimeData) -> bool:
    return bool(mime.hasUrls() or mime.hasImage() or any(mime.hasFormat(f) for f in IMAGE_FORMATS)
                or (mime.hasText() and mime.text().strip().lower().startswith(("http://", "https://"))))


# -- blocking work, for worker threads ---------------------------------------------------------------------


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


def make_thumbnail(data: bytes, size: int = THUMB_SIZE) -> QImage | None:
    """A small QImage of the picture, or None when it is no picture or too large to decode safely.

    JPEGs are decoded straight at a reduced size by the decoder; other pictures over ``MAX_PIXELS`` are not
    decoded at all. Safe on any thread (QImage, unlike QPixmap, needs no GUI thread).
    """
    if not data:
        return None
    try:
        img = Image.open(io.BytesIO(data))
        w, h = img.size
        if img.format == "JPEG":
            img.draft("RGB", (size, size))
        elif w * h > MAX_PIXELS:
            return None
        img.thumbnail((size, size), Image.Resampling.BILINEAR, reducing_gap=2.0)
        img = img.convert("RGBA")
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError, SyntaxError):
        return None
    raw = img.tobytes()
    qimg = QImage(raw, img.width, img.height, img.width * 4, QImage.Format.Format_RGBA8888)
    return qimg.copy()  # own the pixels: ``raw`` goes away


def mime_for_files(paths: list[str]) -> QMimeData:
    """QMimeData holding file URLs, as a file manager puts on a drag."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(p) for p in paths])
    return mime


__all__ = [
    "IMAGE_FORMATS",
    "MAX_BYTES",
    "PictureSource",
    "can_accept",
    "expand_folder",
    "fetch_url",
    "make_thumbnail",
    "mime_for_files",
    "read_source",
    "sources_from_mime",
]
