"""Issue 10.4-5 on the real engine: the Build page keeps each template's edits, gives the form and the
log room, explains a failed build in one sentence, and leads from a built image to a prediction."""

from __future__ import annotations

import docker
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QFormLayout, QScrollArea, QSplitter

from gui.qt.common.run_dialog import RunDialog
from gui.qt.common.style import color
from gui.qt.shell.main_window import default_size
from tests.support.build_page import build_window_fixture, tags_fixture  # noqa: F401  (register fixtures)
from tests.support.labels import RUN_ID, TEST_LABEL
from tests.support.shots import shoot
from tests.support.templates import COLD_BUILD_S

LEFT = Qt.MouseButton.LeftButton
TYPO = "sklearn-pandas-typo-xyz==0.0.1"
CAUSE = f"No matching distribution found for {TYPO}"


def build(qtbot, page, timeout=600_000):
    assert page.build_button.isEnabled(), page.build_button.toolTip()
    with qtbot.waitSignal(page.buildFinished, timeout=timeout) as finished:
        qtbot.mouseClick(page.build_button, LEFT)
    return finished.args[0]


def test_each_template_keeps_its_edits_and_the_tag_comes_first(window, qtbot):
    page = window.build_page
    page.set_template("python-app")
    page.form.set_values({"packages": "six==1.17.0", "tag": "mine/app:1", "version": "2.0.0"})
    qtbot.mouseClick(page.preview.edit_button, LEFT)
    page.preview.editor.appendPlainText("# my note")
    assert page.preview.is_hand_edited
    page.set_template("sklearn-regression")
    assert page.form.build_values()["tag"] != "mine/app:1"  # its own defaults, not the other's values
    assert not page.preview.is_hand_edited and "# my note" not in page.preview.dockerfile()
    page.form.set_value("tag", "mine/regression:3")
    page.set_template("python-app")
    values = page.form.build_values()
    assert (values["packages"], values["tag"], values["version"]) == ("six==1.17.0", "mine/app:1", "2.0.0")
    assert page.preview.is_hand_edited and page.preview.dockerfile().rstrip().endswith("# my note")
    page.set_template("sklearn-regression")
    assert page.form.build_values()["tag"] == "mine/regression:3"
    # The image tag is the form's first field.
    form = page.form.build_box.layout()
    assert isinstance(form, QFormLayout)
    first = form.itemAt(0, QFormLayout.ItemRole.FieldRole).widget()
    assert page.form.editors["tag"].parent() is first


def test_the_form_and_the_log_have_room_at_the_default_size(window, qtbot):
    window.resize(default_size())
    page = window.build_page
    page.set_template("sklearn-regression")
    qtbot.wait(300)
    scroll = page.findChild(QScrollArea, "builderFormScroll")
    line = page.fontMetrics().lineSpacing()
    assert scroll.viewport().height() >= 12 * line, (scroll.viewport().height(), window.size())
    assert page.log._rows() >= 8, (page.log._rows(), window.size())
    assert page.description.height() <= 2 * line  # a long description takes one line, all of it in the tooltip
    assert page.description.toolTip() == page.template.description
    shoot(window, "build-default-size")


