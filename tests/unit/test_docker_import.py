"""docker-py is imported without paramiko, which an ssh:// engine still gets on its first client."""

from __future__ import annotations

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _run(code: str) -> list[str]:
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def test_the_engine_client_does_not_load_paramiko_and_an_ssh_engine_still_works():
    code = """
import sys
import gui.engine.client
print('paramiko' in sys.modules)
import docker
try:
    docker.APIClient(base_url='ssh://nobody@127.0.0.1:1', version='1.41', timeout=3)
except Exception as exc:
    print(type(exc).__module__.split('.')[0])
print('paramiko' in sys.modules)
"""
    # no paramiko at first; an ssh:// client then reaches paramiko (its connection refused by paramiko, not
    # "Install paramiko package" from docker-py)
    assert _run(code) == ["False", "paramiko", "True"]


def test_an_earlier_docker_import_is_left_as_it_was():
    code = """
import sys
import docker
import gui.engine.client
from docker.transport import SSHHTTPAdapter
print('paramiko' in sys.modules, SSHHTTPAdapter.__module__)
"""
    assert _run(code) == ["True", "docker.transport.sshconn"]
