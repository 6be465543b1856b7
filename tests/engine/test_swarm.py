"""The engine layer's swarm calls on a real two-node swarm (two private dockerds in network namespaces,
tests/support/swarm.py): membership, nodes, services, tasks on both nodes, scale, rolling update and
automatic rollback, service logs, errors in words. The main engine's swarm state is never touched."""

from __future__ import annotations

import subprocess
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from gui.engine import Engine, EngineError
from gui.engine.endpoint import EngineTarget
from gui.engine.service_spec import ServiceSpec
from gui.engine.services import (
    ServiceLogReader,
    create_service,
    get_service,
    list_services,
    list_tasks,
    remove_service,
    replica_endpoints,
    rollback_service,
    scale_service,
    split_details,
    update_service_image,
)
from gui.engine.swarm import (
    advertise_candidates,
    init_swarm,
    join_command,
    join_swarm,
    leave_swarm,
    list_nodes,
    remove_node,
    set_node_availability,
    swarm_state,
)
from tests.support.labels import RUN_ID

pytestmark = [pytest.mark.engine, pytest.mark.timeout(240)]


def wait(what, check, timeout: float = 60, step: float = 0.3):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(step)
    raise AssertionError(f"{what}: not within {timeout} s (last: {last!r})")


@pytest.fixture
def manager(two_node_swarm):
    e = Engine(EngineTarget(two_node_swarm.manager.url, "test swarm"))
    yield e
    e.close()


@pytest.fixture
def worker(two_node_swarm):
    e = Engine(EngineTarget(two_node_swarm.worker.url, "test swarm"))
    yield e
    e.close()


@pytest.fixture
def service(manager):
    """Deploy a ServiceSpec (named for this run) and remove it after the test."""
    made = []

    def deploy(image: str, stem: str = "svc", **kw) -> str:
        spec = ServiceSpec(name=f"aicstest-{RUN_ID}-{stem}-{len(made)}", image=image, **kw)
        sid = create_service(manager, spec)
        made.append(sid)
        return sid

    yield deploy
    for sid in made:
        try:
            remove_service(manager, sid)
        except EngineError:
            pass


def running(manager, sid) -> list:
    return [t for t in list_tasks(manager, sid) if t.state == "running" and t.desired_state == "running"]


def test_membership_nodes_and_join_command(manager, worker, two_node_swarm):
    m, w = swarm_state(manager), swarm_state(worker)
    assert (m.state, m.role, w.state, w.role) == ("active", "manager", "active", "worker")
    assert m.node_address == two_node_swarm.manager.address
    nodes = list_nodes(manager)
    assert {(n.hostname, n.role, n.status, n.address) for n in nodes} == {
        ("aics-manager", "manager", "ready", two_node_swarm.manager.address),
        ("aics-worker", "worker", "ready", two_node_swarm.worker.address)}
    assert all(n.cpus > 0 and n.memory > 0 and n.engine_version.startswith("20.") for n in nodes)
    assert [n.leader for n in nodes] == [True, False]
    cmd = join_command(manager, "worker")
    assert cmd.startswith("docker swarm join --token SWMTKN-") and cmd.endswith(f"{two_node_swarm.manager.address}:2377")
    assert join_command(manager, "manager") != cmd
    with pytest.raises(EngineError, match="worker, not a swarm manager"):
        list_nodes(worker)


def test_deploy_four_replicas_on_both_nodes_scale_and_logs(manager, service, swarm_images, two_node_swarm):
    sid = service(swarm_images["v1"], "digits", replicas=4)
    tasks = wait("4 running tasks", lambda: (r := running(manager, sid)) and len(r) == 4 and r, 90)
    assert {t.node for t in tasks} == {"aics-manager", "aics-worker"}
    assert sorted(t.slot for t in tasks) == [1, 2, 3, 4]
    svc = wait("service counts", lambda: (s := get_service(manager, sid)).running == 4 and s)
    assert (svc.replicas_text, svc.mode, svc.image) == ("4/4", "replicated", swarm_images["v1"])
    assert [p.mode for p in svc.ports] == ["host"]
    assert sid in {s.id for s in list_services(manager)}

    mesh, endpoints = replica_endpoints(manager, sid, 8080)
    assert mesh == [] and len(endpoints) == 4
    for ep in endpoints:  # each replica answers on its own node's address
        with urllib.request.urlopen(f"{ep.url}/health", timeout=5) as res:
            assert res.status == 200
    assert {ep.host for ep in endpoints} == {two_node_swarm.manager.address, two_node_swarm.worker.address}

    logs = ServiceLogReader(manager, sid, follow=False, tail="all")
    lines = [line for batch in logs for line in batch.texts]
    assert lines, "no service log"
    attrs, _text = split_details(lines[0])
    assert attrs.get("com.docker.swarm.task.id") in {t.id for t in list_tasks(manager, sid)}

    for n in (1, 3):
        scale_service(manager, sid, n)
        wait(f"scaled to {n}", lambda n=n: len(running(manager, sid)) == n
             and get_service(manager, sid).desired == n, 60)


