"""The Containers page's State column (health, exit codes, Stop and Restart in progress) and its
"Predict with this" menu entry, on the real engine."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMenu, QMessageBox, QPushButton

from tests.support.qt import select_rows
from tests.support.shots import shoot

SECOND = 1_000_000_000  # health check times are in nanoseconds
# Ignores SIGTERM: `docker stop` waits its 10 s and then kills it (exit code 137).
STUBBORN = ("sh", "-c", "trap '' TERM; sleep 3600 & wait; sleep 3600")

def state_text(w, name: str) -> str:
    """What the State column shows for the container ``name`` ("" when it is not listed)."""
    model = w.containers_model
    column = next(i for i in range(model.columnCount()) if model.headerData(i, Qt.Orientation.Horizontal) == "State")
    for row, c in enumerate(model.records()):
        if c.name == name:
            return model.index(row, column).data() or ""
    return ""


def confirm_box(w):
    return w.findChild(QMessageBox, "confirmDialog")


def test_state_shows_health_and_exit_codes_and_kill_still_asks(window, qtbot, make_container):
    w = window
    w.pages.setCurrentWidget(w.containers_page)
    check = {"interval": SECOND // 2, "timeout": SECOND, "retries": 1}
    healthy = make_container(healthcheck={"test": ["CMD", "true"], "start_period": 0, **check})
    slow = make_container(healthcheck={"test": ["CMD", "true"], **check, "interval": 300 * SECOND})
    sick = make_container(healthcheck={"test": ["CMD", "false"], **check})
    three = make_container(command=("sh", "-c", "exit 3"))
    killed = make_container()

    qtbot.waitUntil(lambda: state_text(w, slow["name"]) == "starting", timeout=10000)
    qtbot.waitUntil(lambda: state_text(w, healthy["name"]) == "healthy", timeout=15000)
    qtbot.waitUntil(lambda: state_text(w, sick["name"]) == "unhealthy", timeout=15000)
    qtbot.waitUntil(lambda: state_text(w, three["name"]) == "exited (3)", timeout=10000)

    # Kill still asks; the row then says how the container ended.
    page = w.containers_page
    qtbot.waitUntil(lambda: state_text(w, killed["name"]) == "running", timeout=5000)
    select_rows(page, killed["Id"])
    page.actions_by_name["kill"].trigger()
    qtbot.waitUntil(lambda: confirm_box(w) is not None, timeout=2000)
    confirm_box(w).findChild(QPushButton, "confirmYes").click()
    qtbot.waitUntil(lambda: state_text(w, killed["name"]) == "exited (137)", timeout=10000)
    record = w.containers_model.record(sick["Id"])
    assert record.health == "unhealthy" and "(unhealthy)" in record.status
    page.view.viewport().update()
    qtbot.wait(200)
    shoot(w, "containers-state-column")


def test_stop_does_not_ask_and_the_row_says_stopping_until_it_exited(window, qtbot, make_container):
    w = window
    w.pages.setCurrentWidget(w.containers_page)
    c = make_container(command=STUBBORN)
    page = w.containers_page
    qtbot.waitUntil(lambda: state_text(w, c["name"]) == "running", timeout=5000)
    select_rows(page, c["Id"])
    page.actions_by_name["stop"].trigger()
    qtbot.waitUntil(lambda: state_text(w, c["name"]) == "stopping…", timeout=2000)
    assert confirm_box(w) is None and QApplication.activeModalWidget() is None
    qtbot.wait(1500)  # the engine waits 10 s for SIGTERM: the row keeps saying so
    assert state_text(w, c["name"]) == "stopping…"
    assert not page.actions_by_name["stop"].isEnabled()  # not twice; Kill stays there for the impatient
    assert page.actions_by_name["kill"].isEnabled()
    page.view.viewport().update()
    shoot(w, "containers-stopping")
    qtbot.waitUntil(lambda: state_text(w, c["name"]) == "exited (137)", timeout=20000)
    assert not w.containers_model.transitions

    # Restart asks nothing either, and shows it is under way.
    select_rows(page, c["Id"])
    page.actions_by_name["restart"].trigger()
    assert state_text(w, c["name"]) == "restarting…"
    assert confirm_box(w) is None
    qtbot.waitUntil(lambda: state_text(w, c["name"]) == "running", timeout=20000)


def test_predict_with_this_is_offered_for_containers_that_speak_the_protocol(window, qtbot, make_container,
                                                                             docker_api):
    w = window
    w.pages.setCurrentWidget(w.containers_page)
    host = docker_api.create_host_config(port_bindings={8080: ("127.0.0.1", None)})
    model = make_container(labels={"ai-container-studio.protocol": "studio-v1",
                                   "ai-container-studio.task": "tabular-regression"},
                           ports=[8080], host_config=host)
    plain = make_container()
    page = w.containers_page
    qtbot.waitUntil(lambda: state_text(w, model["name"]) == "running" and state_text(w, plain["name"]) == "running",
                    timeout=5000)

    def menu_for(cid: str):
        row = next(i for i, r in enumerate(page.model.records()) if r.id == cid)
        index = page.proxy.mapFromSource(page.model.index(row, 0))
        page.view.scrollTo(index)
        page.view.customContextMenuRequested.emit(page.view.visualRect(index).center())
        menu = page.findChildren(QMenu, "containersMenu")[-1]
        return menu, {a.text(): a for a in menu.actions()}

    menu, actions = menu_for(plain["Id"])
    assert "Predict with this" not in actions
    menu.close()
    menu, actions = menu_for(model["Id"])
    assert "Predict with this" in actions
    actions["Predict with this"].trigger()
    menu.close()
    predict = w.predict_page
    assert w.pages.currentWidget() is predict
    qtbot.waitUntil(lambda: predict.picker.combo.currentData() == f"container:{model['Id']}", timeout=10000)
    assert predict.picker.chosen_name == model["name"]
    shoot(w, "predict-with-this")
    # The Run dialog names a container started without a name by its short id: that finds it too.
    predict.picker.select("custom")
    w.predict_with(model["Id"][:12])
    qtbot.waitUntil(lambda: predict.picker.combo.currentData() == f"container:{model['Id']}", timeout=10000)
    assert predict.picker.chosen_name == model["name"]
