"""The Volumes, Networks and Disk space pages on the real engine (pytest-qt, real containers)."""

from __future__ import annotations

import hashlib
import os

import pytest
from PySide6.QtWidgets import QDialogButtonBox, QMessageBox

from gui.engine import disk as disk_engine


def pick(page, key) -> None:
    """Select the row whose record has ``key``."""
    view = page.view
    for row in range(page.proxy.rowCount()):
        rec = page.proxy.data(page.proxy.index(row, 0), 257)
        if rec is not None and rec.key == key:
            view.selectRow(row)
            return
    raise AssertionError(f"{key} is not listed")


def free_subnet(docker_api) -> str:
    """A /24 in 10.0.0.0/8 that no network on the engine overlaps (tests run side by side)."""
    import ipaddress
    import random

    taken = [ipaddress.ip_network(c["Subnet"]) for n in docker_api.networks()
             for c in (docker_api.inspect_network(n["Id"]).get("IPAM") or {}).get("Config") or []
             if c.get("Subnet") and ":" not in c["Subnet"]]
    while True:
        net = ipaddress.ip_network(f"10.{random.randint(100, 250)}.{random.randint(0, 255)}.0/24")
        if not any(net.overlaps(t) for t in taken):
            return str(net)


def keys(page) -> set[str]:
    return {r.key for r in page.model.records()}


def accept_confirm(qtbot, parent) -> None:
    qtbot.waitUntil(lambda: parent.findChild(QMessageBox, "confirmDialog") is not None, timeout=5000)
    box = parent.findChild(QMessageBox, "confirmDialog")
    box.findChild(type(box.button(QMessageBox.StandardButton.Cancel)), "confirmYes").click()


def test_volumes_page_follows_creates_browses_and_refuses_removal_in_use(window, qtbot, docker_api, test_labels,
                                                                        unique_name, make_container, tmp_path):
    page = window.volumes_page
    window.pages.setCurrentWidget(page)
    assert window.sidebar.item(window.pages.currentIndex()).text() == "Volumes"
    # A volume made behind the window's back appears by itself (volume events).
    outside = unique_name("vol")
    docker_api.create_volume(outside, labels=test_labels)
    try:
        qtbot.waitUntil(lambda: outside in keys(page), timeout=10000)

        # Create from the dialog; a bad name is refused in words before the engine is asked.
        page.actions_by_name["create"].trigger()
        dlg = page.last_dialog
        dlg.name.setText("x")
        assert not dlg.buttons.button(QDialogButtonBox.StandardButton.Ok).isEnabled()
        assert "at least two characters" in dlg.problem.text()
        made = unique_name("made")
        dlg.name.setText(made)
        dlg.labels.setPlainText("\n".join(f"{k}={v}" for k, v in test_labels.items()))
        dlg.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
        qtbot.waitUntil(lambda: made in keys(page), timeout=10000)

        # Browse: upload a file, list it with its size, download it back byte-identical.
        src = tmp_path / "weights.bin"
        src.write_bytes(os.urandom(123_456))
        pick(page, made)
        page.actions_by_name["browse"].trigger()
        browser = page.browsers[made]
        qtbot.waitUntil(lambda: "empty" in browser.status.text(), timeout=20000)
        browser.upload_paths([str(src)])
        qtbot.waitUntil(lambda: [e.name for e in browser.entries] == ["weights.bin"], timeout=30000)
        assert browser.entries[0].size == 123_456
        assert browser.tree.topLevelItem(0).text(1) == "123 kB"
        out = tmp_path / "out"
        out.mkdir()
        browser.download_to("weights.bin", str(out))
        qtbot.waitUntil(lambda: (out / "weights.bin").exists() and "Downloaded" in browser.status.text(),
                        timeout=30000)
        assert hashlib.sha256((out / "weights.bin").read_bytes()).digest() == \
            hashlib.sha256(src.read_bytes()).digest()
        browser.grab().save(str(tmp_path / "volume-browser.png"))
        browser.close()

        # Sizes come afterwards; a volume in use shows its container and is not removed.
        user = make_container(host_config=docker_api.create_host_config(binds={made: {"bind": "/data"}}))
        qtbot.waitUntil(lambda: page.model.record(made).used_by == user["name"], timeout=10000)
        page.read_sizes()
        qtbot.waitUntil(lambda: page.model.record(made).size_text == "123 kB", timeout=20000)
        pick(page, made)
        page.remove_selected()
        accept_confirm(qtbot, page)
        qtbot.waitUntil(lambda: page.findChild(QMessageBox, "operationError") is not None, timeout=10000)
        error = page.findChild(QMessageBox, "operationError").text()
        assert f"in use by {user['name']}" in error and made in keys(page)
        page.grab().save(str(tmp_path / "volumes-page.png"))
    finally:
        for name in (outside,):
            try:
                docker_api.remove_volume(name, force=True)
            except Exception:
                pass
        for v in (docker_api.volumes(filters={"label": [f"{k}={v}" for k, v in test_labels.items()]})
                  .get("Volumes") or []):
            for c in docker_api.containers(all=True, filters={"volume": v["Name"]}):
                docker_api.remove_container(c["Id"], force=True)
            try:
                docker_api.remove_volume(v["Name"], force=True)
            except Exception:
                pass


