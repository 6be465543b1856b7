"""Thumbnails on a worker thread: every format the serving images read, with its decoder named from the
picture's first bytes (Qt's plugin probing took Qt's connection lock under Python's lock: a deadlock)."""

from __future__ import annotations

import io
import threading

import pytest
from PIL import Image
from PySide6.QtGui import QImageReader

from gui.qt.predict.sources import THUMB_SIZE, make_thumbnail, picture_format


def encoded(fmt: str, size=(640, 480)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 40)).save(out, fmt)
    return out.getvalue()


@pytest.mark.parametrize("fmt, qt", [("JPEG", b"jpeg"), ("PNG", b"png"), ("GIF", b"gif"), ("BMP", b"bmp"),
                                     ("WEBP", b"webp"), ("TIFF", b"tiff")])
def test_each_served_format_gets_a_small_thumbnail_on_a_worker(qapp, fmt, qt):
    if qt not in [bytes(f) for f in QImageReader.supportedImageFormats()]:
        pytest.fail(f"Qt reads no {qt.decode()} here")
    data = encoded(fmt)
    assert picture_format(data) == qt
    got = []
    worker = threading.Thread(target=lambda: got.append(make_thumbnail(data)))
    worker.start()
    worker.join(10)
    image = got[0]
    assert image is not None and max(image.width(), image.height()) <= THUMB_SIZE
    assert image.pixelColor(10, 10).red() > 150


def test_what_is_no_served_picture_gets_no_thumbnail_and_no_probe(qapp):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'
    for data in (b"", b"hello", svg, b"RIFF\x00\x00\x00\x00WAVEfmt "):
        assert picture_format(data) is None and make_thumbnail(data) is None
