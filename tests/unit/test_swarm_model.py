"""The swarm engine layer's pure parts, without an engine: the deploy form checked and written as the
engine's spec and as `docker service create`, the engine's answers and task errors in words, the host's
addresses from /proc/net/fib_trie, service-log details, replica endpoints (the real engine: tests/engine/
test_swarm.py)."""

from __future__ import annotations

import shlex

from gui.engine.errors import EngineError, ErrorKind
from gui.engine.service_spec import ServiceSpec, parse_memory
from gui.engine.services import (
    PublishedPort,
    ServiceInfo,
    TaskInfo,
    mesh_endpoints,
    service_info,
    split_details,
    task_endpoints,
    task_error_words,
)
from gui.engine.swarm import NodeInfo, parse_fib_trie, swarm_error
from gui.qt.cluster.membership import parse_join_command

FIB = """Main:
  +-- 0.0.0.0/0 3 0 5
     |-- 0.0.0.0
        /0 universe UNICAST
     +-- 10.213.40.0/24 2 0 2
        |-- 10.213.40.0
           /24 link UNICAST
        |-- 10.213.40.2
           /32 host LOCAL
     |-- 127.0.0.1
        /32 host LOCAL
     |-- 172.17.0.1
        /32 host LOCAL
Local:
     |-- 10.213.40.2
        /32 host LOCAL
"""


def test_fib_trie_gives_the_host_s_own_addresses_without_loopback():
    assert parse_fib_trie(FIB) == ["10.213.40.2", "172.17.0.1"]


def test_spec_problems_in_words():
    ok = ServiceSpec(name="digits", image="digits:1", replicas=3, memory_limit="1g", memory_reservation="256m",
                     constraints=("node.role==worker", "node.labels.gpu != no"))
    assert ok.problems() == []
    bad = ServiceSpec(name="-x", image="", replicas=-1, memory_limit="lots", cpu_limit=1, cpu_reservation=2,
                      constraints=("node.role=worker", "node.role===manager"), env=(("1A", "x"),))
    problems = " | ".join(bad.problems())
    for words in ("a service name is letters", "choose an image", "replicas: 0 to 1000", "memory limit: 'lots'",
                  "CPU reservation is more than the limit", "constraint 'node.role=worker'",
                  "constraint 'node.role===manager'", "environment name '1A'"):
        assert words in problems, words
    assert parse_memory("1.5g") == int(1.5 * 1024 ** 3) and parse_memory("") == 0


def test_spec_as_the_engine_s_body_and_as_the_cli():
    spec = ServiceSpec(name="digits", image="reg.example/digits:2", replicas=4, published_port=9000,
                       publish_mode="ingress", cpu_limit=1.5, memory_limit="512m", constraints=("node.role==worker",),
                       env=(("API_TOKEN", "s3cret"), ("TOP_K", "3")), update_parallelism=2, rollback_on_failure=True)
    body = spec.to_api()
    assert body["Mode"] == {"Replicated": {"Replicas": 4}}
    assert body["EndpointSpec"]["Ports"] == [{"Protocol": "tcp", "TargetPort": 8080, "PublishMode": "ingress",
                                              "PublishedPort": 9000}]
    assert body["TaskTemplate"]["Resources"] == {"Limits": {"NanoCPUs": 1_500_000_000, "MemoryBytes": 512 << 20}}
    assert body["TaskTemplate"]["ContainerSpec"]["Env"] == ["API_TOKEN=s3cret", "TOP_K=3"]
    assert body["UpdateConfig"]["FailureAction"] == "rollback" and body["UpdateConfig"]["Order"] == "start-first"
    cli = spec.cli(secret_names=("API_TOKEN",))
    args = shlex.split(cli)
    assert args[:3] == ["docker", "service", "create"] and args[-1] == "reg.example/digits:2"
    assert "mode=ingress,target=8080,published=9000" in args and "node.role==worker" in args
    assert "API_TOKEN=******" in args and "s3cret" not in cli and "TOP_K=3" in args
    assert args[args.index("--update-failure-action") + 1] == "rollback"


