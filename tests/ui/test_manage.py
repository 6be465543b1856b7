"""Point-and-click management on the real engine: container actions, filters, run, tag, remove, prune."""

from __future__ import annotations

import io
import socket

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox, QInputDialog, QLineEdit, QMessageBox, QPushButton

from gui.app import create_window
from gui.engine.runspec import MIB, MountSpec, PortSpec, RunSpec, size_cli
from tests.support.labels import TEST_LABEL
from tests.support.qt import select_rows


def rec(w, name):
    return next((c for c in w.containers_model.records() if c.name == name), None)


def state(w, name) -> str:
    r = rec(w, name)
    return r.state if r else ""




def answer(qtbot, w, yes=True, check=False) -> str:
    """Answer the confirmation box; returns its informative text."""
    qtbot.waitUntil(lambda: w.findChild(QMessageBox, "confirmDialog") is not None, timeout=2000)
    box = w.findChild(QMessageBox, "confirmDialog")
    if check:
        box.checkBox().setChecked(True)
    button = box.findChild(QPushButton, "confirmYes") if yes else box.button(QMessageBox.StandardButton.Cancel)
    info = box.informativeText()
    button.click()
    qtbot.waitUntil(lambda: w.findChild(QMessageBox, "confirmDialog") is None, timeout=2000)
    return info


def error_text(qtbot, w) -> str:
    qtbot.waitUntil(lambda: w.findChild(QMessageBox, "operationError") is not None, timeout=5000)
    box = w.findChild(QMessageBox, "operationError")
    text = box.text()
    box.close()
    return text


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_actions_on_many_containers_ask_first(window, qtbot, make_container, docker_api):
    w = window
    a, b = make_container(), make_container()
    qtbot.waitUntil(lambda: bool(rec(w, a["name"]) and rec(w, b["name"])), timeout=2000)
    page = w.containers_page
    select_rows(page, {a["Id"], b["Id"]})
    assert page.actions_by_name["stop"].isEnabled() and not page.actions_by_name["start"].isEnabled()

    page.actions_by_name["kill"].trigger()
    box = answer(qtbot, w, yes=False)  # Cancel: nothing happens
    assert "killed at once" in box
    assert state(w, a["name"]) == "running" == state(w, b["name"])
    page.actions_by_name["stop"].trigger()  # as in Docker Desktop, Stop asks nothing (files are kept)
    assert w.findChild(QMessageBox, "confirmDialog") is None
    qtbot.waitUntil(lambda: state(w, a["name"]) == "exited" and state(w, b["name"]) == "exited",
                    timeout=15000)
    select_rows(page, {a["Id"], b["Id"]})
    page.actions_by_name["start"].trigger()  # nothing is lost: no question
    qtbot.waitUntil(lambda: state(w, a["name"]) == "running" == state(w, b["name"]), timeout=5000)
    select_rows(page, {a["Id"]})
    page.actions_by_name["pause"].trigger()
    try:
        qtbot.waitUntil(lambda: state(w, a["name"]) == "paused", timeout=5000)
    except Exception:
            raise
    select_rows(page, {a["Id"]})
    page.actions_by_name["unpause"].trigger()
    qtbot.waitUntil(lambda: state(w, a["name"]) == "running", timeout=5000)
    select_rows(page, {a["Id"]})
    started = docker_api.inspect_container(a["Id"])["State"]["StartedAt"]
    page.actions_by_name["restart"].trigger()  # no question either
    assert w.findChild(QMessageBox, "confirmDialog") is None
    # A restart starts the container again: a new StartedAt (RestartCount counts only policy restarts).
    qtbot.waitUntil(lambda: docker_api.inspect_container(a["Id"])["State"]["StartedAt"] != started
                    and state(w, a["name"]) == "running", timeout=15000)
    select_rows(page, {b["Id"]})
    page.actions_by_name["kill"].trigger()
    answer(qtbot, w)
    qtbot.waitUntil(lambda: state(w, b["name"]) == "exited", timeout=5000)


def test_remove_with_anonymous_volumes_by_delete_key(window, qtbot, make_container, docker_api):
    w = window
    c = make_container(volumes=["/data"])
    vol = next(m["Name"] for m in docker_api.inspect_container(c["Id"])["Mounts"] if m["Destination"] == "/data")
    qtbot.waitUntil(lambda: rec(w, c["name"]) is not None, timeout=2000)
    page = w.containers_page
    w.pages.setCurrentWidget(page)
    select_rows(page, {c["Id"]})
    page.view.setFocus()
    qtbot.keyClick(page.view, Qt.Key.Key_Delete)
    box = answer(qtbot, w, check=True)
    assert "deleted for good" in box and "running and will be killed" in box
    qtbot.waitUntil(lambda: rec(w, c["name"]) is None, timeout=5000)
    assert vol not in [v["Name"] for v in docker_api.volumes()["Volumes"] or []]


