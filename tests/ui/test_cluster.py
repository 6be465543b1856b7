"""The Cluster page on a real two-node swarm (tests/support/swarm.py): deploy from the Images page with 4
replicas over both nodes, scale 4→1→3, a rolling update and an automatic rollback shown in the window,
leave/init/join from the page. The window talks to the test swarm's engines only."""

from __future__ import annotations

import time

import pytest
from PySide6.QtWidgets import QMessageBox, QPushButton

from gui.app import create_window
from gui.engine import Engine
from gui.engine.endpoint import EngineTarget
from gui.engine.swarm import join_command, list_nodes
from tests.support.labels import RUN_ID

pytestmark = [pytest.mark.engine, pytest.mark.timeout(300)]


@pytest.fixture
def open_window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    windows = []

    def make(url: str):
        w = create_window(url)
        qtbot.addWidget(w)
        w.resize(1280, 900)
        w.show()
        qtbot.waitUntil(lambda: w.session.has_loaded, timeout=15000)
        windows.append(w)
        return w

    yield make
    for w in windows:
        w.close()


def cluster(w):
    page = w.cluster_page
    w.pages.setCurrentWidget(page)
    return page


def texts(model, column: int) -> list[str]:
    return [model.data(model.index(r, column)) for r in range(model.rowCount())]


def confirm_yes(page) -> None:
    page.findChild(QMessageBox, "confirmDialog").findChild(QPushButton, "confirmYes").click()


def test_deploy_from_images_scale_update_and_rollback(open_window, qtbot, two_node_swarm, swarm_images, tmp_path):
    w = open_window(two_node_swarm.manager.url)
    page = cluster(w)
    qtbot.waitUntil(lambda: "manager" in page.status.text() and page.nodes.rowCount() == 2, timeout=15000)
    assert sorted(texts(page.nodes, 0)) == ["aics-manager", "aics-worker"]
    assert texts(page.nodes, 3) == ["ready", "ready"]
    assert page.buttons["clusterJoinWorker"].isVisible() and not page.buttons["clusterInit"].isVisible()

    # Deploy as service… from the Images page
    w.pages.setCurrentWidget(w.images_page)
    qtbot.waitUntil(lambda: any(r.reference == swarm_images["v1"] for r in w.images_model.records()), timeout=10000)
    w.images_page.filter.setText(swarm_images["v1"])
    qtbot.waitUntil(lambda: w.images_page.proxy.rowCount() >= 1)
    w.images_page.view.selectRow(0)
    w.images_page.actions_by_name["deploy"].trigger()
    assert w.pages.currentWidget() is page
    dialog = page.last_dialog
    assert dialog.objectName() == "deployDialog" and dialog.image.text() == swarm_images["v1"]
    name = f"aicstest-{RUN_ID}-ui"
    dialog.name.setText(name)
    dialog.replicas.setValue(4)
    # two nodes, and the image has no registry digest: the others cannot get it
    qtbot.waitUntil(lambda: "exists only on this engine" in dialog.warning.text(), timeout=10000)
    cli = dialog.cli.toPlainText()
    assert cli.startswith(f"docker service create --name {name} --replicas 4 --publish mode=host,target=8080")
    dialog.deploy_button.click()

    qtbot.waitUntil(lambda: page.selected_service() is not None and page.selected_service().name == name,
                    timeout=15000)
    qtbot.waitUntil(lambda: texts(page.services, 3) == ["4/4"], timeout=90000)
    qtbot.waitUntil(lambda: len(page.tasks.running()) == 4, timeout=15000)
    assert {t.node for t in page.tasks.running()} == {"aics-manager", "aics-worker"}
    qtbot.waitUntil(lambda: page.logs.end > 0, timeout=15000)  # the merged log of the four tasks
    assert any(line.startswith("[") and "@aics-" in line for line in page.logs.texts)

    for n in (1, 3):
        page.replicas.setValue(n)
        qtbot.waitUntil(lambda n=n: texts(page.services, 3) == [f"{n}/{n}"] and len(page.tasks.running()) == n,
                        timeout=60000)

    page.update_image(swarm_images["v2"])
    qtbot.waitUntil(lambda: texts(page.services, 1) == [swarm_images["v2"]]
                    and texts(page.services, 5) == ["updated"]
                    and {t.image for t in page.tasks.running()} == {swarm_images["v2"]}, timeout=90000)

    page.service_actions["serviceRollback"].trigger()
    qtbot.waitUntil(lambda: texts(page.services, 1) == [swarm_images["v1"]]
                    and texts(page.services, 5) == ["rolled back"]
                    and {t.image for t in page.tasks.running()} == {swarm_images["v1"]}, timeout=90000)
    assert not page.update_note.text().startswith("Rolled back by itself")

    page.update_image(swarm_images["bad"])
    qtbot.waitUntil(lambda: page.update_note.text().startswith("Rolling back by itself"), timeout=90000)
    qtbot.waitUntil(lambda: texts(page.services, 5) == ["rolled back"], timeout=90000)
    assert page.update_note.text().startswith("Rolled back by itself")
    assert texts(page.services, 1) == [swarm_images["v1"]]
    assert any(t.image == swarm_images["bad"] and t.desired_state == "shutdown" for t in page.tasks.records())

    page.export_to(str(tmp_path / "export"))  # Export for Kubernetes and for docker stack deploy
    qtbot.waitUntil(lambda: len(page.exported) == 2, timeout=10000)
    k8s, stack = page.exported
    assert "kind: Deployment" in k8s.read_text() and f'image: "{swarm_images["v1"]}"' in stack.read_text()

    page.remove_service()
    confirm_yes(page)
    qtbot.waitUntil(lambda: page.services.rowCount() == 0, timeout=15000)