def browser_helpers_on(docker_api, vol: str) -> list[dict]:
    return docker_api.containers(all=True, filters={"label": "ai-container-studio.helper=volume-browser",
                                                    "volume": vol})


def test_a_browser_leaves_no_helper_container_however_it_closes(window, qtbot, docker_api, test_labels,
                                                                 unique_name):
    page = window.volumes_page
    window.pages.setCurrentWidget(page)
    vol = unique_name("vol")
    docker_api.create_volume(vol, labels=test_labels)
    try:
        # Closed at once, while its helper is still starting on the change queue.
        page.browse(vol).close()
        window.session.changes.submit(lambda: None).result(timeout=60)  # the helper's start has run
        qtbot.waitUntil(lambda: browser_helpers_on(docker_api, vol) == [], timeout=10000)
        # Open with its helper running, then the main window closes.
        browser = page.browse(vol)
        qtbot.waitUntil(lambda: bool(browser.helper_id) and "empty" in browser.status.text(), timeout=20000)
        assert [c["Id"] for c in browser_helpers_on(docker_api, vol)] == [browser.helper_id]
        window.close()
        qtbot.waitUntil(lambda: browser_helpers_on(docker_api, vol) == [], timeout=10000)
    finally:
        for c in browser_helpers_on(docker_api, vol):
            docker_api.remove_container(c["Id"], force=True)
        docker_api.remove_volume(vol, force=True)


@pytest.mark.parametrize("how", ["window closed", "quit signal"])
def test_quitting_with_a_browser_open_waits_for_its_helper_to_go(window, qtbot, docker_api, test_labels,
                                                                 unique_name, how):
    """The app leaves with os._exit (gui.app.run) right after close_down: a helper removal still under way
    on a worker thread was cut, and the helper (a shell loop) ran on, holding its volume, for ever. SIGTERM
    quits the event loop without the window's close, which closes the browsers."""
    from gui.app import close_down

    page = window.volumes_page
    window.pages.setCurrentWidget(page)
    vol = unique_name("vol")
    docker_api.create_volume(vol, labels=test_labels)
    try:
        browser = page.browse(vol)
        qtbot.waitUntil(lambda: bool(browser.helper_id) and "empty" in browser.status.text(), timeout=20000)
        if how == "window closed":
            window.close()
        close_down(window)  # what main() does once the event loop has returned, before os._exit
        assert browser_helpers_on(docker_api, vol) == [], "the helper outlives the app"
    finally:
        for c in browser_helpers_on(docker_api, vol):
            docker_api.remove_container(c["Id"], force=True)
        docker_api.remove_volume(vol, force=True)


