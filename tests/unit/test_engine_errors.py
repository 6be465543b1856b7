"""EngineError messages a person understands, for each kind of failure."""

import errno
import os
import subprocess
import sys

import docker.errors
import pytest
import requests

from gui.engine import Engine, EngineError, resolve_engine, translate
from gui.engine.client import container_info, image_rows


def test_missing_socket_says_not_reachable():
    err = translate(requests.exceptions.ConnectionError(FileNotFoundError(2, "No such file or directory")),
                    "unix:///var/run/docker.sock")
    assert err.kind == "unreachable"
    assert str(err) == "Docker Engine is not reachable at unix:///var/run/docker.sock: is it running?"


def test_permission_denied_says_what_to_do():
    exc = requests.exceptions.ConnectionError(PermissionError(errno.EACCES, "Permission denied"))
    err = translate(exc, "unix:///var/run/docker.sock")
    assert err.kind == "permission"
    assert str(err) == ("permission denied on /var/run/docker.sock: add your user to the docker group, "
                        "or use rootless Docker or Podman")


def test_docker_exception_wrapping_a_string_is_understood():
    exc = docker.errors.DockerException(
        "Error while fetching server API version: ('Connection aborted.', PermissionError(13, 'Permission denied'))")
    assert translate(exc, "unix:///s.sock").kind == "permission"


def test_api_errors_keep_the_engines_explanation():
    resp = requests.Response()
    resp.status_code = 409
    exc = docker.errors.APIError("409 Client Error", response=resp,
                                 explanation='conflict: the container name "/web" is already in use')
    err = translate(exc, "unix:///s")
    assert err.kind == "conflict" and err.status == 409
    assert str(err).startswith('Conflict: the container name "/web" is already in use')
    assert not err.connection_lost


def test_timeout():
    err = translate(requests.exceptions.ReadTimeout("read timed out"), "tcp://10.0.0.1:2375")
    assert err.kind == "timeout" and err.connection_lost


def test_connection_broken_mid_answer_says_the_engine_went_away():
    import http.client

    import urllib3.exceptions

    lost = http.client.IncompleteRead(b"")
    broken = urllib3.exceptions.ProtocolError(f"Connection broken: {lost!r}", lost)
    for exc in (broken, requests.exceptions.ChunkedEncodingError(broken)):
        err = translate(exc, "unix:///s.sock")
        assert err.kind == "unreachable" and err.connection_lost
        assert str(err) == "Docker Engine at unix:///s.sock went away in the middle of an answer: did it stop or crash?"


def test_engine_on_missing_socket_raises_engine_error_not_traceback(tmp_path):
    engine = Engine(resolve_engine(f"unix://{tmp_path}/none.sock"))
    with pytest.raises(EngineError) as info:
        engine.list_containers()
    assert info.value.kind == "unreachable"
    assert f"{tmp_path}/none.sock" in str(info.value)