@pytest.mark.timeout(COLD_BUILD_S)  # python:3.11-slim may be pulled first
def test_a_failed_pip_build_says_why_on_top_and_offers_to_remove_what_it_left(window, qtbot, docker_api, tags):
    page = window.build_page
    page.set_template("python-app")
    page.form.set_values({"packages": TYPO, "tag": tags("typo"), "labels_extra": f"{TEST_LABEL}={RUN_ID}"})
    outcome = build(qtbot, page)
    left = ""
    try:
        assert outcome.status == "failed"
        # The cause in one sentence, on top of the page (above the form and the log).
        assert page.failure.isVisible() and page.failure.text.isVisible()
        assert CAUSE in page.failure.text.text()
        splitter = page.findChild(QSplitter, "buildSplitter")
        assert page.failure.mapTo(page, QPoint(0, 0)).y() < splitter.mapTo(page, QPoint(0, 0)).y()
        # The log: no escape codes, the pip error in the error colour, and scrolled to the line that says why.
        log = page.log
        assert not any("\x1b" in t or "[91m" in t or "[0m" in t for t in log.texts)
        row = log.cause_row
        assert row is not None and log.line(row) == f"ERROR: {CAUSE}"
        assert log.colors[row] == color("log-error", log)
        top = log.first + log.verticalScrollBar().value()
        assert top <= row < top + log._rows(), (top, row, log._rows())
        # The unfinished image the failure left (the COPY of requirements.txt), offered for removal.
        qtbot.waitUntil(lambda: page.failure.remove_button.isVisible(), timeout=10000)
        left = page.failure.dangling
        assert not docker_api.inspect_image(left)["RepoTags"]
        assert left.split(":", 1)[-1][:12] in page.failure.remove_button.text()
        window.repaint()
        shoot(window, "build-failed-pip")
        qtbot.mouseClick(page.failure.remove_button, LEFT)
        qtbot.waitUntil(lambda: not page.failure.remove_button.isVisible(), timeout=10000)
        with pytest.raises(docker.errors.ImageNotFound):
            docker_api.inspect_image(left)
        # Fixing the requirement: the old cause no longer applies and goes away (the history keeps it).
        assert page.failure.text.isVisible()
        page.form.set_value("packages", "six==1.17.0")
        assert not page.failure.isVisible() and "failed" not in page.status.text().lower()
        assert page.history.records[0].result == "failed"
    finally:
        if left:
            try:
                docker_api.remove_image(left)
            except Exception:
                pass


@pytest.mark.timeout(COLD_BUILD_S)  # sklearn-regression from nothing: scikit-learn installed, the demo trained
def test_run_belongs_to_the_built_image_and_predict_with_it_opens_the_predict_page(
        window, qtbot, docker_api, tags, unique_name):
    page = window.build_page
    page.set_template("sklearn-regression")
    built = tags("served")
    page.form.set_values({"tag": built, "labels_extra": f"{TEST_LABEL}={RUN_ID}"})
    outcome = build(qtbot, page)
    assert outcome.status == "succeeded", "\n".join(page.log.texts[-20:])
    name = unique_name("served")
    try:
        # Another template now: Run… and the status still speak of the image that was built.
        page.set_template("python-app")
        assert page.run_button.isEnabled() and built in page.run_button.text()
        assert built in page.status.text()
        qtbot.mouseClick(page.run_button, LEFT)
        dlg = page.run_dialog
        assert isinstance(dlg, RunDialog) and dlg.image == built
        assert [r[2] for r in dlg.ports.rows()] == ["8080"]  # the regression server's port, not python-app's
        dlg.name.setText(name)
        qtbot.waitUntil(dlg.run_button.isEnabled, timeout=5000)
        qtbot.mouseClick(dlg.run_button, LEFT)
        qtbot.waitUntil(page.predict_button.isVisible, timeout=15000)
        shoot(window, "build-run-predict-with-it")
        qtbot.mouseClick(page.predict_button, LEFT)
        predict = window.predict_page
        assert window.pages.currentWidget() is predict
        # Chosen once it is healthy (the image's HEALTHCHECK asks /health), not before.
        chosen_while = []  # the container's health each time the chooser gave the page this container
        predict.picker.targetChanged.connect(
            lambda spec: spec is not None and spec.name == name and chosen_while.append(
                next((c.health for c in window.containers_model.records() if c.name == name), "")))
        if not any(c.name == name and c.health == "healthy" for c in window.containers_model.records()):
            assert f"Waiting for {name} to be healthy" in predict.picker.status.text()
        cid = lambda: next((c.id for c in window.containers_model.records() if c.name == name), "?")  # noqa: E731
        qtbot.waitUntil(lambda: predict.picker.combo.currentData() == f"container:{cid()}", timeout=90000)
        assert predict.picker.chosen_name == name
        assert chosen_while and set(chosen_while) == {"healthy"}, chosen_while
        qtbot.waitUntil(lambda: predict.meta is not None, timeout=30000)
        qtbot.wait(300)
        shoot(window, "predict-after-build")
    finally:
        try:
            docker_api.remove_container(name, force=True)
        except Exception:
            pass
