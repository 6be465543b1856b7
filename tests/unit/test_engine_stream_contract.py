"""Contract with docker-py, requests and urllib3: the private parts gui/engine/streams.py relies on.

The engine's streams are cut from another thread by shutting down the socket under a streamed
response (``res.raw._fp.fp`` ... ``_sock``), logs are read straight from the connection
(``_fp.chunked``, ``read1``), GET and exec streams go through ``api._get`` / ``_post_json`` / ``_url``
/ ``_raise_for_status``, pull/push/build responses are caught with a requests session hook, and a
request still sending its body is cut through its connection, found in the adapter's pool.
A tiny engine look-alike on 127.0.0.1 and on a unix socket (the default transport) streams without
end, so each test fails (rather than hangs) when an upgrade of those packages moves something.
"""

from __future__ import annotations

import http.server
import json
import shutil
import socket
import socketserver
import tempfile
import threading
import time
from pathlib import Path

import docker
import pytest
import requests

from gui.engine import Engine, resolve_engine
from gui.engine.exec import ExecExit, ExecOutput, ExecRun
from gui.engine.logs import LogBatch, LogReader
from gui.engine.streams import (
    CancellableStream,
    fast_reader,
    get_stream,
    interrupt_response,
    is_connection,
    raw_socket,
    shutdown_response,
)
from tests.support.waits import wait_until

API = "1.41"
HELLO = b"2024-01-01T00:00:00.000000000Z hello\n"


def _frame(stream: int, data: bytes) -> bytes:
    return bytes([stream, 0, 0, 0]) + len(data).to_bytes(4, "big") + data