def test_leave_init_and_join_from_the_page(open_window, qtbot, two_node_swarm):
    manager = Engine(EngineTarget(two_node_swarm.manager.url, "test swarm"))
    command = join_command(manager, "worker")
    w = open_window(two_node_swarm.worker.url)
    page = cluster(w)
    qtbot.waitUntil(lambda: "worker" in page.status.text(), timeout=15000)
    old_id = page.state.node_id

    page.leave_swarm()
    confirm_yes(page)
    qtbot.waitUntil(lambda: "not in a swarm" in page.status.text(), timeout=30000)
    assert page.buttons["clusterInit"].isVisible() and page.buttons["clusterJoin"].isVisible()

    page.init_swarm()
    dialog = page.last_dialog
    qtbot.waitUntil(lambda: dialog.address.count() > 0, timeout=20000)
    assert dialog.address.itemText(0) == two_node_swarm.worker.address
    dialog.accept()
    qtbot.waitUntil(lambda: "manager" in page.status.text(), timeout=30000)

    page.leave_swarm()  # a manager: the page forces it
    confirm_yes(page)
    qtbot.waitUntil(lambda: "not in a swarm" in page.status.text(), timeout=30000)

    page.join_swarm()
    dialog = page.last_dialog
    dialog.command.setText(command)
    assert dialog.manager.text() == f"{two_node_swarm.manager.address}:2377"
    dialog.advertise.setText(two_node_swarm.worker.address)
    dialog.accept()
    qtbot.waitUntil(lambda: "worker" in page.status.text(), timeout=30000)

    # The manager's window shows the old node down; Remove takes it away.
    m = open_window(two_node_swarm.manager.url)
    mpage = cluster(m)
    qtbot.waitUntil(lambda: mpage.nodes.record(old_id) is not None
                    and mpage.nodes.record(old_id).status == "down", timeout=30000)
    row = next(r for r in range(mpage.nodes.rowCount()) if mpage.nodes.records()[r].id == old_id)
    mpage.nodes_view.selectRow(row)
    mpage.remove_node()
    confirm_yes(mpage)
    qtbot.waitUntil(lambda: mpage.nodes.record(old_id) is None and mpage.nodes.rowCount() == 2, timeout=30000)
    assert sorted(n.status for n in list_nodes(manager)) == ["ready", "ready"]
    manager.close()


