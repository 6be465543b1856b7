"""docker-py without paramiko until an ssh:// engine is used.

docker-py imports its SSH transport, and with it paramiko and cryptography (~35 ms, a tenth of the
app's start here), whenever it is imported, though only ``ssh://`` engines use it. ``import_docker()``
imports docker-py with paramiko kept out (docker-py takes it as missing, which it allows), then gives
docker-py an SSH adapter that imports the real one, paramiko included, the first time an ``ssh://``
client is made. When something imported docker-py or paramiko before, nothing changes.
"""

from __future__ import annotations

import importlib.abc
import sys


class _KeepOut(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "paramiko" or name.startswith("paramiko."):
            raise ImportError(f"{name} is imported when an ssh:// engine is used", name=name)
        return None


def _ssh_adapter(*args, **kwargs):
    """docker-py's SSHHTTPAdapter, imported (with paramiko) on the first ssh:// client."""
    from docker.transport import sshconn  # noqa: PLC0415

    return sshconn.SSHHTTPAdapter(*args, **kwargs)


def import_docker():
    """``import docker``, paramiko loaded only when an ssh:// engine needs it. Returns the module."""
    if "docker" in sys.modules or "paramiko" in sys.modules:
        import docker  # noqa: PLC0415

        return docker
    keep_out = _KeepOut()
    sys.meta_path.insert(0, keep_out)
    try:
        import docker  # noqa: PLC0415
        import docker.api.client  # noqa: PLC0415
        import docker.transport  # noqa: PLC0415
    finally:
        sys.meta_path.remove(keep_out)
    for module in (docker.api.client, docker.transport):
        if not hasattr(module, "SSHHTTPAdapter"):
            module.SSHHTTPAdapter = _ssh_adapter
    return docker
