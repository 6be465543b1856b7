"""A private Docker daemon in its own network namespace, which tests may stop and start at will.

`unshare --net` matters: a second `dockerd --bridge none` in the host namespace deletes the main
engine's docker0 bridge.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time

import docker


def _alive(pid: int) -> bool:
    """The process runs (a zombie does not)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


class PrivateDockerd:
    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="aics-d-", dir="/tmp")
        self.sock = os.path.join(self.root, "d.sock")
        self.url = f"unix://{self.sock}"
        self.proc: subprocess.Popen | None = None
        self.log_path = os.path.join(self.root, "dockerd.log")

    def start(self, timeout: float = 60) -> None:
        if shutil.which("dockerd") is None or shutil.which("unshare") is None:
            raise RuntimeError("dockerd and unshare are needed (apt-get install docker.io util-linux)")
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                ["unshare", "--net", "dockerd", "--host", self.url,
                 "--data-root", os.path.join(self.root, "data"),
                 "--exec-root", os.path.join(self.root, "exec"),
                 "--pidfile", os.path.join(self.root, "d.pid"),
                 "--bridge", "none", "--iptables=false", "--ip6tables=false"],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"private dockerd exited: {self.tail()}")
            if self.answers():
                return
            time.sleep(0.1)
        raise RuntimeError(f"private dockerd did not answer in {timeout} s: {self.tail()}")

    def answers(self) -> bool:
        if not os.path.exists(self.sock):
            return False
        try:
            api = docker.APIClient(base_url=self.url, version="1.41", timeout=2)
            try:
                return api.ping()
            finally:
                api.close()
        except Exception:
            return False

    def send_signal(self, sig: int) -> None:
        """Send ``sig`` to the daemon itself (SIGSTOP freezes it, SIGCONT thaws it)."""
        os.kill(self.proc.pid, sig)

    def freeze(self, timeout: float = 5.0) -> None:
        """SIGSTOP the daemon and return once every thread of it is stopped: kill() returns before that,
        and on a busy machine a thread still running may answer a request that comes right after."""
        os.kill(self.proc.pid, signal.SIGSTOP)
        tasks = f"/proc/{self.proc.pid}/task"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            states = []
            for tid in os.listdir(tasks):
                try:
                    with open(f"{tasks}/{tid}/stat") as fh:
                        states.append(fh.read().rsplit(")", 1)[1].split()[0])
                except OSError:
                    continue
            if all(state == "T" for state in states):
                return
            time.sleep(0.002)
        raise RuntimeError(f"the private dockerd did not stop in {timeout} s")

    def crash(self) -> None:
        """Kill the daemon as a crash would (SIGKILL); ``start()`` then restarts it on the same data root.

        Its containerd dies with it but stays a zombie when PID 1 does not reap, and the next daemon
        would take the pid in its pid file for a live containerd and wait for it in vain: remove it.
        """
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        pidfile = os.path.join(self.root, "exec", "containerd", "containerd.pid")
        try:
            with open(pidfile) as fh:
                pid = int(fh.read().strip() or 0)
        except (OSError, ValueError):
            return
        deadline = time.monotonic() + 10
        while pid and time.monotonic() < deadline and _alive(pid):
            time.sleep(0.05)
        os.remove(pidfile)

    def stop(self, timeout: float = 30) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.kill(self.proc.pid, signal.SIGCONT)  # a frozen daemon would not act on SIGTERM
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        # containerd-shims of a killed daemon may linger in the session group
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def _kill_orphans(self) -> None:
        """Kill the containerd shims a crashed daemon of this root left (their own process groups, so
        ``stop()`` misses them), and the containers under them."""
        shims = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as fh:
                    cmd = fh.read().split(b"\0")
            except OSError:
                continue
            if cmd and cmd[0].endswith(b"containerd-shim-runc-v2") and any(self.root.encode() in a for a in cmd):
                shims.append(int(entry))
        for shim in shims:
            children = subprocess.run(["pgrep", "-P", str(shim)], capture_output=True, text=True).stdout.split()
            for pid in [*map(int, children), shim]:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def tail(self, n: int = 20) -> str:
        try:
            with open(self.log_path, errors="replace") as fh:
                return "".join(fh.readlines()[-n:])
        except OSError:
            return ""

    def destroy(self) -> None:
        self.stop()
        self._kill_orphans()
        subprocess.run(["umount", "-R", os.path.join(self.root, "exec")], capture_output=True)
        subprocess.run(["umount", "-R", os.path.join(self.root, "data")], capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)
