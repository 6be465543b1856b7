"""The clients' wire format and error messages against small real HTTP servers in this process.

The servers here follow the documents (shared/PROTOCOL.md, the v2 and TF Serving REST specs) closely enough
to check what the clients send and how they read answers; the clients are tested against the real
third-party servers in tests/engine/test_predict_servers.py.
"""

from __future__ import annotations

import base64
import io
import json
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from PIL import Image

from gui.predict import (
    OpenInferenceClient,
    Overrides,
    PredictError,
    StudioClient,
    TFServingClient,
    make_client,
)
from gui.predict.transport import Transport, normalize_url


def png(size=(4, 4), value=255, mode="L") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, value).save(out, format="PNG")
    return out.getvalue()


class Server:
    """A threaded HTTP server answering with ``handler(method, path, query, headers, body)``."""

    def __init__(self, handler):
        self.requests: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self):
                parts = urlsplit(self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                req = {
                    "method": self.command,
                    "path": parts.path,
                    "query": parse_qs(parts.query),
                    "headers": dict(self.headers),
                    "body": body,
                }
                outer.requests.append(req)
                status, ctype, payload = handler(req)
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _serve

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def serve():
    made: list[Server] = []

    def make(handler) -> Server:
        server = Server(handler)
        made.append(server)
        return server

    yield make
    for s in made:
        s.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- transport errors -------------------------------------------------------------------------------


def test_refused_connection_is_said_plainly():
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(PredictError) as err:
        StudioClient(url).metadata()
    assert err.value.kind == "connection"
    assert str(err.value) == f"the server at {url} refused the connection: is the container running?"


def test_silent_server_times_out():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)  # accepts connections (in the kernel) but never answers
    try:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        with pytest.raises(PredictError) as err:
            Transport(url, timeout=0.3).get_json("/health")
    finally:
        listener.close()
    assert err.value.kind == "timeout" and str(err.value) == f"the server at {url} timed out after 0.3 s"


@pytest.mark.parametrize(
    ("status", "ctype", "body", "message"),
    [
        (500, "application/json", {"error": "model crashed"}, "server answered 500: model crashed"),
        (422, "application/json", {"detail": [{"msg": "bad"}]}, 'server answered 422: [{"msg": "bad"}]'),
        (
            500,
            "text/plain",
            b"Traceback (most recent call last):\n  File 'x'\nValueError: X has 3 features\n",
            "server answered 500: ValueError: X has 3 features",
        ),
        (502, "text/html", b"", "server answered 502: (empty answer)"),
        (
            200,
            "text/html",
            b"<html>garbage</html>",
            "the server's answer is not JSON: '<html>garbage</html>'",
        ),
        (200, "application/json", [1, 2], "the server's answer is not a JSON object: [1, 2]"),
    ],
)
def test_bad_answers_are_said_plainly(serve, status, ctype, body, message):
    server = serve(lambda req: (status, ctype, body))
    with pytest.raises(PredictError) as err:
        StudioClient(server.url).metadata()
    assert str(err.value) == message


def test_addresses_are_normalized():
    assert normalize_url(" 127.0.0.1:8080/ ") == "http://127.0.0.1:8080"
    assert normalize_url("https://host/x/") == "https://host/x"
    with pytest.raises(PredictError, match="not a server address"):
        normalize_url("ftp://host")
    with pytest.raises(PredictError, match="unknown protocol 'grpc'"):
        make_client("grpc", "http://x")


# --- studio-v1 --------------------------------------------------------------------------------------

STUDIO_META = {
    "name": "brightness",
    "version": "1",
    "framework": "none",
    "task": "image-classification",
    "labels": ["dark", "bright"],
    "input": {"kind": "image", "width": 16, "height": 16, "channels": 1},
    "protocols": ["studio-v1"],
}