def test_predict_on_a_service_while_its_worker_node_dies(open_window, qtbot, two_node_swarm, swarm_images):
    """From the Cluster page's "Predict with it": 200 pictures spread over 4 replicas on 2 nodes; the
    worker's dockerd is killed mid-batch. Every picture is answered, each card names its replica, the
    summary counts the retries, and the window shows the node Down and the tasks moved to the manager."""
    from gui.engine.service_spec import ServiceSpec
    from gui.engine.services import create_service, remove_service
    from gui.predict.sources import PictureSource
    from tests.support.swarm_fixtures import digit_pngs

    manager = Engine(EngineTarget(two_node_swarm.manager.url, "test swarm"))
    name = f"aicstest-{RUN_ID}-predict"
    sid = create_service(manager, ServiceSpec(name=name, image=swarm_images["v1"], replicas=4))
    w = open_window(two_node_swarm.manager.url)
    page = cluster(w)
    try:
        qtbot.waitUntil(lambda: page.select_service(name), timeout=15000)
        qtbot.waitUntil(lambda: len(page.tasks.running()) == 4
                        and {t.node for t in page.tasks.running()} == {"aics-manager", "aics-worker"}, timeout=90000)
        assert page.service_actions["servicePredict"].isEnabled()
        page.service_actions["servicePredict"].trigger()
        predict = w.predict_page
        assert w.pages.currentWidget() is predict
        qtbot.waitUntil(lambda: predict.meta is not None and predict.spec.service_id == sid, timeout=30000)
        assert predict.picker.combo.currentText().startswith(f"service {name}")

        predict.add_sources([PictureSource(name=f"{i}.png", data=data) for i, data in enumerate(digit_pngs(200))])
        killed = []

        def kill_after_50() -> bool:
            if not killed and predict.counts()["done"] >= 50:
                killed.append(True)
                two_node_swarm.worker.kill()
            return predict.counts()["done"] == 200

        qtbot.waitUntil(kill_after_50, timeout=120000)
        assert killed and predict.counts() == {"waiting": 0, "done": 200, "failed": 0, "cancelled": 0}
        served = [c.status.text() for c in predict.cards.values()]
        assert all(" · replica " in s for s in served)
        assert any("on aics-worker" in s for s in served) and any("on aics-manager" in s for s in served)
        qtbot.waitUntil(lambda: "sent again to another replica" in predict.summary.text(), timeout=5000)

        w.pages.setCurrentWidget(page)
        qtbot.waitUntil(lambda: page.nodes.by_hostname("aics-worker").status == "down", timeout=30000)
        qtbot.waitUntil(lambda: len(page.tasks.running()) == 4
                        and {t.node for t in page.tasks.running()} == {"aics-manager"}, timeout=90000)
    finally:
        two_node_swarm.worker.restart()
        remove_service(manager, sid)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and next(
                n for n in list_nodes(manager) if n.hostname == "aics-worker").status != "ready":
            time.sleep(0.5)
        manager.close()


def test_deploy_as_service_after_a_build(open_window, qtbot, two_node_swarm, swarm_images):
    """The Build page's "Deploy as service…" (enabled once a build made an image) opens the Cluster page's
    dialog on that image (the build itself is tested in test_build_journey)."""
    w = open_window(two_node_swarm.manager.url)
    build = w.build_page
    assert not build.deploy_button.isEnabled()
    build.deploy_tag = swarm_images["v2"]  # what a finished build sets, with the button enabled
    build.deploy_button.setEnabled(True)
    build.deploy_button.click()
    page = w.cluster_page
    assert w.pages.currentWidget() is page
    assert page.last_dialog.objectName() == "deployDialog" and page.last_dialog.image.text() == swarm_images["v2"]
    page.last_dialog.reject()


