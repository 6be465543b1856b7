"""Compose projects on the Containers page, on the real engine: containers labelled as a compose project are
grouped under a header row, collapse and expand, and start / stop / remove as one."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMenu, QMessageBox, QPushButton

from gui.qt.containers.projects import PROJECT_LABEL, SERVICE_LABEL, ProjectRole
from tests.support.shots import shoot


def rows(page) -> list[str]:
    """The Name column as shown, a project's header row as "[project]"."""
    out = []
    for r in range(page.proxy.rowCount()):
        index = page.proxy.index(r, 0)
        project = index.data(ProjectRole)
        out.append(f"[{project}]" if project else index.data())
    return out


def header_index(page, project: str, column: int = 0):
    row = next(r for r in range(page.proxy.rowCount()) if page.proxy.index(r, 0).data(ProjectRole) == project)
    return page.proxy.index(row, column)


def engine_state(docker_api, cid: str) -> str:
    try:
        return docker_api.inspect_container(cid)["State"]["Status"]
    except Exception:
        return "gone"


def test_compose_project_groups_collapses_and_acts_as_one(window, qtbot, make_container, unique_name, docker_api):
    w = window
    page = w.containers_page
    w.pages.setCurrentWidget(page)
    project = unique_name("proj")
    web = make_container(unique_name("web"), labels={PROJECT_LABEL: project, SERVICE_LABEL: "web"})
    db = make_container(unique_name("db"), labels={PROJECT_LABEL: project, SERVICE_LABEL: "db"})
    loose = make_container(unique_name("loose"))
    qtbot.waitUntil(lambda: all(w.containers_model.record(c["Id"]) for c in (web, db, loose)), timeout=3000)
    qtbot.waitUntil(lambda: header_index(page, project, 2).data() == "2 running", timeout=2000)

    # The header row, then its two containers right under it; the loose container elsewhere.
    shown = rows(page)
    at = shown.index(f"[{project}]")
    assert set(shown[at + 1:at + 3]) == {web["name"], db["name"]}
    assert loose["name"] in shown
    assert header_index(page, project, 1).data() == "compose: db, web"
    assert header_index(page, project).data(Qt.ItemDataRole.FontRole).bold()
    # The model, the count and the selection speak of containers only.
    assert all(r is not None for r in page.model.records())
    assert page.proxy.shown_records() == page.model.rowCount()
    assert "shown" not in page.count.text()
    # Sorting by another column keeps the project together under its header.
    page.view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    shown = rows(page)
    at = shown.index(f"[{project}]")
    assert shown[at + 1:at + 3] == sorted([web["name"], db["name"]])
    page.view.sortByColumn(4, Qt.SortOrder.DescendingOrder)

    # A click on the chevron collapses it: its containers' rows go, the header stays; again expands.
    page.view.scrollTo(header_index(page, project))
    rect = page.view.visualRect(header_index(page, project))
    QTest.mouseClick(page.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     QPoint(rect.left() + 8, rect.center().y()))
    qtbot.waitUntil(lambda: web["name"] not in rows(page), timeout=1000)
    assert db["name"] not in rows(page) and f"[{project}]" in rows(page) and loose["name"] in rows(page)
    assert "3 of" not in page.count.text()  # the count says 2 of N containers shown
    shoot(page, "compose-project-collapsed")
    rect = page.view.visualRect(header_index(page, project))
    QTest.mouseClick(page.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     QPoint(rect.left() + 8, rect.center().y()))
    qtbot.waitUntil(lambda: web["name"] in rows(page) and db["name"] in rows(page), timeout=1000)
    # Left and Right on the header row do the same.
    page.view.setCurrentIndex(header_index(page, project))
    page.view.setFocus()
    QTest.keyClick(page.view, Qt.Key.Key_Left)
    assert web["name"] not in rows(page)
    QTest.keyClick(page.view, Qt.Key.Key_Right)
    assert web["name"] in rows(page)

    # The header row selected: no container is "selected", but the actions apply to the project.
    page.view.selectionModel().select(header_index(page, project),
                                      QItemSelectionModel.SelectionFlag.ClearAndSelect
                                      | QItemSelectionModel.SelectionFlag.Rows)
    assert page.selected_records() == []
    assert page.selected_projects() == [project]
    assert page.actions_by_name["stop"].isEnabled() and not page.actions_by_name["tool:logs"].isEnabled()
    shoot(page, "compose-project")

    # Its context menu offers Collapse and the actions.
    page.view.customContextMenuRequested.emit(page.view.visualRect(header_index(page, project)).center())
    menu = page.findChildren(QMenu, "containersMenu")[-1]
    texts = [a.text() for a in menu.actions()]
    assert "Collapse" in texts and "Stop" in texts and "Remove" in texts
    menu.close()

    page.actions_by_name["stop"].trigger()
    qtbot.waitUntil(lambda: engine_state(docker_api, web["Id"]) == engine_state(docker_api, db["Id"]) == "exited",
                    timeout=15000)
    assert engine_state(docker_api, loose["Id"]) == "running"
    qtbot.waitUntil(lambda: header_index(page, project, 2).data() == "2 exited", timeout=2000)

    page.actions_by_name["start"].trigger()
    qtbot.waitUntil(lambda: engine_state(docker_api, web["Id"]) == engine_state(docker_api, db["Id"]) == "running",
                    timeout=15000)
    qtbot.waitUntil(lambda: header_index(page, project, 2).data() == "2 running", timeout=2000)

    # Remove asks, naming the project, then removes both containers; the header row goes with them.
    page.view.selectionModel().select(header_index(page, project),
                                      QItemSelectionModel.SelectionFlag.ClearAndSelect
                                      | QItemSelectionModel.SelectionFlag.Rows)
    page.actions_by_name["remove"].trigger()
    qtbot.waitUntil(lambda: w.findChild(QMessageBox, "confirmDialog") is not None, timeout=2000)
    box = w.findChild(QMessageBox, "confirmDialog")
    assert f"compose project {project}" in box.text() and "2 containers" in box.text()
    assert "2 of them are running" in box.informativeText()
    box.findChild(QPushButton, "confirmYes").click()
    qtbot.waitUntil(lambda: engine_state(docker_api, web["Id"]) == engine_state(docker_api, db["Id"]) == "gone",
                    timeout=15000)
    qtbot.waitUntil(lambda: f"[{project}]" not in rows(page), timeout=2000)
    assert engine_state(docker_api, loose["Id"]) == "running"
    assert loose["name"] in rows(page)


def test_filter_by_project_name_and_state(window, qtbot, make_container, unique_name):
    w = window
    page = w.containers_page
    project = unique_name("stack")
    web = make_container(unique_name("web"), labels={PROJECT_LABEL: project, SERVICE_LABEL: "web"})
    db = make_container(unique_name("db"), start=False, labels={PROJECT_LABEL: project, SERVICE_LABEL: "db"})
    loose = make_container(unique_name("loose"))
    qtbot.waitUntil(lambda: all(w.containers_model.record(c["Id"]) for c in (web, db, loose)), timeout=3000)
    page.filter.setText(project)  # the project's name is in no column of its containers: still found
    qtbot.waitUntil(lambda: set(rows(page)) == {f"[{project}]", web["name"], db["name"]}, timeout=1000)
    assert page.count.text().startswith("2 of ")
    page.filter.setText("")
    page.state_filter.setCurrentIndex(page.state_filter.findData("created"))
    shown = rows(page)
    assert f"[{project}]" in shown and db["name"] in shown
    assert web["name"] not in shown and loose["name"] not in shown
    page.state_filter.setCurrentIndex(0)
