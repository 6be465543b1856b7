"""Transfer, login and engine-switch dialogs driven with pytest-qt against the real engine and registries."""

from __future__ import annotations

import base64
import json
import time

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QLabel, QProgressBar

from gui.app import create_window
from gui.engine import Engine, resolve_engine
from gui.engine.registry import push
from gui.qt.images.login_dialog import LoginDialog
from gui.qt.images.transfer_dialog import TransferDialog
from gui.qt.shell.engine_switcher import EngineSwitcher
from tests.support.certs import make_ca, make_cert
from tests.support.registry import RegistryServer
from tests.support.servers import free_port, start, stop, wait_port
from tests.support.throttle import ThrottledProxy

USER, PASSWORD = "aics", "ui-s3cret"


def bars(dialog) -> dict[str, QProgressBar]:
    return {b.objectName(): b for b in dialog.findChildren(QProgressBar)}


def test_transfer_dialog_shows_a_bar_per_layer_on_a_real_push(qtbot, engine, docker_api, registry,
                                                              unique_image, unique_name):
    image_id = unique_image(300_000)
    repo = f"{registry.address}/aicstest/{unique_name('ui')}"
    docker_api.tag(image_id, repo, "v1")
    dialog = TransferDialog(engine, "push", f"{repo}:v1")
    qtbot.addWidget(dialog)
    dialog.show()
    with qtbot.waitSignal(dialog.succeeded, timeout=60_000) as done:
        assert dialog.start()
    found = bars(dialog)
    assert len(found) == 3 and all(name.startswith("layerProgress_") for name in found)
    assert all(b.value() == b.maximum() for b in found.values()), {n: b.value() for n, b in found.items()}
    assert dialog.findChild(QLabel, "transferSummary").text() == "3 of 3 layers done"
    assert done.args[0].image_id == image_id
    assert "Pushed" in dialog.findChild(QLabel, "transferStatus").text()
    assert registry.tags(repo.split("/", 1)[1]) == ["v1"]
    dialog.grab().save("/tmp/aics-transfer-dialog.png")


def test_transfer_dialog_rejects_a_bad_reference_before_any_call(qtbot):
    nowhere = Engine(resolve_engine("unix:///nonexistent/docker.sock"))
    dialog = TransferDialog(nowhere, "pull", "Team/Model:v 1")
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.failed, timeout=1000) as failed:
        assert dialog.start() is False
    assert "lowercase" in failed.args[0] or "spaces" in failed.args[0]
    assert dialog.findChild(QLabel, "transferStatus").text() == failed.args[0]
    assert not dialog.running and not bars(dialog)


def test_transfer_dialog_says_no_registry_answers(qtbot, engine):
    port = free_port()
    dialog = TransferDialog(engine, "pull", f"127.0.0.1:{port}/aicstest/none:v1")
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.failed, timeout=30_000):
        dialog.start()
    assert dialog.findChild(QLabel, "transferStatus").text() == \
        f"no registry answers at 127.0.0.1:{port}: is it running? (connection refused)"


def test_transfer_dialog_cancel_stops_the_pull(qtbot, engine, docker_api, registry, unique_image,
                                               unique_name):
    image_id = unique_image(3_000_000)
    name = f"aicstest/{unique_name('cancel')}"
    docker_api.tag(image_id, f"{registry.address}/{name}", "v1")
    list(push(engine, f"{registry.address}/{name}:v1"))
    docker_api.remove_image(image_id, force=True)
    proxy = ThrottledProxy(("127.0.0.1", registry.port), rate=150_000)
    try:
        dialog = TransferDialog(engine, "pull", f"{proxy.address}/{name}:v1")
        qtbot.addWidget(dialog)
        dialog.show()
        dialog.start()
        qtbot.waitUntil(lambda: any("Downloading" in w.text() for w in dialog.findChildren(QLabel)
                                    if w.objectName().startswith("layerStatus_")), timeout=60_000)
        with qtbot.waitSignal(dialog.cancelled, timeout=2000):
            qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
        assert dialog.findChild(QLabel, "transferStatus").text() == "Cancelled."
        qtbot.waitUntil(lambda: not dialog.running, timeout=5000)
        qtbot.waitUntil(lambda: proxy.open_connections == 0, timeout=20_000)
        assert dialog.result is None
    finally:
        proxy.close()