def test_networks_page_creates_connects_and_refuses_removal_in_use(window, qtbot, docker_api, unique_name,
                                                                  make_container, test_labels):
    page = window.networks_page
    window.pages.setCurrentWidget(page)
    qtbot.waitUntil(lambda: any(r.name == "bridge" for r in page.model.records()), timeout=10000)
    c = make_container()
    qtbot.waitUntil(lambda: window.containers_model.record(c["Id"]) is not None, timeout=10000)
    name = unique_name("net")
    page.actions_by_name["create"].trigger()
    dlg = page.last_dialog
    dlg.name.setText(name)
    subnet = free_subnet(docker_api)
    dlg.subnet.setText(subnet.replace("/24", "/33"))
    assert "CIDR" in dlg.problem.text() and not dlg.ok.isEnabled()
    dlg.subnet.setText(subnet)
    dlg.ok.click()
    try:
        qtbot.waitUntil(lambda: any(r.name == name for r in page.model.records()), timeout=10000)
        net = next(r for r in page.model.records() if r.name == name)
        assert net.subnet == subnet
        pick(page, net.key)
        page.connect_selected(False)
        cdlg = page.last_dialog
        cdlg.container.setCurrentText(c["name"])
        cdlg.aliases.setText("model, predictor")
        cdlg.ok.click()
        qtbot.waitUntil(lambda: c["name"] in page.model.record(net.key).containers, timeout=10000)
        aliases = docker_api.inspect_container(c["Id"])["NetworkSettings"]["Networks"][name]["Aliases"]
        assert {"model", "predictor"} <= set(aliases)

        pick(page, net.key)
        page.remove_selected()
        accept_confirm(qtbot, page)
        qtbot.waitUntil(lambda: page.findChild(QMessageBox, "operationError") is not None, timeout=10000)
        assert f"in use by {c['name']}" in page.findChild(QMessageBox, "operationError").text()

        pick(page, net.key)
        page.connect_selected(True)
        page.last_dialog.ok.click()
        qtbot.waitUntil(lambda: not page.model.record(net.key).containers, timeout=10000)
    finally:
        # The engine may still hold the endpoint a moment after the disconnect (a CI run's removal failed
        # here, silently, and the network stayed): ask again for a while, and say why if it never goes.
        errors: list[str] = []

        def removed() -> bool:
            for n in docker_api.networks(names=[name]):
                try:
                    docker_api.remove_network(n["Id"])
                except Exception as exc:  # noqa: BLE001 - kept for the message below
                    errors.append(str(exc))
                    return False
            return True

        for _ in range(50):  # 10 s
            if removed():
                break
            qtbot.wait(200)
        else:
            pytest.fail(f"the network {name} could not be removed: {errors[-1]}")
    qtbot.waitUntil(lambda: net.key not in keys(page), timeout=10000)


def test_disk_page_shows_usage_and_cleans_what_it_said(window, qtbot, make_container, docker_api, tmp_path):
    stopped = make_container(command=("sh", "-c", "head -c 3000000 /dev/urandom > /junk"))
    docker_api.wait(stopped["Id"], timeout=30)
    page = window.disk_page
    window.pages.setCurrentWidget(page)
    qtbot.waitUntil(lambda: page.usage is not None, timeout=30000)
    assert "The engine stores" in page.summary.text()
    item = next(i for i in page.usage.items if i.id == stopped["Id"])
    assert item.size >= 3_000_000
    assert page.table.rowCount() > 0
    page.grab().save(str(tmp_path / "disk-page.png"))
    # Clean only what this test made: the plan shown is exactly what goes.
    plan = disk_engine.CleanUp("stopped containers", (item,))
    before = page.usage
    page.clean(plan)
    qtbot.waitUntil(lambda: page.usage is not before and all(i.id != stopped["Id"] for i in page.usage.items),
                    timeout=30000)
    assert not docker_api.containers(all=True, filters={"id": stopped["Id"]})


def test_disk_warning_shows_above_the_threshold(window, qtbot, monkeypatch):
    from PySide6.QtCore import QSettings

    warning = window.disk_warning
    QSettings().setValue("disk/warn_percent", 50)
    try:
        warning.show_space((100 * 10**9, 10 * 10**9))  # 90 % full
        assert warning.isVisible() and "90 % full" in warning.text()
        warning.show_space((100 * 10**9, 80 * 10**9))  # 20 % full
        assert not warning.isVisible()
    finally:
        QSettings().remove("disk/warn_percent")
