"""Debian's `docker-registry` on 127.0.0.1 (a free port, storage in a temporary folder), optionally with htpasswd."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

from tests.support.servers import free_port, start, stop, tail, wait_port


class RegistryServer:
    def __init__(self, user: str | None = None, password: str | None = None):
        self.root = tempfile.mkdtemp(prefix="aics-reg-", dir="/tmp")
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.user, self.password = user, password
        self.log = os.path.join(self.root, "registry.log")
        self.proc: subprocess.Popen | None = None

    def start(self) -> RegistryServer:
        binary = shutil.which("docker-registry")
        if binary is None:
            raise RuntimeError("docker-registry is not installed (apt-get install docker-registry)")
        auth = ""
        if self.user:
            done = subprocess.run(["htpasswd", "-Bbn", self.user, self.password], capture_output=True,
                                  text=True, check=True)
            htpasswd = os.path.join(self.root, "htpasswd")
            with open(htpasswd, "w") as fh:
                fh.write(done.stdout)
            auth = f"auth:\n  htpasswd:\n    realm: aics-test\n    path: {htpasswd}\n"
        config = os.path.join(self.root, "config.yml")
        with open(config, "w") as fh:
            fh.write("version: 0.1\nlog:\n  level: warn\n"
                     f"storage:\n  filesystem:\n    rootdirectory: {self.root}/data\n"
                     f"http:\n  addr: {self.address}\n  secret: aics-test-only\n{auth}")
        self.proc = start([binary, "serve", config], self.log)
        wait_port(self.port, self.proc, what="docker-registry", log=self.log)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://{self.address}/v2/", timeout=2)
                return self
            except urllib.error.HTTPError as exc:
                if exc.code == 401:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"docker-registry does not answer: {tail(self.log)}")

    def tags(self, repository: str) -> list[str]:
        """The registry's own list of tags (read directly, not through the engine)."""
        import base64
        import json

        req = urllib.request.Request(f"http://{self.address}/v2/{repository}/tags/list")
        if self.user:
            token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
            req.add_header("Authorization", f"Basic {token}")
        try:
            with urllib.request.urlopen(req, timeout=5) as resp:
                return json.load(resp).get("tags") or []
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return []
            raise

    def stop(self) -> None:
        stop(self.proc)
        shutil.rmtree(self.root, ignore_errors=True)