def test_rolling_update_and_automatic_rollback(manager, service, swarm_images):
    sid = service(swarm_images["v1"], "update", replicas=2)
    wait("2 running", lambda: len(running(manager, sid)) == 2, 90)
    update_service_image(manager, sid, swarm_images["v2"])
    wait("updated to v2", lambda: get_service(manager, sid).update_state == "completed"
         and {t.image for t in running(manager, sid)} == {swarm_images["v2"]}, 90)

    rollback_service(manager, sid)  # by hand: back to v1
    wait("back to v1", lambda: get_service(manager, sid).image == swarm_images["v1"]
         and get_service(manager, sid).update_state == "rollback_completed"
         and {t.image for t in running(manager, sid)} == {swarm_images["v1"]}, 90)

    update_service_image(manager, sid, swarm_images["bad"])  # its health check always fails
    started = wait("rolling back by itself", lambda: (s := get_service(manager, sid)).automatic_rollback and s, 90)
    assert started.update_words().startswith("Rolling back by itself"), started.update_words()
    svc = wait("rolled back", lambda: (s := get_service(manager, sid)).update_state == "rollback_completed" and s, 90)
    assert svc.image == swarm_images["v1"]
    assert svc.update_words(automatic=True).startswith("Rolled back by itself")
    bad = [t for t in list_tasks(manager, sid) if t.image == swarm_images["bad"]]
    assert bad and all(t.desired_state == "shutdown" for t in bad), bad
    wait("v1 running again", lambda: {t.image for t in running(manager, sid)} == {swarm_images["v1"]}
         and len(running(manager, sid)) == 2, 60)
    with pytest.raises(EngineError, match="no previous version"):
        rollback_service(manager, sid)


def test_errors_in_words(manager, worker, service, swarm_images):
    sid = service(swarm_images["v1"], "taken", replicas=0)
    name = get_service(manager, sid).name
    with pytest.raises(EngineError, match="name is taken"):
        create_service(manager, ServiceSpec(name=name, image=swarm_images["v1"], replicas=0))
    with pytest.raises(EngineError, match="not a swarm manager"):
        create_service(worker, ServiceSpec(name=f"{name}-w", image=swarm_images["v1"]))
    for wrong in ("node.role=manager", "node.role===manager"):  # refused before the engine is asked
        with pytest.raises(EngineError, match="not 'key==value'"):
            service(swarm_images["v1"], "badform", constraints=(wrong,))

    class Unchecked(ServiceSpec):
        def problems(self):
            return []

    with pytest.raises(EngineError, match=r"placement constraint is invalid: value '=manager' is invalid"):
        create_service(manager, Unchecked(name=f"{name}-c", image=swarm_images["v1"],
                                          constraints=("node.role===manager",)))

    nowhere = service(swarm_images["v1"], "nowhere", constraints=("node.labels.gpu==yes",))
    task = wait("pending task", lambda: next((t for t in list_tasks(manager, nowhere) if t.error), None), 30)
    assert task.state == "pending" and task.error_text.startswith("No node matches the placement constraints")

    missing = service(f"aicstest-nosuch-{RUN_ID}:1", "nosuch", restart_max_attempts=1)
    task = wait("task without image", lambda: next((t for t in list_tasks(manager, missing)
                                                    if "No such image" in t.error), None), 90)
    assert task.error_text.startswith(f"No such image: aicstest-nosuch-{RUN_ID}:1. This node does not have it")


def test_drain_and_activate_a_node(manager, service, swarm_images):
    sid = service(swarm_images["v1"], "drain", replicas=2)
    wait("2 running", lambda: len(running(manager, sid)) == 2, 90)
    worker_node = next(n for n in list_nodes(manager) if n.role == "worker")
    set_node_availability(manager, worker_node.id, "drain")
    try:
        wait("all on the manager", lambda: {t.node for t in running(manager, sid)} == {"aics-manager"}
             and len(running(manager, sid)) == 2, 60)
        assert next(n for n in list_nodes(manager) if n.id == worker_node.id).availability == "drain"
    finally:
        set_node_availability(manager, worker_node.id, "active")
    assert next(n for n in list_nodes(manager) if n.id == worker_node.id).availability == "active"