def test_importing_the_engine_layer_loads_no_qt():
    code = ("import sys, gui.engine, gui.paths\n"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'qasync', 'gui'))\n"
            "bad = [m for m in bad if m.split('.')[0] != 'gui' or m.startswith('gui.qt')]\n"
            "print(bad); sys.exit(1 if bad else 0)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_import_contract_keeps_qt_out_of_lower_layers():
    lint = os.path.join(os.path.dirname(sys.executable), "lint-imports")
    out = subprocess.run([lint, "--no-cache"], capture_output=True, text=True,
                         cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "KEPT" in out.stdout


def test_summaries_become_records():
    rows = image_rows({"Id": "sha256:" + "ab" * 32, "RepoTags": ["a:1", "b:2"], "Size": 5, "Created": 7})
    assert [r.reference for r in rows] == ["a:1", "b:2"] and rows[0].short_id == "ab" * 6
    assert image_rows({"Id": "sha256:1", "RepoTags": None})[0].reference == "<none>:<none>"
    c = container_info({"Id": "c" * 64, "Names": ["/web"], "Image": "nginx", "State": "running",
                        "Status": "Up 1 second", "Created": 1,
                        "Ports": [{"PrivatePort": 80, "Type": "tcp", "IP": "127.0.0.1", "PublicPort": 8080},
                                  {"PrivatePort": 443, "Type": "tcp"}]})
    assert c.name == "web" and c.ports_text == "127.0.0.1:8080->80/tcp, 443/tcp"


def test_kind_is_an_enum_that_still_compares_with_strings():
    from gui.engine import ErrorKind

    err = EngineError("gone", "not_found", 404)
    assert err.kind is ErrorKind.NOT_FOUND and err.kind == "not_found" and f"{err.kind}" == str(err.kind) == "not_found"
    assert err.kind in ("not_found", "conflict") and {"not_found": 1}[err.kind] == 1
    assert EngineError("x").kind is ErrorKind.API
    with pytest.raises(ValueError):
        EngineError("x", "no_such_kind")


def test_every_kind_written_in_the_app_is_an_error_kind():
    """A kind passed as a string literal anywhere under gui/ (EngineError(..., "kind") or a subclass's
    super().__init__(message, "kind")) must be listed, or that error would fail where it is made."""
    import ast
    from pathlib import Path

    from gui.engine import ErrorKind

    root = Path(__file__).resolve().parents[2] / "gui"
    trees = {path: ast.parse(path.read_text(encoding="utf-8")) for path in root.rglob("*.py")}
    errors = {"EngineError"}  # and its subclasses, whose __init__ passes a kind up
    for _ in range(3):
        errors |= {n.name for t in trees.values() for n in ast.walk(t) if isinstance(n, ast.ClassDef)
                   and any(getattr(b, "id", getattr(b, "attr", None)) in errors for b in n.bases)}

    def calls(node, in_error_class=False):
        for child in ast.iter_child_nodes(node):
            inside = in_error_class or (isinstance(child, ast.ClassDef) and child.name in errors)
            if isinstance(child, ast.Call):
                name = getattr(child.func, "id", None) or getattr(child.func, "attr", None)
                if name == "EngineError" or (name == "__init__" and inside):
                    yield child
            yield from calls(child, inside if not isinstance(child, ast.ClassDef) else child.name in errors)

    used = set()
    for path, tree in trees.items():
        for node in calls(tree):
            kind = node.args[1] if len(node.args) > 1 else next(
                (k.value for k in node.keywords if k.arg == "kind"), None)
            if isinstance(kind, ast.Constant) and isinstance(kind.value, str):
                used.add((kind.value, f"{path.relative_to(root.parent)}:{node.lineno}"))
    assert used, "found no kinds at all: the scan is broken"
    assert not [(k, where) for k, where in used if k not in {m.value for m in ErrorKind}]


def _engine_without_engine(tmp_path) -> Engine:
    """An Engine whose API version is already known, so ``call`` hands ``fn`` a client without asking any
    engine first (the socket does not exist: a real call through it fails the way a stopped engine does)."""
    engine = Engine(resolve_engine(f"unix://{tmp_path}/none.sock"))
    engine._version = "1.41"
    return engine


def test_a_bug_inside_an_engine_call_propagates_unchanged(tmp_path):
    """A TypeError/KeyError of our own code is not "the engine said ...": it must reach the crash reporter."""
    engine = _engine_without_engine(tmp_path)

    def buggy(api):
        return api.api_version + 1  # str + int: the TypeError a slip in our own code makes

    with pytest.raises(TypeError) as info:
        engine.call(buggy)
    assert not isinstance(info.value, EngineError)
    with pytest.raises(KeyError, match="Id"):
        engine.call(lambda api: {}["Id"])
    assert engine._version == "1.41", "a bug is not a lost connection: the negotiated version stays"


def test_engine_and_transport_failures_inside_an_engine_call_still_become_engine_errors(tmp_path):
    from gui.engine import ErrorKind

    engine = _engine_without_engine(tmp_path)
    resp = requests.Response()
    resp.status_code = 404
    missing = docker.errors.APIError("404 Client Error", response=resp, explanation="No such image: nope:1")

    def not_found(api):
        raise missing

    with pytest.raises(EngineError) as info:
        engine.call(not_found)
    assert info.value.kind is ErrorKind.NOT_FOUND and info.value.status == 404
    assert str(info.value) == "No such image: nope:1"

    with pytest.raises(EngineError) as info:  # a real request to the missing socket: requests' ConnectionError
        engine.call(lambda api: api.images())
    assert info.value.kind is ErrorKind.UNREACHABLE and f"{tmp_path}/none.sock" in str(info.value)
    assert isinstance(info.value.__context__, requests.exceptions.ConnectionError)

    def refused(api):
        raise requests.exceptions.ConnectionError(ConnectionRefusedError(111, "Connection refused"))

    with pytest.raises(EngineError) as info:
        engine.call(refused)
    assert info.value.kind is ErrorKind.UNREACHABLE


def test_engine_faults_are_told_from_bugs():
    import http.client
    import ssl

    import urllib3.exceptions

    from gui.engine.errors import is_engine_fault

    faults = [docker.errors.DockerException("x"), docker.errors.NotFound("x"), requests.exceptions.ReadTimeout(),
              docker.errors.StreamParseError(ValueError("truncated")),
              urllib3.exceptions.ProtocolError("Connection broken"), http.client.IncompleteRead(b""),
              ConnectionResetError(104, "reset"), ssl.SSLError(1, "bad"), TimeoutError(), PermissionError(13, "no"),
              EngineError("x")]
    bugs = [TypeError("x"), KeyError("Id"), AttributeError("x"), ValueError("x"), ZeroDivisionError(),
            RuntimeError("x")]
    assert [e for e in faults if not is_engine_fault(e)] == []
    assert [e for e in bugs if is_engine_fault(e)] == []
    paramiko = pytest.importorskip("paramiko")
    assert is_engine_fault(paramiko.AuthenticationException("denied"))