class FakeEngine(http.server.BaseHTTPRequestHandler):
    """Answers what the streams ask; every stream sends its first data, then waits for a hang-up."""

    protocol_version = "HTTP/1.1"
    hung_up: threading.Event

    def log_message(self, *args) -> None:
        pass

    def _json(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _wait_for_hang_up(self) -> None:
        self.connection.settimeout(0.1)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if not self.connection.recv(1):
                    break
            except TimeoutError:
                continue
            except OSError:
                break
        self.server.hung_up.set()
        self.close_connection = True

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path.endswith("/version"):
            self._json(200, {"ApiVersion": API, "Version": "fake"})
        elif path == f"/v{API}/containers/c1/json":
            self._json(200, {"Config": {"Tty": False}, "State": {"Status": "running"}})
        elif path == f"/v{API}/containers/c1/logs":
            self.send_response(200)
            self.send_header("Content-Type", "application/vnd.docker.multiplexed-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self._chunk(_frame(1, HELLO))
            self._wait_for_hang_up()
        elif path == f"/v{API}/exec/e1/json":
            self._json(200, {"ExitCode": 0})
        else:
            self._json(404, {"message": f"No such container: {path}"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        path = self.path.split("?", 1)[0]
        if path == f"/v{API}/containers/c1/exec":
            self._json(201, {"Id": "e1"})
        elif path == f"/v{API}/exec/e1/start":
            # What the engine does: the multiplexed output, raw, after the headers (101 when asked to
            # upgrade, as docker-py's exec_start does; 200 otherwise, as ExecRun does).
            if self.headers.get("Upgrade"):
                self.wfile.write(b"HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
                                 b"Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n")
            else:
                self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n")
            self.wfile.flush()
            time.sleep(0.05)
            self.wfile.write(_frame(1, b"out\n") + _frame(2, b"err\n"))
            self.wfile.flush()
            self._wait_for_hang_up()
        elif path == f"/v{API}/images/create":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self._chunk(b'{"status":"Pulling from team/model"}\r\n')
            self._wait_for_hang_up()
        else:
            self._json(404, {"message": f"no {path}"})


class _TCPServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


class _UnixServer(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True

    def get_request(self):
        conn, _ = super().get_request()
        return conn, ("local", 0)  # http.server wants a (host, port) client address


@pytest.fixture(params=["unix", "tcp"])
def fake_engine(request):
    if request.param == "tcp":
        server = _TCPServer(("127.0.0.1", 0), FakeEngine)
        url = f"tcp://127.0.0.1:{server.server_address[1]}"
    else:
        folder = tempfile.mkdtemp(prefix="aics-fake-engine-")
        path = str(Path(folder) / "docker.sock")
        server = _UnixServer(path, FakeEngine)
        url = f"unix://{path}"
    server.hung_up = threading.Event()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, url
    server.shutdown()
    server.server_close()
    if request.param == "unix":
        shutil.rmtree(folder, ignore_errors=True)


def _in_thread(fn):
    box: dict = {}

    def run():
        try:
            box["result"] = fn()
        except BaseException as exc:  # handed to the test
            box["error"] = exc

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, box


def test_a_streamed_get_is_read_fast_and_cut_from_another_thread(fake_engine):
    server, url = fake_engine
    api = docker.APIClient(base_url=url, version=API, timeout=None)
    res = get_stream(api, "/containers/{0}/logs", "c1", {"follow": 1})
    read, chunked = fast_reader(res)
    assert chunked, "the response's connection (res.raw._fp.fp) is no longer reachable: logs lose their fast path"
    frame = _frame(1, HELLO)
    assert read(65536) == b"%x\r\n%s\r\n" % (len(frame), frame), "read no longer gives the raw HTTP chunks"
    sock = raw_socket(res)
    assert isinstance(sock, socket.socket), f"no socket under the response (res.raw._fp.fp.raw._sock): {sock!r}"
    t, box = _in_thread(lambda: read(65536))
    time.sleep(0.2)
    assert t.is_alive(), "the read should block: the stream has no end"
    t0 = time.monotonic()
    assert interrupt_response(res)
    t.join(2.0)
    assert not t.is_alive() and box.get("result") == b"", box
    assert time.monotonic() - t0 < 1.0
    assert server.hung_up.wait(2.0), "the engine did not see the client hang up"
    shutdown_response(api, res)


def test_an_error_status_raises_docker_errors(fake_engine):
    _, url = fake_engine
    api = docker.APIClient(base_url=url, version=API, timeout=5)
    with pytest.raises(docker.errors.NotFound, match="No such container"):
        get_stream(api, "/containers/{0}/logs", "missing", {})
    api.close()


def test_log_reader_close_ends_a_blocked_follow(fake_engine):
    server, url = fake_engine
    reader = LogReader(Engine(resolve_engine(url)), "c1", follow=True, timestamps=True, tail="all")
    got: list = []
    t, box = _in_thread(lambda: got.extend(reader))
    deadline = time.monotonic() + 5
    while not got and time.monotonic() < deadline:
        time.sleep(0.02)
    assert got and isinstance(got[0], LogBatch) and got[0].texts == ["hello"]
    reader.close()
    t.join(2.0)
    assert not t.is_alive() and "error" not in box and reader.closed
    assert server.hung_up.wait(2.0)


def test_exec_run_reads_frames_and_close_ends_it(fake_engine):
    server, url = fake_engine
    run = ExecRun(Engine(resolve_engine(url)), "c1", ["sh"])
    items: list = []
    t, box = _in_thread(lambda: items.extend(run))
    deadline = time.monotonic() + 5
    while len(items) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert sorted((i.text, i.stderr) for i in items) == [("err\n", True), ("out\n", False)]
    t0 = time.monotonic()
    run.close()
    t.join(2.0)
    assert not t.is_alive() and "error" not in box, box
    assert time.monotonic() - t0 < 1.0
    assert not any(isinstance(i, ExecExit) for i in items) and all(isinstance(i, ExecOutput) for i in items)
    assert server.hung_up.wait(2.0)


def test_docker_py_streams_pass_their_response_through_session_hooks(fake_engine):
    """Pull, push and build find the response docker-py streams from with a requests hook."""
    server, url = fake_engine
    api = docker.APIClient(base_url=url, version=API, timeout=None)

    class Pull(CancellableStream):
        pass

    pull = Pull()
    pull._hold_responses_of(api)
    chunks = api.pull("team/model", tag="v1", stream=True, decode=True)
    assert pull._held is not None, "the session hook did not see the pull's response"
    assert next(chunks) == {"status": "Pulling from team/model"}
    t, box = _in_thread(lambda: list(chunks))
    time.sleep(0.1)
    t0 = time.monotonic()
    pull.close()
    t.join(2.0)
    assert not t.is_alive() and time.monotonic() - t0 < 1.0, box
    assert server.hung_up.wait(2.0)
    api.close()


def test_cancellable_stream_close_is_idempotent_and_never_lost():
    cut: list = []

    class Probe(CancellableStream):
        def _cut(self, held):
            cut.append(held)

    s = Probe()
    assert s._hold("first") and not s.closed
    s.close()
    s.close()
    assert s.closed and cut == ["first"]
    assert not s._hold("second"), "a stream opened after close() must be cut at once"
    assert cut == ["first", "second"] and s._let_go() == "second" and s._let_go() is None


class _LateExec(FakeEngine):
    """Exec output, then a long pause: what arrived must be delivered before the pause ends."""

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0]
        if path != f"/v{API}/exec/e1/start":
            return super().do_POST()
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n"
                         + _frame(1, b"out\n"))  # one write, as the engine's first output can come
        self.wfile.flush()
        self._wait_for_hang_up()


def test_exec_output_over_tls_arrives_without_waiting_for_more(tmp_path, monkeypatch):
    """docker-py's exec stream polls the raw socket before each read, so over TLS it does not see
    bytes already decrypted (and, on any transport, bytes that came with the headers: docker-py #3332);
    ExecRun reads through the response's buffer instead and gets "out" at once."""
    import ssl

    from gui.engine.endpoint import EngineTarget
    from tests.support.certs import make_ca, make_cert

    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):  # requests prefers them to the client's CA
        monkeypatch.delenv(name, raising=False)
    ca = make_ca(str(tmp_path))
    cert = make_cert(str(tmp_path), "server", ca, server=True)
    server = _TCPServer(("127.0.0.1", 0), _LateExec)
    server.hung_up = threading.Event()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*cert)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        target = EngineTarget(f"tcp://127.0.0.1:{server.server_address[1]}", "test",
                              docker.tls.TLSConfig(ca_cert=ca[0], verify=ca[0]))
        run = ExecRun(Engine(target), "c1", ["sh"])
        items: list = []
        t, box = _in_thread(lambda: items.extend(run))
        deadline = time.monotonic() + 5
        while not items and time.monotonic() < deadline and t.is_alive():
            time.sleep(0.02)
        assert [i.text for i in items] == ["out\n"], box
        run.close()
        t.join(2.0)
        assert not t.is_alive()
    finally:
        server.shutdown()
        server.server_close()


class _TakesNothing(FakeEngine):
    """A frozen engine: it accepts the connection, then neither reads the request's body nor answers."""

    def do_POST(self) -> None:
        self._wait_for_hang_up()


@pytest.mark.parametrize("transport", ["unix", "tcp"])
def test_a_request_still_sending_its_body_is_cut_by_its_connection(transport, tmp_path):
    """A build context sent to a frozen engine: no response to cut yet, only the connection, which
    watch_connections finds through the adapter's pool (get_connection_with_tls_context, _get_conn)."""
    if transport == "tcp":
        server = _TCPServer(("127.0.0.1", 0), _TakesNothing)
        url = f"tcp://127.0.0.1:{server.server_address[1]}"
    else:
        server = _UnixServer(str(tmp_path / "docker.sock"), _TakesNothing)
        url = f"unix://{tmp_path / 'docker.sock'}"
    server.hung_up = threading.Event()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    api = docker.APIClient(base_url=url, version=API, timeout=None)

    class Upload(CancellableStream):
        pass

    upload = Upload()
    upload._hold_connections_of(api)
    t, box = _in_thread(lambda: api._post(api._url("/build"), data=b"x" * (16 << 20), stream=True))
    try:
        # connected (a loaded machine may take longer than a fixed sleep), then sending into full buffers
        wait_until(lambda: is_connection(upload._held) and upload._held.sock is not None, 10,
                   "the upload's connection held")
        time.sleep(0.2)
        assert t.is_alive(), "the upload should block: the engine takes nothing"
        t0 = time.monotonic()
        upload.close()
        t.join(2.0)
        assert not t.is_alive() and time.monotonic() - t0 < 1.0, "close() did not cut the upload"
        assert isinstance(box.get("error"), requests.exceptions.ConnectionError), box
    finally:
        api.close()
        server.shutdown()
        server.server_close()
