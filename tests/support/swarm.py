"""A real two-node Docker Swarm for tests: two private dockerds, each in a network namespace of its own.

Topology (addresses of this run's own /24, picked so that concurrent runs do not collide)::

    host ns  aicsh<n> 10.213.<n>.1 ──┐
    node m   eth1     10.213.<n>.2 ──┼── bridge in namespace aics-<run>-l (no iptables rules there)
    node w   eth1     10.213.<n>.3 ──┘

The test process stays in the host namespace and reaches both nodes through its veth into the link
(the host's own forwarding rules, which the main engine sets to DROP, are never crossed). Each dockerd is
started with ``nsenter --net=/var/run/netns/NAME`` (``ip netns exec`` remounts /sys and dockerd then
fails with "Devices cgroup isn't mounted") and keeps its default bridge (with ``--bridge=none``
host-mode published ports do not answer). The main engine's swarm state is never touched.

``destroy()`` stops the daemons, ends the containerd shims they leave (their children first: a
dockerd killed with running tasks leaves them behind) and removes the namespaces and the folders.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import docker

from tests.support.labels import RUN_ID

NETNS_DIR = "/var/run/netns"


def _run(*cmd: str, check: bool = True) -> subprocess.CompletedProcess:
    res = subprocess.run(list(cmd), capture_output=True, text=True, timeout=60)
    if check and res.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {res.stderr.strip() or res.stdout.strip()}")
    return res


def _pids_with(marker: str) -> list[int]:
    """Processes whose command line mentions ``marker`` (our folder): daemons, containerd, shims."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                cmd = fh.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in cmd:
            found.append(int(entry))
    return found


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as fh:
                out.extend(int(x) for x in fh.read().split())
    except OSError:
        pass
    return out


def _descendants(pid: int) -> list[int]:
    todo, seen = [pid], []
    for _ in range(10_000):
        if not todo:
            break
        p = todo.pop()
        for c in _children(p):
            if c not in seen:
                seen.append(c)
                todo.append(c)
    return seen


def _kill(pids) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def unmount_under(root: str) -> None:
    """Unmount everything mounted below ``root``, deepest first: the daemons leave overlay mounts and
    the network namespaces of tasks and of the ingress sandbox bound under exec/netns (each holds a
    namespace, and its interfaces, alive)."""
    points = []
    with contextlib.suppress(OSError), open("/proc/self/mountinfo") as fh:
        for line in fh:
            point = line.split()[4].replace("\\040", " ")
            if point.startswith(root.rstrip("/") + "/"):
                points.append(point)
    for point in sorted(points, key=len, reverse=True):
        _run("umount", "-l", point, check=False)


def _free_subnet() -> int:
    """N of a 10.213.N.0/24 no interface of this host uses (another run's swarm may hold one)."""
    used = _run("ip", "-4", "-o", "addr", check=False).stdout
    free = [n for n in range(16, 236) if f" 10.213.{n}." not in used]
    return random.choice(free) if free else 16 + random.randrange(220)