def test_a_local_only_image_is_pushed_and_the_pushed_reference_deployed(open_window, qtbot, two_node_swarm,
                                                                          swarm_images):
    """Two nodes and an image only this engine has: the dialog says so, pushes it (with progress) to a
    registry both nodes reach, and deploys the pushed reference; both nodes pull it and run it."""
    from tests.support.swarm import LinkRegistry

    registry = LinkRegistry(two_node_swarm).start()
    manager = Engine(EngineTarget(two_node_swarm.manager.url, "test swarm"))
    w = open_window(two_node_swarm.manager.url)
    page = cluster(w)
    name = f"aicstest-{RUN_ID}-pushed"
    try:
        qtbot.waitUntil(lambda: page.nodes.rowCount() == 2, timeout=15000)
        dialog = page.deploy(swarm_images["v1"])
        qtbot.waitUntil(lambda: dialog.push_button.isVisible(), timeout=10000)
        pushed = f"{registry.address}/aicstest-{RUN_ID}/digits:pushed"
        dialog.push_to.setText(pushed)
        dialog.push_button.click()
        qtbot.waitUntil(lambda: dialog.image.text() == pushed, timeout=60000)
        assert dialog.push_progress.value() == dialog.push_progress.maximum() > 0
        assert dialog.warning.text().startswith(f"Pushed {pushed}")
        dialog.name.setText(name)
        dialog.replicas.setValue(2)
        assert dialog.deploy_button.isEnabled()
        dialog.deploy_button.click()
        qtbot.waitUntil(lambda: page.selected_service() is not None and page.selected_service().name == name,
                        timeout=15000)
        qtbot.waitUntil(lambda: len(page.tasks.running()) == 2, timeout=90000)
        assert {t.node for t in page.tasks.running()} == {"aics-manager", "aics-worker"}
        assert {t.image for t in page.tasks.running()} == {pushed}
    finally:
        svc = page.services.by_name(name)
        if svc is not None:
            from gui.engine.services import remove_service

            remove_service(manager, svc.id)
        manager.close()
        registry.stop()


def test_export_a_running_container_for_kubernetes(open_window, qtbot, two_node_swarm, swarm_images, tmp_path,
                                                   test_labels):
    """The Containers page's "Export for Kubernetes…" (through the window, as its menu does): one replica with
    the container's limits, env and port, valid for the Kubernetes API models."""
    import docker
    import yaml
    from kubernetes.client import ApiClient

    api = docker.APIClient(base_url=two_node_swarm.manager.url, version="1.41", timeout=60)
    c = api.create_container(swarm_images["v1"], name=f"aicstest-{RUN_ID}-exp", labels=test_labels,
                             environment={"TOP_K": "3"}, ports=[8080],
                             host_config=api.create_host_config(mem_limit="512m", port_bindings={8080: 0}))
    try:
        api.start(c["Id"])
        w = open_window(two_node_swarm.manager.url)
        w.cluster_page.export_container(c["Id"], str(tmp_path))
        qtbot.waitUntil(lambda: len(w.cluster_page.exported) == 2, timeout=10000)
        k8s, stack = w.cluster_page.exported
        docs = list(yaml.safe_load_all(k8s.read_text()))
        assert [d["kind"] for d in docs] == ["Deployment", "Service", "InferenceService"]
        client = ApiClient()
        for doc, model in ((docs[0], "V1Deployment"), (docs[1], "V1Service")):
            assert client.sanitize_for_serialization(client._ApiClient__deserialize(doc, model)) == doc
        container = docs[0]["spec"]["template"]["spec"]["containers"][0]
        assert container["image"] == swarm_images["v1"] and container["env"] == [{"name": "TOP_K", "value": "3"}]
        assert container["resources"] == {"limits": {"memory": "512Mi"}} and docs[0]["spec"]["replicas"] == 1
        assert yaml.safe_load(stack.read_text())["services"][f"aicstest-{RUN_ID}-exp"]["deploy"]["replicas"] == 1
    finally:
        api.remove_container(c["Id"], force=True)
        api.close()
