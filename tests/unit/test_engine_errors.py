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