class SwarmNode:
    """One private dockerd in the network namespace ``netns`` at ``address``."""

    def __init__(self, name: str, netns: str, address: str, root: str):
        self.name = name
        self.netns = netns
        self.address = address
        self.root = os.path.join(root, name)
        os.makedirs(self.root, exist_ok=True)
        self.sock = os.path.join(self.root, "d.sock")
        self.url = f"unix://{self.sock}"
        self.log_path = os.path.join(self.root, "dockerd.log")
        self.proc: subprocess.Popen | None = None
        self.hostname = f"aics-{name}"

    def start(self, timeout: float = 60) -> None:
        config = os.path.join(self.root, "daemon.json")
        with open(config, "w") as fh:
            # not /etc/docker/daemon.json, whatever it holds; plain HTTP to the test registry on the link
            json.dump({"insecure-registries": ["10.213.0.0/16"]}, fh)
        with open(self.log_path, "ab") as log:
            # A UTS namespace of its own too, so the node's hostname says which node it is.
            dockerd = ["dockerd", "--host", self.url, "--config-file", config,
                       "--data-root", os.path.join(self.root, "data"),
                       "--exec-root", os.path.join(self.root, "exec"),
                       "--pidfile", os.path.join(self.root, "d.pid"),
                       "--label", f"aics-test-node={self.name}"]
            self.proc = subprocess.Popen(
                ["nsenter", f"--net={NETNS_DIR}/{self.netns}", "unshare", "--uts", "sh", "-c",
                 'hostname "$0" && exec "$@"', self.hostname, *dockerd],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dockerd of {self.name} exited: {self.tail()}")
            if self.answers():
                return
            time.sleep(0.1)
        raise RuntimeError(f"dockerd of {self.name} did not answer in {timeout} s: {self.tail()}")

    def api(self, timeout: float = 60) -> docker.APIClient:
        return docker.APIClient(base_url=self.url, version="1.41", timeout=timeout)

    def answers(self) -> bool:
        if not os.path.exists(self.sock):
            return False
        try:
            api = self.api(timeout=2)
            try:
                return api.ping()
            finally:
                api.close()
        except Exception:
            return False

    def kill(self) -> None:
        """The machine dies: dockerd, containerd, the shims and the tasks' processes, all at once."""
        pids = _pids_with(self.root)
        everything = []
        for pid in pids:
            everything.extend(_descendants(pid))
        _kill(everything + pids)
        if self.proc is not None:
            with contextlib.suppress(Exception):
                self.proc.wait(10)

    def restart(self, timeout: float = 60) -> None:
        """Start the daemon again after ``kill()`` (the node comes back with its swarm state)."""
        self.kill()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(self.root, "d.pid"))  # a killed daemon leaves it, and refuses to start
        self.start(timeout)

    def tail(self, n: int = 20) -> str:
        try:
            with open(self.log_path, errors="replace") as fh:
                return "".join(fh.readlines()[-n:])
        except OSError:
            return ""