def test_filter_by_text_and_state(window, qtbot, make_container):
    w = window
    a = make_container()
    b = make_container(start=False)
    qtbot.waitUntil(lambda: bool(rec(w, a["name"]) and rec(w, b["name"])), timeout=2000)
    page = w.containers_page
    page.filter.setText(f"{a['name'][:-3]} busybox")
    visible = {page.proxy.index(r, 0).data() for r in range(page.proxy.rowCount())}
    assert a["name"] in visible and all(n.startswith(a["name"][:-3]) for n in visible)
    page.filter.setText(a["name"])
    assert {page.proxy.index(r, 0).data() for r in range(page.proxy.rowCount())} == {a["name"]}
    assert "shown" in page.count.text()
    page.filter.setText("aicstest-")
    page.state_filter.setCurrentIndex(page.state_filter.findData("created"))
    names = {page.proxy.index(r, 0).data() for r in range(page.proxy.rowCount())}
    assert b["name"] in names and a["name"] not in names
    page.filter.clear()
    page.state_filter.setCurrentIndex(0)


def test_action_on_a_container_gone_behind_our_back(window, qtbot, make_container, docker_api):
    w = window
    c = make_container()
    qtbot.waitUntil(lambda: rec(w, c["name"]) is not None, timeout=2000)
    stale = rec(w, c["name"])
    docker_api.remove_container(c["Id"], force=True)
    w.containers_page._run("stop", [stale], False)
    assert f"container {c['name']} no longer exists" in error_text(qtbot, w)
    qtbot.waitUntil(lambda: rec(w, c["name"]) is None, timeout=2000)


def open_run_dialog(w, qtbot, image):
    page = w.images_page
    qtbot.waitUntil(lambda: any(i.reference == image for i in page.model.records()), timeout=2000)
    select_rows(page, {i.key for i in page.model.records() if i.reference == image})
    page.actions_by_name["run"].trigger()
    qtbot.waitUntil(lambda: page.last_dialog is not None and page.last_dialog.isVisible(), timeout=2000)
    return page.last_dialog


def test_run_dialog_runs_with_ports_env_and_shows_docker_run(window, qtbot, busybox_image, app_container_name,
                                                             docker_api, tmp_path):
    w = window
    dlg = open_run_dialog(w, qtbot, busybox_image)
    name = app_container_name("run")
    dlg.name.setText(name)
    dlg.ports.add_row("127.0.0.1", "", "80", "tcp")
    dlg.env.add_row("MODEL", "digits")
    dlg.mounts.add_row(str(tmp_path), "/work", "yes")
    dlg.command.setText("sh -c 'echo hi; sleep 600'")
    assert dlg.run_button.isEnabled(), dlg.problems.text()
    qtbot.waitUntil(lambda: dlg.memory.value() > 0, timeout=5000)  # the default: half the host's memory
    limit = size_cli(dlg.memory.value() * MIB)
    assert dlg.preview.toPlainText() == (
        f"docker run -d --name {name} -p 127.0.0.1::80 -v {tmp_path}:/work:ro -e MODEL=digits "
        f"--memory {limit} --pids-limit 1024 {busybox_image} sh -c 'echo hi; sleep 600'")
    dlg.run_button.click()
    qtbot.waitUntil(lambda: rec(w, name) is not None and state(w, name) == "running", timeout=5000)
    port = rec(w, name).ports[0]
    assert port.host_ip == "127.0.0.1" and port.host_port and port.container_port == 80
    env = docker_api.inspect_container(name)["Config"]["Env"]
    assert "MODEL=digits" in env


def test_run_dialog_bad_input_and_taken_port(window, qtbot, busybox_image, make_container, app_container_name,
                                             docker_api):
    w = window
    port = free_port()
    owner = make_container(ports=[80], host_config=docker_api.create_host_config(
        port_bindings={80: ("127.0.0.1", port)}))
    dlg = open_run_dialog(w, qtbot, busybox_image)
    dlg.mounts.add_row("/no/such/folder", "/data", "no")
    assert not dlg.run_button.isEnabled()
    assert "the folder /no/such/folder does not exist" in dlg.problems.text()
    assert "does not exist" in dlg.run_button.toolTip()
    dlg.mounts.table.setRowCount(0)
    dlg.name.setText("bad name!")
    assert not dlg.run_button.isEnabled() and "not a valid container name" in dlg.problems.text()
    name = app_container_name("taken")  # made only if the taken port went unnoticed: removed then too
    dlg.name.setText(name)
    dlg.ports.add_row("127.0.0.1", str(port), "80", "tcp")
    dlg.command.setText("sleep 600")
    assert dlg.run_button.isEnabled(), dlg.problems.text()
    dlg.run_button.click()
    qtbot.waitUntil(lambda: "already used" in dlg.problems.text(), timeout=10000)
    assert f"port {port} is already used by container {owner['name']}" in dlg.problems.text()
    assert dlg.isVisible() and dlg.name.text() == name, "the form keeps what the user typed"
    assert not docker_api.containers(all=True, filters={"name": f"^/{name}$"}), "no half-made container"
    dlg.ports.table.setRowCount(0)
    dlg.name.setText(owner["name"])
    dlg.run_button.click()
    qtbot.waitUntil(lambda: "already in use" in dlg.problems.text(), timeout=10000)
    dlg.close()


