"""Predict on a swarm service: one client per replica, each request sent to the replica with the fewest
requests in flight (least outstanding requests), and sent again to another replica when the one it went
to dies (prediction is idempotent: the same picture gives the same answer).

Swarm schedules and balances; this only spreads the studio's own requests when the routing mesh does not
answer (a kernel without IP_VS, host-mode ports): ``choose_route`` prefers the mesh when it answers. The
replica that answered is on the Prediction (``served_by``), and ``retries`` counts requests sent again.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from gui.predict.client import PredictionClient
from gui.predict.errors import PredictError
from gui.predict.models import ModelMetadata, Prediction

# A replica that fails like this is gone (or going): try another. "http" 502/503/504: a proxy or a
# server that is stopping or not ready; any other http status is the picture's fault and final.
RETRY_KINDS = ("connection", "timeout")
RETRY_STATUS = (502, 503, 504)
REFRESH_S = 2.0  # re-read where the replicas are at most this often while requests flow
WAIT_FOR_REPLICA_S = 60.0  # how long a request waits for a replica when none answers (a node failing over)


@dataclass(frozen=True)
class Replica:
    """Where one replica answers, and how to name it on a card ("replica 2 on node-b")."""

    url: str
    label: str
    key: str = ""

    @property
    def id(self) -> str:
        return self.key or self.url


def choose_route(mesh: Sequence[Replica], tasks: Sequence[Replica], answers: Callable[[str], bool]) -> list[Replica]:
    """The routing mesh when one of its addresses answers (Swarm balances then), else the tasks' own
    endpoints (host-mode ports on their nodes), which this client balances itself."""
    for m in mesh:
        if answers(m.url):
            return [m]
    return list(tasks)


def retryable(exc: PredictError) -> bool:
    return exc.kind in RETRY_KINDS or (exc.kind == "http" and exc.status in RETRY_STATUS)


class ReplicaSetClient(PredictionClient):
    """A PredictionClient over N replicas. ``endpoints()`` says where they are now (called again when a
    replica fails and every ``REFRESH_S`` while requests flow); ``make(url)`` makes one endpoint's client."""

    protocol = "replicas"

    def __init__(self, endpoints: Callable[[], list[Replica]], make: Callable[[str], PredictionClient],
                 name: str = "service", wait_s: float = WAIT_FOR_REPLICA_S):
        # No transport of its own: every request goes through a replica's client.
        self.name = name
        self._endpoints = endpoints
        self._make = make
        self._wait_s = wait_s
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._clients: dict[str, PredictionClient] = {}
        self._replicas: dict[str, Replica] = {}
        self._outstanding: dict[str, int] = {}
        self._dead: dict[str, float] = {}  # replica id -> when it failed
        self._read_at = 0.0
        self._reading = False
        self.retries = 0
        self.answered_by: dict[str, int] = {}
        self.overrides = None
        self._meta: ModelMetadata | None = None
        self._meta_lock = threading.Lock()
        self.refresh(force=True)

    @property
    def url(self) -> str:
        with self._lock:
            return next(iter(self._replicas.values())).url if self._replicas else ""

    @property
    def replicas(self) -> list[Replica]:
        with self._lock:
            return [r for k, r in self._replicas.items() if k not in self._dead]

    # -- where the replicas are ----------------------------------------------------------------------
    def refresh(self, force: bool = False) -> None:
        """Read the endpoints again (at most every REFRESH_S unless ``force``); one reader at a time."""
        with self._lock:
            if self._reading or (not force and time.monotonic() - self._read_at < REFRESH_S):
                return
            self._reading = True
        try:
            found = self._endpoints()
        except Exception:
            found = None  # the engine did not answer: keep what we know
        with self._lock:
            self._reading = False
            self._read_at = time.monotonic()
            if found is None:
                return
            now = {r.id: r for r in found}
            for key in list(self._replicas):
                if key not in now:
                    self._replicas.pop(key)
                    self._dead.pop(key, None)
                    client = self._clients.pop(key, None)
                    if client is not None:
                        client.close()
            for key, r in now.items():
                if key not in self._replicas or self._replicas[key].url != r.url:
                    self._replicas[key] = r
                    old = self._clients.pop(key, None)
                    if old is not None:
                        old.close()
                    self._dead.pop(key, None)
            self._changed.notify_all()

    def _pick(self, avoid: set[str]) -> tuple[Replica, PredictionClient] | None:
        with self._lock:
            live = [r for k, r in self._replicas.items() if k not in self._dead and k not in avoid]
            if not live:
                return None
            r = min(live, key=lambda r: (self._outstanding.get(r.id, 0), self.answered_by.get(r.label, 0)))
            self._outstanding[r.id] = self._outstanding.get(r.id, 0) + 1
            client = self._clients.get(r.id)
            if client is None:
                client = self._clients[r.id] = self._make(r.url)
            return r, client

    def _release(self, r: Replica, failed: bool) -> None:
        with self._lock:
            self._outstanding[r.id] = max(0, self._outstanding.get(r.id, 1) - 1)
            if failed:
                self._dead[r.id] = time.monotonic()
            self._changed.notify_all()

    def _call(self, fn: Callable[[PredictionClient], object]) -> tuple[object, Replica]:
        """``fn(client)`` on the least busy live replica; on a replica failure, again on another one."""
        self.refresh()
        avoid: set[str] = set()
        deadline = time.monotonic() + self._wait_s
        last: PredictError | None = None
        for _attempt in range(1000):
            picked = self._pick(avoid)
            if picked is None:
                if time.monotonic() >= deadline:
                    break
                # None left to try: the failed ones may be rescheduled elsewhere; look again shortly.
                self.refresh(force=True)
                with self._lock:
                    self._changed.wait(0.5)
                avoid.clear()
                with self._lock:
                    stale = [k for k, t in self._dead.items() if time.monotonic() - t > 3.0]
                    for k in stale:  # give a failed replica another chance after a while
                        self._dead.pop(k, None)
                continue
            r, client = picked
            try:
                result = fn(client)
            except PredictError as exc:
                self._release(r, failed=retryable(exc))
                if not retryable(exc):
                    raise
                last = exc
                avoid.add(r.id)
                with self._lock:
                    self.retries += 1
                self.refresh(force=True)
                continue
            self._release(r, failed=False)
            with self._lock:
                self.answered_by[r.label] = self.answered_by.get(r.label, 0) + 1
            return result, r
        raise PredictError(f"no replica of {self.name} answered within {self._wait_s:g} s"
                           + (f" (last: {last.message})" if last else ""), kind="connection")

    # -- PredictionClient --------------------------------------------------------------------------
    def metadata(self, refresh: bool = False) -> ModelMetadata:
        with self._meta_lock:
            if self._meta is None or refresh:
                self._meta, _r = self._call(lambda c: c.metadata(refresh))
            return self._meta

    def _read_metadata(self) -> ModelMetadata:
        return self.metadata(refresh=True)

    def ready(self) -> bool:
        result, _r = self._call(lambda c: c.ready())
        return bool(result)

    def predict_image(self, data: bytes, top_k: int = 5) -> Prediction:
        prediction, r = self._call(lambda c: c.predict_image(data, top_k))
        return dataclasses.replace(prediction, served_by=r.label)

    def predict_rows(self, rows):
        result, _r = self._call(lambda c: c.predict_rows(rows))
        return result

    def close(self) -> None:
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for c in clients:
            c.close()


