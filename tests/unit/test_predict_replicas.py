"""ReplicaSetClient without a swarm: least outstanding requests, failover to another replica (counted),
waiting for a rescheduled replica, and the choice between the routing mesh and the tasks' endpoints.
The real thing (a node killed mid-batch) is in tests/engine/test_swarm.py."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from gui.predict import PredictError
from gui.predict.models import ModelMetadata, Prediction
from gui.predict.replicas import Replica, ReplicaSetClient, choose_route


class FakeReplica:
    def __init__(self, url: str, delay: float = 0.0, error: PredictError | None = None):
        self.url = url
        self.delay = delay
        self.error = error
        self.calls = 0
        self.in_flight = 0
        self.peak = 0
        self.lock = threading.Lock()

    def predict_image(self, data: bytes, top_k: int = 5) -> Prediction:
        with self.lock:
            self.calls += 1
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        try:
            time.sleep(self.delay)
            if self.error is not None:
                raise self.error
            return Prediction(labels=(data.decode(),), scores=(1.0,), round_trip_ms=self.delay * 1000)
        finally:
            with self.lock:
                self.in_flight -= 1

    def metadata(self, refresh: bool = False) -> ModelMetadata:
        return ModelMetadata(name="digits")

    def close(self) -> None:
        pass


def client_for(fakes: dict[str, FakeReplica], wait_s: float = 5.0):
    replicas = [Replica(url, f"replica {i} on node-{i}", f"t{i}") for i, url in enumerate(fakes, 1)]
    return ReplicaSetClient(lambda: list(replicas), lambda url: fakes[url], "digits", wait_s=wait_s), replicas


def test_requests_go_to_the_replica_with_fewest_in_flight():
    fakes = {"http://a": FakeReplica("http://a", delay=0.2), "http://b": FakeReplica("http://b", delay=0.01)}
    client, _ = client_for(fakes)
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda i: client.predict_image(str(i).encode()), range(40)))
    assert [a.top_label for a in answers] == [str(i) for i in range(40)]
    assert fakes["http://b"].calls > 3 * fakes["http://a"].calls  # the slow one holds requests longer
    assert {a.served_by for a in answers} <= {"replica 1 on node-1", "replica 2 on node-2"}
    assert client.retries == 0


def test_a_dead_replica_costs_no_picture():
    dead = PredictError("connection refused: did the container stop?", kind="connection")
    fakes = {"http://a": FakeReplica("http://a", error=dead), "http://b": FakeReplica("http://b")}
    client, _ = client_for(fakes)
    answers = [client.predict_image(str(i).encode()) for i in range(10)]
    assert [a.top_label for a in answers] == [str(i) for i in range(10)]
    assert {a.served_by for a in answers} == {"replica 2 on node-2"}
    assert client.retries == fakes["http://a"].calls == 1  # marked dead after one failure
    assert [r.label for r in client.replicas] == ["replica 2 on node-2"]


def test_the_picture_s_own_fault_is_not_retried():
    bad = PredictError("the server refused the picture (400): not a picture", kind="http", status=400)
    fakes = {"http://a": FakeReplica("http://a", error=bad), "http://b": FakeReplica("http://b", error=bad)}
    client, _ = client_for(fakes)
    with pytest.raises(PredictError, match="not a picture"):
        client.predict_image(b"x")
    assert client.retries == 0


def test_a_request_waits_for_a_rescheduled_replica():
    dead = PredictError("timed out", kind="timeout")
    fakes = {"http://a": FakeReplica("http://a", error=dead), "http://c": FakeReplica("http://c")}
    where = [[Replica("http://a", "replica 1 on node-a", "t1")]]
    client = ReplicaSetClient(lambda: list(where[0]), lambda url: fakes[url], "digits", wait_s=10)
    threading.Timer(0.5, lambda: where.__setitem__(0, [Replica("http://c", "replica 1 on node-c", "t9")])).start()
    t0 = time.monotonic()
    answer = client.predict_image(b"7")
    assert answer.top_label == "7" and answer.served_by == "replica 1 on node-c"
    assert 0.4 < time.monotonic() - t0 < 5 and client.retries >= 1


def test_no_replica_at_all_fails_in_words():
    client = ReplicaSetClient(lambda: [], lambda url: None, "digits", wait_s=0.5)
    with pytest.raises(PredictError, match="no replica of digits answered within 0.5 s"):
        client.predict_image(b"x")


def test_route_prefers_the_routing_mesh_when_it_answers():
    mesh = [Replica("http://10.0.0.1:30000", "routing mesh"), Replica("http://10.0.0.2:30000", "routing mesh")]
    tasks = [Replica("http://10.0.0.1:32768", "replica 1 on a", "t1"), Replica("http://10.0.0.2:32768", "replica 2 on b", "t2")]
    assert choose_route(mesh, tasks, lambda url: url.endswith(":30000") and "10.0.0.2" in url) == [mesh[1]]
    assert choose_route(mesh, tasks, lambda url: False) == tasks  # no IP_VS: the mesh does not answer
    assert choose_route([], tasks, lambda url: True) == tasks