def test_tag_history_remove_and_prune(window, qtbot, busybox_image, run_id, docker_api):
    w = window
    page = w.images_page
    page.view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    base = next(i for i in page.model.records() if i.reference == busybox_image)
    select_rows(page, {base.key})
    page.actions_by_name["tag"].trigger()
    dlg = page.last_dialog
    assert isinstance(dlg, QInputDialog)
    ok = dlg.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
    dlg.findChild(QLineEdit).setText("Models/Digits:1")
    assert not ok.isEnabled() and "lowercase" in ok.toolTip() + dlg.labelText()
    new_ref = f"aicstest-{run_id}/tagged:v1"
    dlg.findChild(QLineEdit).setText(new_ref)
    assert ok.isEnabled()
    ok.click()
    qtbot.waitUntil(lambda: any(i.reference == new_ref for i in page.model.records()), timeout=3000)

    select_rows(page, {base.key})
    page.actions_by_name["history"].trigger()
    qtbot.waitUntil(lambda: page.last_dialog is not None and page.last_dialog.objectName() == "historyDialog",
                    timeout=3000)
    table = page.last_dialog.table
    assert table.rowCount() >= 3
    assert any("busybox" in table.item(r, 2).text() for r in range(table.rowCount()))
    page.last_dialog.close()

    tagged = next(i for i in page.model.records() if i.reference == new_ref)
    select_rows(page, {tagged.key})
    page.actions_by_name["remove"].trigger()
    answer(qtbot, w)
    qtbot.waitUntil(lambda: not any(i.reference == new_ref for i in page.model.records()), timeout=3000)
    assert any(i.reference == busybox_image for i in page.model.records()), "untag keeps the image"

    # A dangling image: build a tag twice with different content.
    ref = f"aicstest-{run_id}/dangle:1"
    ids = []
    for n in (1, 2):
        df = f"FROM {busybox_image}\nLABEL {TEST_LABEL}={run_id} n={n}\n".encode()
        for chunk in docker_api.build(fileobj=io.BytesIO(df), tag=ref, rm=True, decode=True):
            if "aux" in chunk:
                ids.append(chunk["aux"]["ID"])
    qtbot.waitUntil(lambda: any(i.id == ids[0] for i in page.model.records()), timeout=3000)
    page.actions_by_name["prune"].trigger()
    answer(qtbot, w)
    qtbot.waitUntil(lambda: not any(i.id == ids[0] for i in page.model.records()), timeout=10000)
    assert any(i.id == ids[1] for i in page.model.records())


def test_engine_gone_mid_action(qtbot, private_dockerd):
    private_dockerd.start()
    import docker

    from tests.support.busybox import build_busybox

    api = docker.APIClient(base_url=private_dockerd.url, version="auto")
    tag = build_busybox(api)
    api.create_container(tag, ["sleep", "600"], name="victim")
    w = create_window(private_dockerd.url)
    qtbot.addWidget(w)
    qtbot.waitUntil(lambda: rec(w, "victim") is not None, timeout=5000)
    private_dockerd.stop()
    w.containers_page._run("start", [rec(w, "victim")], False)
    assert f"Docker Engine is not reachable at {private_dockerd.url}" in error_text(qtbot, w)
    assert rec(w, "victim") is not None, "the list keeps the last known state"
    w.close()


def test_runspec_cli_and_problems():
    spec = RunSpec("img:1", name="web", ports=(PortSpec(80, 8080), PortSpec(53, None, "", "udp")),
                   mounts=(MountSpec("models", "/models", True),), env=(("A", "b c"),), restart="always")
    assert spec.cli() == ("docker run -d --name web -p 127.0.0.1:8080:80 -p 53/udp -v models:/models:ro "
                          "-e 'A=b c' --restart always img:1")
    assert RunSpec("img", ports=(PortSpec(70000),), env=(("1X", ""),), restart="always",
                   auto_remove=True).problems() == [
        "port 70000 is out of range (1-65535)", "'1X' is not a valid environment variable name",
        "auto-remove cannot be combined with a restart policy"]


def test_run_dialog_open_quote_is_a_problem_not_a_crash(window, qtbot, busybox_image):
    dlg = open_run_dialog(window, qtbot, busybox_image)
    dlg.command.setText('sh -c "echo unfinished')
    assert not dlg.run_button.isEnabled()
    assert "cannot be split into words" in dlg.problems.text()
    assert dlg.preview.toPlainText().endswith('sh -c "echo unfinished')
    dlg.close()
