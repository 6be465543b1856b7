"""Issue 11 probes against the real serving images: connections, deadlines, pictures, protocol, skops.

Each probe is one an earlier server failed: 3,000 half-sent requests made 3,000 threads, a slow client
held a thread for ever, an 85 KB PNG took a gigabyte, 10,000 multipart parts took 25 s of CPU, NaN and
deep JSON were answered 500, a skops file naming builtins.eval was loaded.
"""

from __future__ import annotations

import io
import json
import re
import resource
import socket
import time
import uuid
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from PIL import Image

from gui.builder import assemble_context, get_template
from gui.engine.build import ImageBuild
from tests.support.templates import COLD_BUILD_S, CREATED, build_template, engine, free_port, http, wait_for

pytestmark = pytest.mark.timeout(COLD_BUILD_S)  # the serving image may be built from nothing

SHORT_TIMEOUT = 2.0  # AICS_REQUEST_TIMEOUT of the "short" container
SHORT_MAX_CONNECTIONS = 40


def container_name(labels: dict, stem: str) -> str:
    return f"aicstest-{labels['ai-container-studio.test']}-{stem}-{uuid.uuid4().hex[:6]}"


def start(docker_api, image: str, labels: dict, name: str, environment: dict, **host) -> dict:
    port = free_port()
    c = docker_api.create_container(
        image,
        name=name,
        labels=labels,
        environment=environment,
        ports=[8080],
        host_config=docker_api.create_host_config(port_bindings={8080: ("127.0.0.1", port)}, **host),
    )
    docker_api.start(c["Id"])
    base = f"http://127.0.0.1:{port}"
    wait_for(f"{base}/health", docker_api, c["Id"])
    return {"id": c["Id"], "port": port, "base": base}


def saved_model(folder: Path, kind: str) -> str:
    """A model of our own (not the template's demo, which another change may be reworking)."""
    import joblib
    from sklearn.datasets import load_diabetes, load_digits
    from sklearn.linear_model import LogisticRegression, Ridge

    if kind == "digits":
        x, y = load_digits(return_X_y=True)
        model = LogisticRegression(max_iter=300).fit(x, y)
    else:
        x, y = load_diabetes(return_X_y=True)
        model = Ridge().fit(x, y)
    path = folder / f"{kind}.joblib"
    joblib.dump(model, path)
    return str(path)


@pytest.fixture(scope="module")
def digits_image(docker_api, test_labels, tmp_path_factory):
    t = get_template("sklearn-image")
    tag = f"aicstest-hardening-digits:{test_labels['ai-container-studio.test']}"
    tmp = tmp_path_factory.mktemp("digits")
    values = {**t.defaults(), "model": saved_model(tmp, "digits")}
    build, _ = build_template(t, values, tmp / "ctx", tag, test_labels)
    yield tag
    docker_api.remove_image(build.image_id, force=True)


@pytest.fixture(scope="module")
def digits(docker_api, digits_image, test_labels):
    """Default limits, in 2 GB of memory (the container an 85 KB PNG used to kill)."""
    c = start(docker_api, digits_image, test_labels, container_name(test_labels, "hard"), {}, mem_limit="2g")
    yield c
    docker_api.remove_container(c["id"], force=True)


@pytest.fixture(scope="module")
def short(docker_api, digits_image, test_labels):
    """A 2 s request deadline and room for 40 connections, so limits are reached quickly."""
    env = {"AICS_REQUEST_TIMEOUT": str(SHORT_TIMEOUT), "AICS_MAX_CONNECTIONS": str(SHORT_MAX_CONNECTIONS)}
    c = start(docker_api, digits_image, test_labels, container_name(test_labels, "short"), env)
    yield c
    docker_api.remove_container(c["id"], force=True)