def test_login_dialog_stores_credentials(qtbot, engine, tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "cfg"))
    server = RegistryServer(USER, PASSWORD).start()
    try:
        dialog = LoginDialog(engine, server.address)
        qtbot.addWidget(dialog)
        dialog.show()
        assert str(tmp_path / "cfg" / "config.json") in dialog.message.text()
        dialog.username.setText(USER)
        dialog.password.setText("wrong")
        qtbot.mouseClick(dialog.login_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "Wrong user name or password" in dialog.message.text(), timeout=30_000)
        assert dialog.login_button.isEnabled() and dialog.result() == 0
        assert not (tmp_path / "cfg" / "config.json").exists()

        dialog.password.setText(PASSWORD)
        with qtbot.waitSignal(dialog.loggedIn, timeout=30_000) as logged:
            qtbot.mouseClick(dialog.login_button, Qt.MouseButton.LeftButton)
        assert logged.args == [server.address, str(tmp_path / "cfg" / "config.json")]
        assert dialog.result() == 1 and dialog.password.text() == ""
        auths = json.loads((tmp_path / "cfg" / "config.json").read_text())["auths"]
        assert auths == {server.address: {"auth": base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()}}
    finally:
        server.stop()


# -- engine switcher ------------------------------------------------------------------------


@pytest.fixture
def tls_engine(tmp_path):
    folder = str(tmp_path)
    ca = make_ca(folder)
    server, client = make_cert(folder, "server", ca, True), make_cert(folder, "client", ca, False)
    port = free_port()
    log = str(tmp_path / "socat.log")
    proc = start(["socat", f"OPENSSL-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork,cert={server[0]},"
                  f"key={server[1]},cafile={ca[0]},verify=1", "UNIX-CONNECT:/var/run/docker.sock"], log)
    wait_port(port, proc, what="socat", log=log)
    yield {"url": f"tcp://127.0.0.1:{port}", "ca": ca[0], "cert": client[0], "key": client[1]}
    stop(proc)


def test_add_engine_with_tls_switches_the_window(qtbot, tls_engine, tmp_path, make_container):
    c = make_container()
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window = create_window()
    qtbot.addWidget(window)
    window.show()
    switcher = EngineSwitcher(window.session.target, settings, window)
    switcher.engineChosen.connect(window.switch_engine)
    assert switcher.itemText(switcher.currentIndex()).startswith("Local")
    assert switcher.itemText(switcher.count() - 1) == "Add engine…"

    dialog = switcher.open_add_dialog()
    dialog.url.setText(tls_engine["url"])
    qtbot.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "probably needs TLS certificates" in dialog.message.text(), timeout=20_000)

    dialog.ca.edit.setText(tls_engine["ca"])
    dialog.cert.edit.setText(tls_engine["cert"])
    dialog.key.edit.setText(tls_engine["key"])
    dialog.grab().save("/tmp/aics-add-engine.png")
    with qtbot.waitSignal(switcher.engineChosen, timeout=20_000) as chosen:
        qtbot.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)
    target = chosen.args[0]
    assert target.url == tls_engine["url"] and target.tls is not None
    assert window.session.target is target
    qtbot.waitUntil(lambda: window.session.state == "connected", timeout=20_000)
    qtbot.waitUntil(lambda: c["name"] in [r.name for r in window.containers_model.records()], timeout=20_000)
    assert tls_engine["url"] in window.findChild(QLabel, "engineStatus").text()
    assert switcher.currentData().url == tls_engine["url"]
    assert json.loads(settings.value("engines/recent"))[0]["cert"] == tls_engine["cert"]

    # A second switcher (a later start of the app) offers the engine again, with its TLS files.
    again = EngineSwitcher(None, settings)
    qtbot.addWidget(again)
    urls = [again.itemData(i).url for i in range(again.count()) if hasattr(again.itemData(i), "url")]
    assert tls_engine["url"] in urls
    # ... and choosing the local engine switches back.
    with qtbot.waitSignal(switcher.engineChosen, timeout=5000):
        switcher.activated.emit(0)
    qtbot.waitUntil(lambda: window.session.state == "connected"
                    and window.session.target.url == resolve_engine().url, timeout=20_000)
    window.close()
    time.sleep(0.1)