def _answers(url: str) -> bool:
    """Does anything answer HTTP there (the routing mesh forwards to a replica)? One short try."""
    import requests

    try:
        return requests.get(f"{url}/health", timeout=1.5).status_code < 500
    except requests.RequestException:
        return False


def service_client(engine, service_id: str, name: str, port: int = 8080, protocol: str = "studio-v1",
                   timeout: float = 30.0, probe: Callable[[str], bool] = _answers) -> ReplicaSetClient:
    """A ReplicaSetClient for a swarm service: the routing mesh if it answers, else each running task's
    host-mode endpoint, re-read from the engine as replicas come and go."""
    from gui.engine.services import replica_endpoints
    from gui.predict import make_client

    def endpoints() -> list[Replica]:
        mesh, tasks = replica_endpoints(engine, service_id, port)
        return choose_route([Replica(e.url, e.label, f"mesh:{e.url}") for e in mesh],
                            [Replica(e.url, e.label, e.task_id) for e in tasks], probe)

    return ReplicaSetClient(endpoints, lambda url: make_client(protocol, url, timeout=timeout), name)


@dataclass(frozen=True)
class ServiceTarget:
    """A swarm service whose image speaks a prediction protocol (its image's labels say so)."""

    name: str
    service_id: str
    protocol: str
    task: str
    port: int
    replicas: str  # "3/4"


def service_targets(engine) -> list[ServiceTarget]:
    """The services of the engine's swarm (it must be a manager; else none) that serve a model."""
    from gui.engine import EngineError
    from gui.engine.services import list_services
    from gui.predict.targets import DEFAULT_PORT, PORT_LABEL, PROTOCOL_LABEL, TASK_LABEL

    try:
        services = list_services(engine)
    except EngineError:
        return []
    found, labels_of = [], {}
    for s in services:
        if s.image not in labels_of:
            try:
                labels_of[s.image] = (engine.call(lambda api, i=s.image: api.inspect_image(i)).get("Config")
                                      or {}).get("Labels") or {}
            except EngineError:
                labels_of[s.image] = {}
        labels = labels_of[s.image]
        if not labels.get(PROTOCOL_LABEL):
            continue
        try:
            port = int(str(labels.get(PORT_LABEL) or DEFAULT_PORT).split("/")[0])
        except ValueError:
            port = DEFAULT_PORT
        found.append(ServiceTarget(s.name, s.id, labels[PROTOCOL_LABEL], labels.get(TASK_LABEL, ""), port,
                                   s.replicas_text))
    return found