@pytest.fixture(scope="module")
def regression(docker_api, test_labels, tmp_path_factory):
    t = get_template("sklearn-regression")
    tag = f"aicstest-hardening-reg:{test_labels['ai-container-studio.test']}"
    tmp = tmp_path_factory.mktemp("reg")
    values = {**t.defaults(), "model": saved_model(tmp, "diabetes")}
    build, _ = build_template(t, values, tmp / "ctx", tag, test_labels)
    c = start(docker_api, tag, test_labels, container_name(test_labels, "reg"), {})
    yield c
    docker_api.remove_container(c["id"], force=True)
    docker_api.remove_image(build.image_id, force=True)


# -- raw HTTP ----------------------------------------------------------------------------------------
def exchange(port: int, data: bytes, wait: float = 6.0) -> tuple[float, bytes]:
    """Send `data`, read until the server closes or `wait` runs out; (seconds, bytes)."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as s:
        t0 = time.monotonic()
        s.sendall(data)
        out = b""
        try:
            while chunk := s.recv(65536):
                out += chunk
        except OSError:
            pass
        return time.monotonic() - t0, out


def status_of(raw: bytes) -> int:
    m = re.match(rb"HTTP/1\.[01] (\d{3})", raw)
    assert m, raw[:200]
    return int(m.group(1))


def post(path: str, body: bytes, ctype: str = "application/json", extra: str = "") -> bytes:
    head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
    return (head + extra + "Connection: close\r\n\r\n").encode() + body


def timed_health(base: str) -> float:
    t0 = time.monotonic()
    status, _ = http("GET", f"{base}/health", timeout=5)
    assert status == 200
    return time.monotonic() - t0


def threads_in(docker_api, cid: str) -> int:
    ex = docker_api.exec_create(cid, ["cat", "/proc/1/status"])
    status = docker_api.exec_start(ex["Id"]).decode()
    return int(re.search(r"^Threads:\s+(\d+)", status, re.M).group(1))


# -- connections -------------------------------------------------------------------------------------
def test_3000_half_sent_requests_hold_no_threads_and_a_burst_close_leaves_health_fast(digits, docker_api):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 4000:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))
    socks = []
    try:
        for _ in range(3000):
            s = socket.create_connection(("127.0.0.1", digits["port"]), timeout=5)
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Half: ")
            socks.append(s)
        time.sleep(1.0)
        assert timed_health(digits["base"]) < 1.0
        assert threads_in(docker_api, digits["id"]) < 32  # was one thread per connection
        for s in socks[:1500]:
            s.close()
        worst = max(timed_health(digits["base"]) for _ in range(10))
        assert worst < 1.0, worst
    finally:
        for s in socks:
            s.close()
    assert docker_api.inspect_container(digits["id"])["State"]["Running"]


def test_a_slow_client_gets_408_when_the_request_deadline_runs_out(short):
    with socket.create_connection(("127.0.0.1", short["port"]), timeout=6) as s:
        t0 = time.monotonic()
        got = b""
        try:
            for ch in b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"y" * 40:
                s.send(bytes([ch]))  # one byte every 0.25 s: each read is quick, the request is not
                time.sleep(0.25)
                if time.monotonic() - t0 > 5:
                    break
        except OSError:
            pass
        try:
            got = s.recv(4096)
        except OSError:
            pass
    assert got and status_of(got) == 408, got
    assert time.monotonic() - t0 < SHORT_TIMEOUT + 3


def test_a_body_shorter_than_its_content_length_gets_408_not_500(short):
    png_start = b"\x89PNG\r\n"
    head = b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: 300\r\n\r\n"
    seconds, raw = exchange(short["port"], head + png_start, wait=SHORT_TIMEOUT + 4)
    assert status_of(raw) == 408 and seconds < SHORT_TIMEOUT + 2, (seconds, raw)


def test_past_the_connection_limit_the_answer_is_503(short):
    socks = [
        socket.create_connection(("127.0.0.1", short["port"]), timeout=5)
        for _ in range(SHORT_MAX_CONNECTIONS)
    ]
    try:
        time.sleep(0.3)
        _, raw = exchange(short["port"], b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n", wait=3)
        assert raw and status_of(raw) == 503, raw
    finally:
        for s in socks:
            s.close()
    time.sleep(0.3)
    assert http("GET", f"{short['base']}/health")[0] == 200


def test_two_content_length_headers_are_refused(short):
    smuggled = b"GET /metadata HTTP/1.1\r\nHost: x\r\n\r\n"
    data = (
        b"POST /v2/models/digits/infer HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
        + f"Content-Length: {2 + len(smuggled)}\r\n\r\n".encode()
        + b"{}"
        + smuggled
    )
    _, raw = exchange(short["port"], data, wait=4)
    assert status_of(raw) == 400 and b"Content-Length" in raw, raw
    assert raw.count(b"HTTP/1.1 ") == 1, raw  # the rest was not read as a second request


def test_http_1_0_keep_alive_is_answered_as_keep_alive(short):
    with socket.create_connection(("127.0.0.1", short["port"]), timeout=3) as s:
        for _ in range(2):
            s.sendall(b"GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            raw = b""
            while b"\r\n\r\n" not in raw or not raw.endswith(b"}"):
                raw += s.recv(4096)
            head = raw.split(b"\r\n\r\n")[0].lower()
            assert status_of(raw) == 200 and b"connection: keep-alive" in head, raw
    # and without keep-alive an HTTP/1.0 answer closes
    _, raw = exchange(short["port"], b"GET /health HTTP/1.0\r\n\r\n", wait=3)
    assert status_of(raw) == 200 and b"keep-alive" not in raw.lower()


# -- pictures ----------------------------------------------------------------------------------------
def palette_png(side: int) -> bytes:
    """A palette PNG of side x side pixels, one colour but a small mark, transparent background."""
    img = Image.new("P", (side, side), 0)
    img.putpalette([0, 0, 0, 255, 255, 255] + [0] * 762)
    img.paste(1, (side // 3, side // 3, side // 2, side // 2))
    buf = io.BytesIO()
    img.save(buf, "PNG", transparency=0)
    return buf.getvalue()


def memory_files(cid: str) -> tuple[Path, Path]:
    v1 = Path(f"/sys/fs/cgroup/memory/docker/{cid}")
    if v1.is_dir():
        return v1 / "memory.usage_in_bytes", v1 / "memory.max_usage_in_bytes"
    v2 = Path(f"/sys/fs/cgroup/system.slice/docker-{cid}.scope")
    if v2.is_dir():
        return v2 / "memory.current", v2 / "memory.peak"
    pytest.fail(f"no cgroup memory files for {cid} (cgroup v1 or v2 with systemd expected)")


def test_big_palette_pngs_cost_little_memory_and_never_kill_the_container(digits, docker_api):
    bomb = palette_png(9459)  # 89.5 MP, just under Pillow's own limit: 1.1-1.5 GiB each before
    under = palette_png(4000)  # 16 MP: the default limit, decoded
    assert len(bomb) < 200_000
    usage, peak = memory_files(docker_api.inspect_container(digits["id"])["Id"])
    baseline = int(usage.read_text())
    peak.write_text("0")  # cgroup v1: start the high-water mark again from here

    def send(data: bytes):
        return http("POST", f"{digits['base']}/predict", data, {"Content-Type": "image/png"}, timeout=60)

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(send, [bomb] * 4))
        assert all(a[0] == 400 and "9459x9459" in a[1]["error"] for a in answers), answers
        answers = list(pool.map(send, [under] * 4))
        assert all(a[0] == 200 for a in answers), answers
    grew = int(peak.read_text()) - baseline
    state = docker_api.inspect_container(digits["id"])["State"]
    assert state["Running"] and not state["OOMKilled"]
    assert grew < 256 * 1024 * 1024, f"4 pictures at once took {grew / 2**20:.0f} MiB"


def test_only_listed_picture_formats_are_decoded(digits):
    buf = io.BytesIO()
    Image.new("L", (8, 8), 128).save(buf, "PPM")  # Pillow reads it; the server does not
    status, body = http("POST", f"{digits['base']}/predict", buf.getvalue(), {"Content-Type": "image/x-ppm"})
    assert status == 400 and "PNG" in body["error"], body


def test_ten_thousand_multipart_parts_are_refused_quickly(digits):
    part = b'--b\r\nContent-Disposition: form-data; name="file"; filename="' + b"f" * 140 + b'"\r\n\r\nx\r\n'
    body = part * 10_000 + b"--b--\r\n"  # 2 MB, as in the issue
    seconds, raw = exchange(digits["port"], post("/predict", body, "multipart/form-data; boundary=b"))
    assert status_of(raw) == 413 and b"64" in raw and seconds < 1, (seconds, raw[-200:])


# -- protocol ----------------------------------------------------------------------------------------
def infer(values, shape, datatype="FP32") -> bytes:
    body = {"inputs": [{"name": "input", "datatype": datatype, "shape": shape, "data": values}]}
    return json.dumps(body).encode()


def test_bad_numbers_and_shapes_are_400_not_500(digits):
    port = digits["port"]
    url = "/v2/models/digits/infer"
    cases = {
        "NaN": infer([0.0] * 63 + [float("nan")], [1, 8, 8, 1]),
        "Infinity": infer([float("-inf")] + [0.0] * 63, [1, 8, 8, 1]),
        "over float32": infer([1e300] + [0.0] * 63, [1, 8, 8, 1], "FP64"),
        "shape overflow": infer([], [2**62, 4, 0]),
        "shape wraps": infer([1.0] * 64, [2**32, 2**32, 64]),
        "100k deep": b"[" * 100_000 + b"]" * 100_000,
    }
    for what, body in cases.items():
        _, raw = exchange(port, post(url, body))
        assert status_of(raw) == 400, (what, raw[-300:])


def test_regression_rows_with_nan_or_huge_values_are_400_and_never_infinity(regression):
    port = regression["port"]
    for row in (
        "[NaN, 0, 0, 0, 0, 0, 0, 0, 0, 0]",
        "[Infinity, 0, 0, 0, 0, 0, 0, 0, 0, 0]",
        "[" + ", ".join(["1e308"] * 10) + "]",
    ):
        _, raw = exchange(port, post("/predict", f'{{"instances": [{row}]}}'.encode()))
        assert status_of(raw) == 400, (row, raw[-300:])  # was 500 (NaN) or 200 with -Infinity
    ok = "[" + ", ".join(["0.01"] * 10) + "]"
    _, raw = exchange(port, post("/predict", f'{{"instances": [{ok}]}}'.encode()))
    assert status_of(raw) == 200


def test_a_route_refuses_the_wrong_content_type_before_reading_the_body(regression):
    # 2 MB announced, none sent: the answer comes at once, not after the body (or a deadline)
    head = (
        b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
        b"Content-Length: 2000000\r\n\r\n"
    )
    seconds, raw = exchange(regression["port"], head, wait=5)
    assert status_of(raw) == 415 and seconds < 1, (seconds, raw)


# -- skops -------------------------------------------------------------------------------------------
def skops_naming(function: str) -> bytes:
    """A .skops file (skops 0.16 format) of a FunctionTransformer whose func is `function`."""
    module, _, name = function.rpartition(".")
    ids = iter(range(1, 100))

    def text(value):
        return {
            "__class__": "str",
            "__module__": "builtins",
            "__loader__": "JsonNode",
            "content": json.dumps(value),
            "is_json": True,
            "__id__": next(ids),
        }

    content = {
        "func": {"__class__": name, "__module__": module, "__loader__": "TypeNode", "__id__": next(ids)},
        "validate": text(False),
        "_sklearn_version": text("1.9.1"),
    }
    key_type = {"__class__": "str", "__module__": "builtins", "__loader__": "TypeNode", "__id__": next(ids)}
    schema = {
        "__class__": "FunctionTransformer",
        "__module__": "sklearn.preprocessing._function_transformer",
        "__loader__": "ObjectNode",
        "content": {
            "__class__": "dict",
            "__module__": "builtins",
            "__loader__": "DictNode",
            "content": content,
            "key_types": {
                "__class__": "list",
                "__module__": "builtins",
                "__loader__": "ListNode",
                "content": [key_type] * len(content),
                "__id__": next(ids),
            },
            "__id__": next(ids),
        },
        "__id__": next(ids),
        "protocol": 2,
        "_skops_version": "0.16.0",
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("schema.json", json.dumps(schema))
    return buf.getvalue()


def test_a_skops_file_naming_builtins_eval_keeps_the_container_from_starting(
    docker_api, test_labels, tmp_path, unique_name
):
    model = tmp_path / "evil.skops"
    model.write_bytes(skops_naming("builtins.eval"))
    t = get_template("sklearn-regression")
    ctx = assemble_context(t, {**t.defaults(), "model": str(model)}, tmp_path / "ctx")
    assert "skops==" in (ctx.directory / "requirements.txt").read_text()
    tag = f"aicstest-hardening-skops:{test_labels['ai-container-studio.test']}"
    # not build_template: this image's package layer (with skops) must not replace the template's cache
    build = ImageBuild(engine(), ctx.directory, tag, labels=test_labels, buildargs={"AICS_CREATED": CREATED})
    lines = list(build)
    assert lines[-1].done and build.image_id, "\n".join(line.text for line in lines[-20:])
    c = docker_api.create_container(tag, labels=test_labels, name=unique_name("skops"))
    try:
        docker_api.start(c["Id"])
        assert docker_api.wait(c["Id"], timeout=60)["StatusCode"] != 0
        log = docker_api.logs(c["Id"]).decode()
        assert "builtins.eval" in log and "not trust" in log, log[-1500:]
    finally:
        docker_api.remove_container(c["Id"], force=True)
        docker_api.remove_image(build.image_id, force=True)


def clipped_diabetes(folder: Path) -> tuple[Path, object]:
    """A .skops regressor naming numpy.clip: harmless, but neither skops nor the server trusts it."""
    import numpy as np
    import skops.io
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    x, y = load_diabetes(return_X_y=True)
    model = make_pipeline(FunctionTransformer(np.clip, kw_args={"a_min": -0.5, "a_max": 0.5}), Ridge()).fit(x, y)
    path = folder / "clipped.skops"
    skops.io.dump(model, path)
    assert skops.io.get_untrusted_types(file=path) == ["numpy.clip"]
    return path, model


def test_trusting_a_skops_file_widens_the_images_allow_list(docker_api, test_labels, tmp_path, unique_name):
    """Issue 14: 'I trust this file' on a .skops file whose types the image would refuse. The form refuses
    it untrusted (here its headless twin, before any engine); trusted, the build writes the types beside
    the model and the container loads it and answers as the model does here."""
    from sklearn.datasets import load_diabetes

    from gui.builder import Recipe, save_recipe
    from gui.cli import FAILED, main
    from gui.models import inspect_model
    from tests.support.templates import keep_dependency_cache

    model, fitted = clipped_diabetes(tmp_path)
    info = inspect_model(model)
    assert info.needs_trust and [(g.qualname, g.verdict) for g in info.scan.offending] == [("numpy.clip", "unknown")]
    t = get_template("sklearn-regression")
    recipe = tmp_path / "r.toml"
    save_recipe(recipe, Recipe("sklearn-regression", {**t.defaults(), "model": str(model), "tag": "x/y:1"}))
    assert main(["build", str(recipe)]) == FAILED  # untrusted: refused before the engine is asked

    ctx = assemble_context(t, {**t.defaults(), "model": str(model), "trusted_types": ["numpy.clip"]}, tmp_path / "ctx")
    assert (ctx.directory / "model" / "skops-trusted.txt").read_text() == "numpy.clip\n"
    tag = f"aicstest-hardening-skops-trusted:{test_labels['ai-container-studio.test']}"
    build = ImageBuild(engine(), ctx.directory, tag, labels=test_labels, buildargs={"AICS_CREATED": CREATED})
    lines = list(build)
    assert lines[-1].done and build.image_id, "\n".join(line.text for line in lines[-20:])
    # The package layer (scikit-learn and skops) is kept as its own cache, not the template's
    keep_dependency_cache("sklearn-regression-skops", build)
    try:
        c = start(docker_api, tag, test_labels, unique_name("skops-trusted"), {})
        try:
            rows = load_diabetes().data[:5]
            status, body = http("POST", f"{c['base']}/predict", json.dumps({"instances": rows.tolist()}).encode(),
                                {"Content-Type": "application/json"})
            assert status == 200, body
            got = [p["value"] if isinstance(p, dict) else p for p in body["predictions"]]
            assert got == pytest.approx(fitted.predict(rows).tolist(), rel=1e-6)
        finally:
            docker_api.remove_container(c["id"], force=True)

        # The same image, the trust file removed: the loader refuses numpy.clip and the container exits
        c = docker_api.create_container(tag, labels=test_labels, name=unique_name("skops-untrusted"), user="root",
                                        entrypoint=["sh", "-c", "rm /opt/aics/model/skops-trusted.txt && "
                                                    "exec python3 /opt/aics/serving/cli.py serve"])
        try:
            docker_api.start(c["Id"])
            assert docker_api.wait(c["Id"], timeout=60)["StatusCode"] != 0
            log = docker_api.logs(c["Id"]).decode()
            assert "numpy.clip" in log and "not trust" in log, log[-1500:]
        finally:
            docker_api.remove_container(c["Id"], force=True)
    finally:
        docker_api.remove_image(build.image_id, force=True)


def test_an_lz4_compressed_joblib_model_is_scanned_built_with_lz4_and_answers(docker_api, test_labels, tmp_path,
                                                                              unique_name):
    """Issue 14: joblib.dump(..., compress=("lz4", 3)): the scan reads it, the build adds lz4 to the image
    (joblib needs it to read the file) and the container answers as the model does here."""
    import joblib
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import Ridge

    from gui.models import inspect_model
    from tests.support.templates import keep_dependency_cache

    x, y = load_diabetes(return_X_y=True)
    fitted = Ridge().fit(x, y)
    model = tmp_path / "diabetes.joblib"
    joblib.dump(fitted, model, compress=("lz4", 3))
    info = inspect_model(model)
    assert info.scan.compression == "lz4" and not info.needs_trust and info.template == "sklearn-regression"
    t = get_template("sklearn-regression")
    ctx = assemble_context(t, {**t.defaults(), "model": str(model)}, tmp_path / "ctx")
    assert "lz4==" in (ctx.directory / "requirements.txt").read_text()
    tag = f"aicstest-hardening-lz4:{test_labels['ai-container-studio.test']}"
    build = ImageBuild(engine(), ctx.directory, tag, labels=test_labels, buildargs={"AICS_CREATED": CREATED})
    lines = list(build)
    assert lines[-1].done and build.image_id, "\n".join(line.text for line in lines[-20:])
    keep_dependency_cache("sklearn-regression-lz4", build)  # not the template's own cache: other packages
    try:
        c = start(docker_api, tag, test_labels, unique_name("lz4"), {})
        try:
            rows = x[:5]
            status, body = http("POST", f"{c['base']}/predict", json.dumps({"instances": rows.tolist()}).encode(),
                                {"Content-Type": "application/json"})
            assert status == 200, body
            assert body["predictions"] == pytest.approx(fitted.predict(rows).tolist(), rel=1e-6)
        finally:
            docker_api.remove_container(c["id"], force=True)
    finally:
        docker_api.remove_image(build.image_id, force=True)
