"""The serving images' limits, in-process and fast (the same probes run against built images in
tests/engine/test_serving_hardening.py)."""

from __future__ import annotations

import io
import socket
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

SERVING = Path(__file__).resolve().parents[2] / "dockerfiles" / "_serving"
sys.path.insert(0, str(SERVING))

import connections  # noqa: E402
import pictures  # noqa: E402
import server  # noqa: E402
from service import RequestError  # noqa: E402


class Echo(connections.Application):
    """Answers every request with its body size; /slow takes 0.3 s in a worker."""

    def is_light(self, request):
        return request.target == "/light"

    def handle(self, request):
        if request.target == "/slow":
            time.sleep(0.3)
        return connections.Response(200, {"size": len(request.body)})


@pytest.fixture
def running():
    servers = []

    def start(**limits):
        srv = connections.HttpServer(("127.0.0.1", 0), Echo(), connections.Limits(**limits))
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        return srv.address[1]

    yield start
    for srv in servers:
        srv.shutdown()
        srv.server_close()


def talk(port: int, data: bytes, wait: float = 3.0) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as s:
        s.sendall(data)
        out = b""
        try:
            while chunk := s.recv(65536):
                out += chunk
        except OSError:
            pass
        return out


def test_two_content_lengths_are_400_and_the_rest_is_not_a_second_request(running):
    port = running()
    out = talk(
        port, b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 30\r\n\r\nxGET / HTTP/1.1\r\n\r\n"
    )
    assert out.startswith(b"HTTP/1.1 400 ") and out.count(b"HTTP/1.1") == 1, out


def test_http_1_0_keep_alive_says_so_and_stays_open(running):
    port = running()
    with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
        for _ in range(2):
            s.sendall(b"GET /light HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            out = s.recv(4096)
            assert b"200 OK" in out and b"Connection: keep-alive" in out, out


def test_a_short_body_gets_408_at_the_request_deadline(running):
    port = running(request_timeout=0.5)
    t0 = time.monotonic()
    out = talk(port, b"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc")
    assert out.startswith(b"HTTP/1.1 408 ") and time.monotonic() - t0 < 2, out


def test_connections_past_the_limit_get_503(running):
    port = running(max_connections=5)
    held = [socket.create_connection(("127.0.0.1", port)) for _ in range(5)]
    try:
        time.sleep(0.2)
        assert talk(port, b"GET /light HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.1 503 ")
    finally:
        for s in held:
            s.close()


def test_idle_connections_hold_no_worker(running):
    port = running(workers=2)
    before = set(threading.enumerate())
    held = [socket.create_connection(("127.0.0.1", port)) for _ in range(200)]
    try:
        for s in held:
            s.sendall(b"GET /slow HTTP/1.1\r\nX-Half: ")
        time.sleep(0.2)
        out = talk(port, b"POST /slow HTTP/1.1\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        # No thread was started for them (threads of earlier tests may still be ending: compare sets, not counts).
        assert out.startswith(b"HTTP/1.1 200 ") and not set(threading.enumerate()) - before
    finally:
        for s in held:
            s.close()


def test_ten_thousand_pipelined_requests_are_all_answered(running):
    port = running()
    data = b"GET /light HTTP/1.1\r\n\r\n" * 10_000 + b"GET /light HTTP/1.1\r\nConnection: close\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        sender = threading.Thread(target=s.sendall, args=(data,), daemon=True)
        sender.start()  # and read meanwhile: a client that only writes fills both buffers
        out = b""
        while chunk := s.recv(1 << 20):
            out += chunk
    assert out.count(b"HTTP/1.1 200 ") == 10_001


def test_json_with_nan_or_deep_nesting_is_400():
    for body in (b"[NaN]", b"[-Infinity]", b"[" * 100_000 + b"]" * 100_000):
        with pytest.raises(RequestError) as exc:
            server._json(body)
        assert exc.value.status == 400


def test_multipart_parts_are_counted_before_parsing():
    body = b"".join(b'--b\r\nContent-Disposition: form-data; name="file"\r\n\r\nx\r\n' for _ in range(10_000))
    t0 = time.monotonic()
    with pytest.raises(RequestError) as exc:
        server.multipart_files("multipart/form-data; boundary=b", body + b"--b--\r\n", max_parts=64)
    assert exc.value.status == 413 and time.monotonic() - t0 < 0.5


def palette_png(side: int, transparency: int | None = 0) -> bytes:
    img = Image.new("P", (side, side), 0)
    img.putpalette([0, 0, 0, 255, 255, 255, 20, 200, 40] + [0] * 759)
    img.paste(1, (side // 4, side // 4, 3 * side // 4, 3 * side // 4))
    img.paste(2, (0, 0, side // 8, side // 8))
    buf = io.BytesIO()
    img.save(buf, "PNG", **({} if transparency is None else {"transparency": transparency}))
    return buf.getvalue()


def test_pictures_over_the_pixel_limit_are_refused_with_their_size():
    with pytest.raises(pictures.BadPicture, match="9459x9459"):
        pictures.open_picture(palette_png(9459))


def test_unlisted_formats_are_not_decoded():
    buf = io.BytesIO()
    Image.new("L", (8, 8)).save(buf, "PPM")
    with pytest.raises(pictures.BadPicture, match="PNG"):
        pictures.open_picture(buf.getvalue())


@pytest.mark.parametrize("transparency", [None, 0])
@pytest.mark.parametrize("channels", [1, 3])
def test_a_big_palette_picture_shrunk_first_matches_the_full_size_conversion(transparency, channels):
    data = palette_png(2048, transparency)
    spec = {"width": 8, "height": 8, "channels": channels, "polarity": "light-on-dark", "invert": "never"}
    got = pictures.to_array(pictures.open_picture(data), spec)
    full = Image.open(io.BytesIO(data)).convert("RGBA")
    full = Image.alpha_composite(Image.new("RGBA", full.size, (0, 0, 0, 255)), full)
    want = np.asarray(full.convert("L" if channels == 1 else "RGB").resize((8, 8), Image.Resampling.BOX))
    np.testing.assert_allclose(got.reshape(want.shape), want / 255.0, atol=1 / 255)