def test_leave_init_and_join_again(manager, worker, two_node_swarm):
    """The worker leaves, makes a swarm of its own, leaves it, and joins the manager again."""
    old_id = swarm_state(worker).node_id
    token_cmd = join_command(manager, "worker")
    leave_swarm(worker)
    assert swarm_state(worker).state == "inactive"
    candidates = advertise_candidates(worker)
    assert candidates[0] == two_node_swarm.worker.address, candidates  # docker0's address comes last
    init_swarm(worker, candidates[0])
    assert swarm_state(worker).role == "manager"
    with pytest.raises(EngineError, match="Leave anyway"):
        leave_swarm(worker)
    leave_swarm(worker, force=True)
    token = token_cmd.split("--token ", 1)[1].split()[0]
    join_swarm(worker, two_node_swarm.manager.address, token, two_node_swarm.worker.address)
    assert swarm_state(worker).role == "worker"
    wait("old node down", lambda: next((n for n in list_nodes(manager) if n.id == old_id), None).status == "down")
    remove_node(manager, old_id)
    wait("two ready nodes", lambda: sorted(n.status for n in list_nodes(manager)) == ["ready", "ready"])


def test_exported_stack_deploys_on_the_swarm_and_answers(manager, service, swarm_images, two_node_swarm, tmp_path):
    """A service exported as a stack file; ``docker stack deploy`` of that file runs and answers."""
    from gui.builder.export_k8s import workload_from_service, write_exports
    from gui.engine.services import service_spec_and_labels

    sid = service(swarm_images["v1"], "export", replicas=2, memory_limit="1g", cpu_reservation=0.1)
    spec, labels = service_spec_and_labels(manager, sid)
    assert labels["ai-container-studio.protocol"] == "studio-v1"
    remove_service(manager, sid)
    w = workload_from_service(spec, labels)
    k8s, stack = write_exports(w, tmp_path)
    assert "kind: Deployment" in k8s.read_text() and "kind: InferenceService" in k8s.read_text()

    name = f"aicsstack{RUN_ID}"
    cli = ["docker", "-H", two_node_swarm.manager.url]
    out = subprocess.run([*cli, "stack", "deploy", "-c", str(stack), name], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    try:
        deployed = wait("stack service", lambda: next((s for s in list_services(manager)
                                                        if s.name == f"{name}_{w.k8s_name}"), None), 30)
        assert deployed.desired == 2 and ("com.docker.stack.namespace", name) in deployed.labels
        eps = wait("2 replicas answering", lambda: len(e := replica_endpoints(manager, deployed.id, 8080)[1]) == 2
                   and e, 90)
        for ep in eps:
            with urllib.request.urlopen(f"{ep.url}/health", timeout=5) as res:
                assert res.status == 200
    finally:
        subprocess.run([*cli, "stack", "rm", name], capture_output=True, timeout=60)


def test_a_node_dies_mid_batch_and_no_picture_is_lost(manager, service, swarm_images, two_node_swarm):
    """200 pictures over 4 replicas on 2 nodes; the worker's dockerd (and its tasks) killed after 50
    answers: every picture is answered (requests in flight go again to another replica), the worker shows
    Down and its tasks are rescheduled on the manager."""
    from gui.predict.replicas import service_client
    from tests.support.swarm_fixtures import digit_pngs

    sid = service(swarm_images["v1"], "failover", replicas=4)
    wait("4 running over both nodes", lambda: len(r := running(manager, sid)) == 4
         and {t.node for t in r} == {"aics-manager", "aics-worker"}, 90)
    pictures = digit_pngs(200)
    client = service_client(manager, sid, "failover", timeout=5)
    answered: list[tuple[float, str]] = []
    lock = threading.Lock()

    def ask(data: bytes):
        p = client.predict_image(data)
        with lock:
            answered.append((time.monotonic(), p.served_by))
            if len(answered) == 50:
                threading.Thread(target=two_node_swarm.worker.kill, daemon=True).start()
        return p

    try:
        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(ask, pictures))
        assert len(results) == 200 and all(r.top_label for r in results)
        stamps = [t for t, _ in answered]
        gap = max(b - a for a, b in zip(stamps, stamps[1:], strict=False))
        before = {who for _, who in answered[:40]}
        after = {who for _, who in answered[-20:]}
        assert any("aics-worker" in w for w in before), before
        assert all("aics-manager" in w for w in after), after
        assert client.retries >= 1
        print(f"failover: 200/200 answered, {client.retries} retries, longest gap {gap:.2f} s")
        wait("worker down", lambda: next(n for n in list_nodes(manager) if n.hostname == "aics-worker").status
             == "down", 30)
        wait("4 running on the manager", lambda: len(r := running(manager, sid)) == 4
             and {t.node for t in r} == {"aics-manager"}, 90)
    finally:
        client.close()
        two_node_swarm.worker.restart()
        wait("worker back", lambda: next(n for n in list_nodes(manager) if n.hostname == "aics-worker").status
             == "ready", 60)
