"""The whole journey in the real window: build a digits classifier from the form, run it from the
Images page, and drop a digit picture on the Predict panel."""

from __future__ import annotations

import uuid

from PySide6.QtCore import Qt

from tests.support.labels import RUN_ID, TEST_LABEL
from tests.support.predict_page import drop_files, settled, wait_target, write_digits
from tests.support.qt import select_rows


def test_form_build_run_and_drop(window, qtbot, docker_api, tmp_path, monkeypatch, unique_name):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    w = window
    tag = f"aicstest-{RUN_ID}-journey:{uuid.uuid4().hex[:8]}"
    name = unique_name("journey")
    try:
        # 1. The builder form: a digits classifier (the demo model is trained at build time).
        w.pages.setCurrentWidget(w.build_page)
        page = w.build_page
        page.set_template("sklearn-image")
        page.form.set_values({"tag": tag, "labels_extra": f"{TEST_LABEL}={RUN_ID}"})
        assert page.build_button.isEnabled(), page.build_button.toolTip()
        with qtbot.waitSignal(page.buildFinished, timeout=600_000) as finished:
            qtbot.mouseClick(page.build_button, Qt.MouseButton.LeftButton)
        assert finished.args[0].status == "succeeded", "\n".join(page.log.texts[-20:])

        # 2. Run it from the Images page: the host port is picked for us, on 127.0.0.1.
        images = w.images_page
        w.pages.setCurrentWidget(images)
        qtbot.waitUntil(lambda: any(i.reference == tag for i in images.model.records()), timeout=5000)
        select_rows(images, [i.key for i in images.model.records() if i.reference == tag])
        images.actions_by_name["run"].trigger()
        dlg = images.last_dialog
        qtbot.waitUntil(lambda: dlg.ports.rows() == [["127.0.0.1", "", "8080", "tcp"]], timeout=5000)
        dlg.name.setText(name)
        assert dlg.run_button.isEnabled(), dlg.problems.text()
        qtbot.mouseClick(dlg.run_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: any(c.name == name and c.state == "running"
                                    for c in w.containers_model.records()), timeout=10000)
        container = next(c for c in w.containers_model.records() if c.name == name)
        port = container.ports[0]
        assert port.host_ip == "127.0.0.1" and port.host_port and port.container_port == 8080

        # 3. The Predict panel finds the container; a dropped digit comes back with its label.
        predict = w.predict_page
        w.pages.setCurrentWidget(predict)
        wait_target(qtbot, predict, container.id, timeout=30000)
        files = write_digits(tmp_path / "pics", 3)
        assert drop_files(predict.panel, [p for p, _ in files])
        qtbot.waitUntil(lambda: len(predict.cards) == 3 and settled(predict), timeout=20000)
        shown = [c.top for c in predict.cards.values()]
        assert shown == [str(label) for _, label in files], shown
    finally:
        for remove in (lambda: docker_api.remove_container(name, force=True),
                       lambda: docker_api.remove_image(tag, force=True)):
            try:
                remove()
            except Exception:
                pass