def test_engine_answers_in_words():
    def said(message: str, status: int = 503) -> str:
        kind = {404: ErrorKind.NOT_FOUND, 409: ErrorKind.CONFLICT, 400: ErrorKind.BAD_REQUEST}.get(status,
                                                                                                  ErrorKind.API)
        return swarm_error(EngineError(message, kind, status), "Deploy web").message

    assert "a worker, not a swarm manager" in said("This node is not a swarm manager. Worker nodes can't be used "
                                                   "to view or modify cluster state.")
    # what a 20.10 engine that is in no swarm says
    assert "not in a swarm: initialize one" in said("This node is not a swarm manager. Use \"docker swarm init\" "
                                                    "or \"docker swarm join\" to connect this node to swarm and "
                                                    "try again.")
    assert said("Rpc error: code = AlreadyExists desc = name conflicts with an existing object", 409) \
        == "Deploy web: that name is taken by another service."
    assert said("Rpc error: code = Unknown desc = value '=x' is invalid", 500).startswith(
        "Deploy web: a placement constraint is invalid: value '=x' is invalid")
    assert "changed meanwhile" in said("Rpc error: code = Unknown desc = update out of sequence", 500)


def test_task_errors_in_words():
    assert task_error_words("No such image: reg/x:1@sha256:abc") .startswith(
        "No such image: reg/x:1. This node does not have it and cannot pull it")
    assert task_error_words("no suitable node (scheduling constraints not satisfied on 2 nodes)").startswith(
        "No node matches the placement constraints")
    assert task_error_words("no suitable node (insufficient resources on 2 nodes)").startswith(
        "No node has the CPU or memory")
    assert task_error_words("task: non-zero exit (3)") == "The container exited with code 3."
    assert "health check" in task_error_words("dockerexec: unhealthy container")


def test_service_record_and_log_details():
    raw = {"ID": "s1", "Version": {"Index": 7}, "Spec": {
        "Name": "web", "Labels": {"ai-container-studio.service": "1"},
        "TaskTemplate": {"ContainerSpec": {"Image": "digits:1@sha256:" + "a" * 64}},
        "Mode": {"Replicated": {"Replicas": 3}}, "EndpointSpec": {"Ports": []}},
        "Endpoint": {"Ports": [{"TargetPort": 8080, "PublishedPort": 30001, "PublishMode": "ingress",
                                "Protocol": "tcp"}]},
        "ServiceStatus": {"RunningTasks": 2, "DesiredTasks": 3},
        "UpdateStatus": {"State": "rollback_started",
                         "Message": "update rolled back due to failure or early termination of task x"}}
    s = service_info(raw)
    assert (s.name, s.image, s.replicas_text, s.ports_text) == ("web", "digits:1", "2/3", "30001->8080/tcp (ingress)")
    assert s.automatic_rollback and s.update_text == "rolling back…"
    assert s.update_words().startswith("Rolling back by itself")
    attrs, text = split_details("com.docker.swarm.node.id=n1,com.docker.swarm.service.id=s1,"
                                "com.docker.swarm.task.id=t1 serving on :8080")
    assert attrs["com.docker.swarm.task.id"] == "t1" and text == "serving on :8080"
    assert split_details("plain line") == ({}, "plain line")


def _task(slot, node, addr, state="running", ports=((8080, 32768),), down=False):
    return TaskInfo(id=f"t{slot}", service_id="s", slot=slot, node_id=node, node=node, node_address=addr,
                    desired_state="running", state=state, message="", error="", updated=0.0, host_ports=ports,
                    node_down=down)


def test_replica_endpoints_from_tasks_and_the_mesh():
    tasks = [_task(2, "b", "10.0.0.3"), _task(1, "a", "10.0.0.2"), _task(3, "b", "10.0.0.3", state="starting"),
             _task(4, "c", "10.0.0.4", down=True)]
    eps = task_endpoints(tasks, 8080)
    assert [(e.slot, e.url, e.label) for e in eps] == [(1, "http://10.0.0.2:32768", "replica 1 on a"),
                                                        (2, "http://10.0.0.3:32768", "replica 2 on b")]
    nodes = [NodeInfo("n1", "a", "manager", "active", "ready", "10.0.0.2"),
             NodeInfo("n2", "b", "worker", "active", "down", "10.0.0.3")]
    service = ServiceInfo("s", "web", "digits:1", "replicated", 2, 2, (PublishedPort(8080, 30001, "ingress"),))
    assert [e.url for e in mesh_endpoints(service, nodes, 8080)] == ["http://10.0.0.2:30001"]
    host_only = ServiceInfo("s", "web", "digits:1", "replicated", 2, 2, (PublishedPort(8080, 0, "host"),))
    assert mesh_endpoints(host_only, nodes, 8080) == []


def test_a_pasted_join_command_fills_address_and_token():
    assert parse_join_command("docker swarm join --token SWMTKN-1-abc 10.0.0.5:2377") == ("10.0.0.5:2377",
                                                                                         "SWMTKN-1-abc")
    assert parse_join_command("hello") == ("", "")