def studio_handler(state):
    """studio-v1 as PROTOCOL.md says: pictures are 'bright' or 'dark' by their mean gray level."""

    def handle(req):
        if req["path"] == "/health":
            if not state["loaded"]:
                return 503, "application/json", {"status": "loading"}
            return 200, "application/json", {"status": "ready", "model": "brightness"}
        if req["path"] == "/metadata":
            return 200, "application/json", STUDIO_META
        if req["path"] == "/predict" and req["method"] == "POST":
            ctype = req["headers"].get("Content-Type", "")
            if ctype == "application/json":
                rows = json.loads(req["body"])["instances"]
                return 200, "application/json", {"predictions": [sum(r) for r in rows]}
            try:
                img = Image.open(io.BytesIO(req["body"])).convert("L")
            except Exception:
                return 400, "application/json", {"error": "the body is not a picture"}
            state["sizes"].append(img.size)
            mean = sum(img.tobytes()) / (img.size[0] * img.size[1] * 255)
            preds = [{"label": "bright", "score": mean}, {"label": "dark", "score": 1 - mean}]
            top_k = int(req["query"].get("top_k", ["5"])[0])
            preds.sort(key=lambda p: p["score"], reverse=True)
            return 200, "application/json", {"predictions": preds[:top_k], "timing_ms": {"inference": 0.25}}
        return 404, "application/json", {"error": f"no route {req['path']}"}

    return handle


def test_studio_client_speaks_studio_v1(serve):
    state = {"loaded": False, "sizes": []}
    server = serve(studio_handler(state))
    client = make_client("studio-v1", server.url)
    assert client.ready() is False
    state["loaded"] = True
    assert client.ready() is True
    meta = client.metadata()
    assert meta.labels == ("dark", "bright") and (meta.width, meta.height) == (16, 16)

    bright = client.predict_image(png(value=230), top_k=1)
    assert bright.labels == ("bright",) and bright.scores[0] == pytest.approx(230 / 255)
    assert bright.server_ms == 0.25 and bright.round_trip_ms > 0
    post = server.requests[-1]
    assert post["query"]["top_k"] == ["1"] and post["headers"]["Content-Type"] == "image/png"
    assert post["body"] == png(value=230)  # small enough: sent as it was

    dark = client.predict_image(png(size=(1600, 800), value=20, mode="RGB"), top_k=5)
    assert dark.labels == ("dark", "bright") and "scaled down from 1600×800 to 256×128" in dark.note
    assert state["sizes"][-1] == (256, 128)
    client.close()


def test_studio_client_from_many_threads_uses_one_session_each(serve):
    server = serve(studio_handler({"loaded": True, "sizes": []}))
    client = StudioClient(server.url)
    pictures = [png(value=v) for v in range(0, 256, 8)]
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda p: client.predict_image(p, top_k=1).top_label, pictures))
    assert answers == ["dark" if v / 255 < 0.5 else "bright" for v in range(0, 256, 8)]
    assert 1 <= len(client.transport._sessions) <= 4
    client.close()
    assert client.transport._sessions == []


def test_studio_client_stopped_server_and_bad_picture(serve):
    server = serve(studio_handler({"loaded": True, "sizes": []}))
    client = StudioClient(server.url)
    assert client.predict_image(png()).top_label == "bright"
    with pytest.raises(PredictError) as err:
        client.predict_image(b"")
    assert err.value.kind == "picture"
    server.stop()
    with pytest.raises(PredictError) as err:
        client.predict_image(png())
    assert err.value.kind == "connection"
    with pytest.raises(PredictError, match="takes pictures, not table rows"):
        client.predict_rows([[1, 2]])


def test_studio_client_tabular_rows(serve):
    meta = {"name": "sum", "task": "tabular-regression", "input": {"kind": "tabular", "features": ["a", "b"]}}

    def handle(req):
        if req["path"] == "/metadata":
            return 200, "application/json", meta
        rows = json.loads(req["body"])["instances"]
        return 200, "application/json", {"predictions": [r[0] + r[1] for r in rows]}

    client = StudioClient(serve(handle).url)
    assert client.predict_rows([[1, 2], ["3", 4.5]]) == [3.0, 7.5]
    with pytest.raises(PredictError, match="row 1 has 3 values, the model wants 2"):
        client.predict_rows([[1, 2, 3]])
    with pytest.raises(PredictError, match="takes table rows, not pictures"):
        client.predict_image(png())


# --- v2 BYTES and TF Serving b64 / uint8 --------------------------------------------------------------