class TwoNodeSwarm:
    """Two nodes, ``manager`` and ``worker``, in one swarm; the test process reaches both by address."""

    def __init__(self):
        self.tag = f"{RUN_ID[:6]}{random.randrange(16**2):02x}"
        self.subnet = _free_subnet()
        self.root = tempfile.mkdtemp(prefix="aics-swarm-", dir="/tmp")
        self.link_ns = f"aics-{self.tag}-l"
        self.host_if = f"aicsh{self.tag}"[:15]
        self.manager = SwarmNode("manager", f"aics-{self.tag}-m", self._addr(2), self.root)
        self.worker = SwarmNode("worker", f"aics-{self.tag}-w", self._addr(3), self.root)
        self.host_address = self._addr(1)
        self._made_ns: list[str] = []

    @classmethod
    def attach(cls, kept: dict) -> TwoNodeSwarm:
        """A swarm another process made and keeps (``describe()``); never destroyed from here."""
        swarm = cls.__new__(cls)
        swarm.root = kept["root"]
        swarm.manager = SwarmNode("manager", kept["manager_netns"], kept["manager_address"], kept["root"])
        swarm.worker = SwarmNode("worker", kept["worker_netns"], kept["worker_address"], kept["root"])
        swarm.host_address = kept["host_address"]
        return swarm

    def describe(self, images: dict) -> dict:
        return {"root": self.root, "manager_netns": self.manager.netns, "manager_address": self.manager.address,
                "worker_netns": self.worker.netns, "worker_address": self.worker.address,
                "host_address": self.host_address, "images": images}

    def _addr(self, n: int) -> str:
        return f"10.213.{self.subnet}.{n}"

    # -- network --------------------------------------------------------------------------
    def _netns(self, name: str) -> None:
        _run("ip", "netns", "add", name)
        self._made_ns.append(name)
        _run("ip", "-n", name, "link", "set", "lo", "up")

    def make_network(self) -> None:
        if shutil.which("dockerd") is None or shutil.which("nsenter") is None:
            raise RuntimeError("dockerd and nsenter are needed (apt-get install docker.io util-linux)")
        if os.geteuid() != 0:
            raise RuntimeError("a two-node swarm needs root (network namespaces)")
        self._netns(self.link_ns)
        _run("ip", "-n", self.link_ns, "link", "add", "br0", "type", "bridge")
        _run("ip", "-n", self.link_ns, "link", "set", "br0", "up")
        for node in (self.manager, self.worker):
            self._netns(node.netns)
            peer = f"p{node.name[0]}{self.tag}"[:15]
            _run("ip", "link", "add", peer, "type", "veth", "peer", "name", "eth1", "netns", node.netns)
            _run("ip", "link", "set", peer, "netns", self.link_ns)
            _run("ip", "-n", self.link_ns, "link", "set", peer, "master", "br0", "up")
            _run("ip", "-n", node.netns, "addr", "add", f"{node.address}/24", "dev", "eth1")
            _run("ip", "-n", node.netns, "link", "set", "eth1", "up")
        _run("ip", "link", "add", self.host_if, "type", "veth", "peer", "name", "ph", "netns", self.link_ns)
        _run("ip", "-n", self.link_ns, "link", "set", "ph", "master", "br0", "up")
        _run("ip", "addr", "add", f"{self.host_address}/24", "dev", self.host_if)
        _run("ip", "link", "set", self.host_if, "up")

    # -- the swarm ------------------------------------------------------------------------
    def start(self, heartbeat_s: float = 1.0) -> TwoNodeSwarm:
        self.make_network()
        threads = [threading.Thread(target=n.start) for n in (self.manager, self.worker)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(90)
        for n in (self.manager, self.worker):
            if not n.answers():
                raise RuntimeError(f"dockerd of {n.name} did not start: {n.tail()}")
        return self

    def form(self, heartbeat_s: float = 1.0) -> None:
        """``swarm init`` on the manager, ``swarm join`` from the worker (a short heartbeat, so a dead
        node is marked down in seconds)."""
        m = self.manager.api()
        spec = m.create_swarm_spec(dispatcher_heartbeat_period=int(heartbeat_s * 1e9))
        m.init_swarm(advertise_addr=self.manager.address, listen_addr=f"{self.manager.address}:2377",
                     swarm_spec=spec)
        token = m.inspect_swarm()["JoinTokens"]["Worker"]
        w = self.worker.api()
        w.join_swarm([f"{self.manager.address}:2377"], token, advertise_addr=self.worker.address,
                     listen_addr=f"{self.worker.address}:2377")
        m.close()
        w.close()

    def load_images(self, source_api: docker.APIClient, images: list[str]) -> None:
        """``docker save A B ... | docker load`` from the main engine into both nodes (no registry here)."""
        path = os.path.join(self.root, "images.tar")
        res = source_api._get(source_api._url("/images/get"), params={"names": images}, stream=True)
        source_api._raise_for_status(res)
        with open(path, "wb") as fh:
            for chunk in res.iter_content(1 << 20):
                fh.write(chunk)
        errors: list[str] = []

        def load(node: SwarmNode) -> None:
            api = node.api(timeout=300)
            try:
                with open(path, "rb") as fh:
                    for line in api.load_image(fh):
                        if "error" in line:
                            errors.append(f"{node.name}: {line['error']}")
            except Exception as exc:
                errors.append(f"{node.name}: {exc}")
            finally:
                api.close()

        threads = [threading.Thread(target=load, args=(n,)) for n in (self.manager, self.worker)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
        os.unlink(path)
        if errors:
            raise RuntimeError("; ".join(errors))

    def destroy(self) -> None:
        for node in (self.worker, self.manager):
            node.kill()  # thrown away: no graceful stop (it waits for every task to stop)
        unmount_under(self.root)
        with contextlib.suppress(Exception):
            _run("ip", "link", "del", self.host_if, check=False)
        for ns in reversed(self._made_ns):
            _run("ip", "netns", "del", ns, check=False)
        shutil.rmtree(self.root, ignore_errors=True)


class LinkRegistry:
    """Debian's docker-registry on the host's address in the link (plain HTTP; both nodes may use it:
    their daemons trust 10.213.0.0/16 as insecure registries). ``address`` is host:port."""

    def __init__(self, swarm: TwoNodeSwarm):
        from tests.support.servers import free_port

        self.root = tempfile.mkdtemp(prefix="aics-swarm-reg-", dir="/tmp")
        self.address = f"{swarm.host_address}:{free_port()}"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 20) -> LinkRegistry:
        import urllib.request

        binary = shutil.which("docker-registry")
        if binary is None:
            raise RuntimeError("docker-registry is not installed (apt-get install docker-registry)")
        config = os.path.join(self.root, "config.yml")
        with open(config, "w") as fh:
            fh.write("version: 0.1\nlog:\n  level: warn\n"
                     f"storage:\n  filesystem:\n    rootdirectory: {self.root}/data\n"
                     f"http:\n  addr: {self.address}\n  secret: aics-test-only\n")
        with open(os.path.join(self.root, "registry.log"), "ab") as log:
            self.proc = subprocess.Popen([binary, "serve", config], stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://{self.address}/v2/", timeout=1)
                return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"docker-registry did not answer at {self.address}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.root, ignore_errors=True)
