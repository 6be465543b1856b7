"""Drops and pastes on the Predict page: what a QMimeData holds, as ``PictureSource`` records, and thumbnails.

Nothing here reads a file or a URL; ``gui.predict.sources`` does that on workers.
"""

from __future__ import annotations

import io

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMimeData, QSize, Qt, QUrl
from PySide6.QtGui import QImage, QImageReader

from gui.predict import MAX_PIXELS
from gui.predict.sources import PictureSource, source_for, url_name

THUMB_SIZE = 176
# Raw picture formats a browser or an image viewer may put on a drag or the clipboard, best first.
IMAGE_FORMATS = ("image/png", "image/jpeg", "image/webp", "image/gif", "image/bmp", "image/tiff")


def source_for_url(url: QUrl) -> PictureSource:
    return source_for(url.toString(), url.toLocalFile() if url.isLocalFile() else "")


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
                name = url_name(urls[0].toString()) if urls else f"{origin} picture.{fmt.split('/')[1]}"
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


_SIGNATURES = (
    (b"\xff\xd8\xff", b"jpeg"),
    (b"\x89PNG\r\n\x1a\n", b"png"),
    (b"GIF87a", b"gif"),
    (b"GIF89a", b"gif"),
    (b"BM", b"bmp"),
    (b"II*\x00", b"tiff"),
    (b"MM\x00*", b"tiff"),
)


def picture_format(data: bytes) -> bytes | None:
    """Qt's name for the decoder of ``data`` from its first bytes (the formats the serving images read:
    JPEG, PNG, GIF, BMP, WebP, TIFF), or None."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return b"webp"
    return next((fmt for magic, fmt in _SIGNATURES if data.startswith(magic)), None)


def make_thumbnail(data: bytes, size: int | QSize = THUMB_SIZE) -> QImage | None:
    """A small QImage of the picture (fitting a ``size`` square, or box), or None when it is no picture or
    too large to decode safely.

    Qt's decoders do it (QImageReader with a scaled size: JPEGs are decoded straight at a reduced size by
    libjpeg), in C++, so the UI thread is not kept waiting for it as long: with Pillow the
    four workers held the lock long enough to delay the UI thread by tens of ms (p99 16 ms against 3-8 ms
    here, 2 cores, 2 workers making thumbnails of 1-12 MP photos). Other pictures over ``MAX_PIXELS`` are
    not decoded at all. Safe on any thread (QImage, unlike QPixmap, needs no GUI thread).
    """
    box = QSize(size, size) if isinstance(size, int) else size
    fmt = picture_format(data)
    if fmt is None:
        return None
    if fmt == b"tiff":
        return _pillow_thumbnail(data, box)
    buf = QBuffer()
    buf.setData(QByteArray(data))
    buf.open(QIODevice.OpenModeFlag.ReadOnly)
    # The decoder is named, never probed for: probing asks every image plugin, and the SVG plugin's probe
    # makes a QTextStream, whose connect() takes Qt's connection lock while this thread holds Python's
    # lock. The UI thread disconnecting a signal at that moment holds the one and waits for the other:
    # the whole app froze (seen in CI, a 1000-picture batch).
    reader = QImageReader(buf, fmt)
    reader.setAutoDetectImageFormat(False)
    full = reader.size()
    if not full.isValid() or full.isEmpty():
        return None
    if bytes(reader.format()) not in (b"jpeg", b"jpg") and full.width() * full.height() > MAX_PIXELS:
        return None
    if full.width() > box.width() or full.height() > box.height():
        reader.setScaledSize(full.scaled(box, Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    return None if image.isNull() else image


def _pillow_thumbnail(data: bytes, box: QSize) -> QImage | None:
    """TIFF through Pillow: Qt's TIFF plugin brings its own libtiff, and in a process where Pillow's is
    loaded too (the upload is prepared with Pillow) decoding with it crashed the app."""
    from PIL import Image  # noqa: PLC0415  (only for TIFF drops)

    try:
        with Image.open(io.BytesIO(data)) as im:
            if im.width * im.height > MAX_PIXELS:
                return None
            im.thumbnail((box.width(), box.height()))
            rgba = im.convert("RGBA")
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    return QImage(rgba.tobytes(), rgba.width, rgba.height, QImage.Format.Format_RGBA8888).copy()


def mime_for_files(paths: list[str]) -> QMimeData:
    """QMimeData holding file URLs, as a file manager puts on a drag."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(p) for p in paths])
    return mime