def test_v2_bytes_input_sends_base64_pictures(serve):
    meta = {"name": "pics", "inputs": [{"name": "image", "datatype": "BYTES", "shape": [-1]}], "outputs": []}

    def handle(req):
        if req["method"] == "GET":
            return 200, "application/json", meta
        tensor = json.loads(req["body"])["inputs"][0]
        assert tensor["parameters"] == {"content_type": "base64"}
        img = Image.open(io.BytesIO(base64.b64decode(tensor["data"][0])))
        outputs = [
            {"name": "label", "datatype": "BYTES", "shape": [1], "data": [f"{img.size[0]}x{img.size[1]}"]},
        ]
        return 200, "application/json", {"model_name": "pics", "outputs": outputs}

    server = serve(handle)
    client = OpenInferenceClient(server.url, "pics", overrides=Overrides(width=10, height=10, channels=1))
    prediction = client.predict_image(png(size=(100, 50)))
    assert prediction.labels == ("20x10",) and prediction.scores == (None,)
    tensor = json.loads(server.requests[-1]["body"])["inputs"][0]
    assert tensor["name"] == "image" and tensor["datatype"] == "BYTES" and tensor["shape"] == [1]
    assert "outputs" not in json.loads(server.requests[-1]["body"])


def test_v2_server_label_names_the_best_class_when_the_metadata_names_none(serve):
    """A foreign v2 server answering scores and `label: ["okapi"]` shows "okapi", not the class number."""
    meta = {"name": "zoo", "inputs": [{"name": "x", "datatype": "FP32", "shape": [-1, 4, 4, 1]}],
            "outputs": [{"name": "scores"}, {"name": "label"}]}

    def handle(req):
        if req["method"] == "GET":
            return 200, "application/json", meta
        outputs = [
            {"name": "scores", "datatype": "FP32", "shape": [1, 3], "data": [0.1, 0.7, 0.2]},
            {"name": "label", "datatype": "BYTES", "shape": [1], "data": ["okapi"]},
        ]
        return 200, "application/json", {"model_name": "zoo", "outputs": outputs}

    server = serve(handle)
    prediction = OpenInferenceClient(server.url, "zoo").predict_image(png(size=(4, 4)))
    assert prediction.labels == ("okapi", "2", "0")
    assert prediction.scores == pytest.approx((0.7, 0.2, 0.1))


def test_tfserving_uint8_and_b64_instances(serve):
    dims = [{"size": "-1"}, {"size": "28"}, {"size": "28"}, {"size": "1"}]
    signature = {"inputs": {"image": {"dtype": "DT_UINT8", "tensor_shape": {"dim": dims}}}, "outputs": {}}
    uint8_meta = {"metadata": {"signature_def": {"signature_def": {"serving_default": signature}}}}

    def handle(req):
        if req["path"].endswith("/metadata"):
            return 200, "application/json", uint8_meta
        instance = json.loads(req["body"])["instances"][0]
        if isinstance(instance, dict):
            return 200, "application/json", {"predictions": [{"classes": "b64", "scores": [0.25, 0.75]}]}
        assert len(instance) == 28 and len(instance[0]) == 28 and instance[0][0] == [200]
        return 200, "application/json", {"predictions": [[0.1] * 9 + [0.9]]}

    server = serve(handle)
    client = TFServingClient(server.url, "mnist")
    assert client.predict_image(png(value=200), top_k=2).labels == ("9", "0")
    b64 = TFServingClient(server.url, "mnist", overrides=Overrides(encoding="base64", labels=("no", "yes")))
    assert b64.predict_image(png(size=(100, 100))).labels == ("yes", "no")
    sent = json.loads(server.requests[-1]["body"])["instances"][0]
    assert Image.open(io.BytesIO(base64.b64decode(sent["b64"]))).size == (28, 28)


def test_answer_cut_off_mid_body_says_the_connection_was_lost():
    import socket
    import threading

    from gui.predict.errors import PredictError
    from gui.predict.transport import Transport

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]

    def answer_half():
        conn, _ = server.accept()
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{\"predi")
        conn.close()

    threading.Thread(target=answer_half, daemon=True).start()
    try:
        Transport(f"http://127.0.0.1:{port}", timeout=5).request("POST", "/predict", data=b"x")
    except PredictError as exc:
        assert exc.kind == "connection"
        assert str(exc) == (f"lost the connection to the server at http://127.0.0.1:{port} in the middle "
                            "of its answer: did the container stop?")
    else:
        raise AssertionError("a cut-off answer must fail")
    finally:
        server.close()
