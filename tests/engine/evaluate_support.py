"""Fixtures shared by the evaluate tests (CLI and window) and tests/perf/bench_evaluate.py (no tests here).

- ``digits_folder``: rows 1500-1796 of scikit-learn's ``load_digits`` (never seen by the demo models) as
  64x64 PNG files in one folder per class, the ImageNet layout.
- ``sklearn_server`` / ``litert_server``: the sklearn-image and the LiteRT tensorflow-image demos, built
  from their templates once per session (tests/support/demo_images.py) and run on 127.0.0.1.
- ``bad_server``: a studio-v1 server that answers a label that has nothing to do with the picture (the
  body's length modulo 10), in python:3.11-slim with the studio labels, so it is found by name.
Everything carries the run's test label and is removed afterwards; the cache images stay.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.digits import digit_picture
from tests.support.templates import run_container, wait_for

HOLDOUT = range(1500, 1797)
SLIM = "python:3.11-slim"
STUDIO_LABELS = {"ai-container-studio.protocol": "studio-v1", "ai-container-studio.port": "8080",
                 "ai-container-studio.task": "image-classification"}

# A studio-v1 server whose answers ignore the picture: a model that is plainly worse.
BAD_SERVER = r'''
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

META = {"name": "shuffled", "version": "0", "framework": "none", "task": "image-classification",
        "labels": [str(i) for i in range(10)],
        "input": {"kind": "image", "width": 8, "height": 8, "channels": 1}, "protocols": ["studio-v1"]}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, code, doc):
        body = json.dumps(doc).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path.startswith("/health"):
            self.send(200, {"status": "ready", "model": "shuffled"})
        elif self.path.startswith("/metadata"):
            self.send(200, META)
        else:
            self.send(404, {"error": "not found"})

    def do_POST(self):
        data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if not data.startswith(b"\x89PNG"):
            self.send(400, {"error": "not a PNG picture"})
            return
        guess = len(data) % 10
        self.send(200, {"predictions": [{"label": str(guess), "score": 0.9},
                                        {"label": str((guess + 1) % 10), "score": 0.1}],
                        "timing_ms": {"inference": 0.01}})


ThreadingHTTPServer(("0.0.0.0", 8080), Handler).serve_forever()
'''


def write_digit_folders(folder: Path, size: int = 64) -> list[tuple[str, int]]:
    """The held-out digits as ``folder/<digit>/digit-<row>.png``; returns (path, digit) in row order."""
    from sklearn.datasets import load_digits

    d = load_digits()
    out = []
    for row in HOLDOUT:
        target = int(d.target[row])
        path = folder / str(target) / f"digit-{row}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(digit_picture(d.images[row].astype(int).tolist(), size, "PNG"))
        out.append((str(path), target))
    return out


def start(docker_api, image: str, labels: dict, name: str, command=None, timeout: float = 120) -> dict:
    cid, ports = run_container(docker_api, image, labels, name, ports={8080: 0}, command=command)
    url = f"http://127.0.0.1:{ports[8080]}"
    wait_for(f"{url}/health", docker_api, cid, timeout=timeout)
    return {"id": cid, "url": url, "name": name, "image": image}


@pytest.fixture(scope="module", name="digits_folder")
def digits_folder_fixture(tmp_path_factory):
    folder = tmp_path_factory.mktemp("digits") / "holdout"
    return {"folder": folder, "items": write_digit_folders(folder)}


@pytest.fixture(scope="module", name="sklearn_server")
def sklearn_server_fixture(docker_api, test_labels, run_id, sklearn_digits_image):
    """A container of the session's sklearn-image demo (tests/support/demo_images.py), the module's own."""
    server = start(docker_api, sklearn_digits_image["tag"], test_labels, f"aicstest-{run_id}-eval-sklearn")
    yield server
    docker_api.remove_container(server["id"], force=True, v=True)


@pytest.fixture(scope="module", name="litert_server")
def litert_server_fixture(docker_api, test_labels, run_id, litert_digits_image):
    """A container of the session's LiteRT demo (tests/support/demo_images.py), the module's own."""
    server = start(docker_api, litert_digits_image["tag"], test_labels, f"aicstest-{run_id}-eval-litert")
    yield server
    docker_api.remove_container(server["id"], force=True, v=True)


@pytest.fixture(scope="module", name="bad_server")
def bad_server_fixture(docker_api, test_labels, run_id):
    try:
        docker_api.inspect_image(SLIM)
    except Exception:
        docker_api.pull("python", tag="3.11-slim")
    server = start(docker_api, SLIM, {**test_labels, **STUDIO_LABELS}, f"aicstest-{run_id}-eval-bad",
                   command=["python", "-c", BAD_SERVER], timeout=30)
    yield server
    docker_api.remove_container(server["id"], force=True, v=True)
