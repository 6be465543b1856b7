"""Issue 11.5: the Run dialog starts with safe defaults (memory and process limits, restart on failure
for a model server, ports on 127.0.0.1) and never shows a password in plain text. Real engine."""

from __future__ import annotations

import io

from PySide6.QtWidgets import QStyleOptionViewItem

from gui.engine.runspec import MIB, default_memory_limit, size_cli
from gui.qt.common.run_dialog import MASK, RunDialog
from tests.support.qt import select_rows


def open_run_dialog(w, qtbot, image) -> RunDialog:
    page = w.images_page
    qtbot.waitUntil(lambda: any(i.reference == image for i in page.model.records()), timeout=5000)
    select_rows(page, {i.key for i in page.model.records() if i.reference == image})
    page.actions_by_name["run"].trigger()
    qtbot.waitUntil(lambda: page.last_dialog is not None and page.last_dialog.isVisible(), timeout=2000)
    return page.last_dialog


def ran(qtbot, dlg) -> None:
    """Wait for the dialog's run: it closes once the container started, else says why (a created
    container whose start failed is removed again, so its name alone proves nothing)."""
    qtbot.waitUntil(lambda: not dlg.isVisible() or dlg.problems.text().startswith("⚠"), timeout=20000)
    assert not dlg.isVisible(), dlg.problems.text()


def shown_text(table, row: int, col: int) -> str:
    """The text the table paints in a cell (what its delegate puts in the style option)."""
    option = QStyleOptionViewItem()
    index = table.model().index(row, col)
    table.itemDelegateForIndex(index).initStyleOption(option, index)
    return option.text


def test_memory_and_process_limits_are_set_and_reach_the_container(window, qtbot, busybox_image, docker_api,
                                                                   app_container_name):
    host_total = int(docker_api.info()["MemTotal"])
    expected_mb = default_memory_limit(host_total) // MIB
    dlg = open_run_dialog(window, qtbot, busybox_image)
    qtbot.waitUntil(lambda: dlg.memory.value() == expected_mb, timeout=5000)
    assert dlg.pids.value() == 1024
    preview = dlg.preview.toPlainText()
    assert f"--memory {size_cli(expected_mb * MIB)} --pids-limit 1024" in preview, preview
    dlg.memory.setValue(300)  # editable
    assert "--memory 300m" in dlg.preview.toPlainText()
    name = app_container_name("limits")
    dlg.name.setText(name)
    dlg.command.setText("sleep 600")
    dlg.run_button.click()
    ran(qtbot, dlg)
    host = docker_api.inspect_container(name)["HostConfig"]
    assert host["Memory"] == 300 * MIB and host["PidsLimit"] == 1024
    assert host["RestartPolicy"]["Name"] in ("", "no"), "a plain image is not restarted"


def test_a_serving_image_restarts_on_failure(window, qtbot, busybox_image, docker_api, test_labels, run_id):
    tag = f"aicstest-serving:{run_id}"
    dockerfile = f"FROM {busybox_image}\nLABEL ai-container-studio.protocol=studio-v1\n"
    for chunk in docker_api.build(fileobj=io.BytesIO(dockerfile.encode()), tag=tag, rm=True, decode=True,
                                  labels=test_labels):
        assert "error" not in chunk, chunk
    try:
        window.session.refresh()
        dlg = open_run_dialog(window, qtbot, tag)
        qtbot.waitUntil(lambda: dlg.restart.currentText() == "on-failure", timeout=5000)
        assert "--restart on-failure" in dlg.preview.toPlainText()
        dlg.close()
    finally:
        docker_api.remove_image(tag, force=True)


def test_a_port_added_by_hand_is_on_loopback_and_all_interfaces_warns(window, qtbot, busybox_image):
    dlg = open_run_dialog(window, qtbot, busybox_image)
    dlg.ports.table.setRowCount(0)
    dlg.findChild(type(dlg.run_button), "runPortsAdd").click()
    table = dlg.ports.table
    assert table.rowCount() == 1 and table.item(0, 0).text() == "127.0.0.1"
    assert table.item(0, 3).text() == "tcp"
    table.item(0, 2).setText("80")
    assert dlg.warnings.isHidden() and dlg.run_button.isEnabled()
    table.item(0, 0).setText("0.0.0.0")
    assert dlg.warnings.isVisible() and "all network interfaces" in dlg.warnings.text()
    assert dlg.run_button.isEnabled(), "a warning, not a refusal"
    dlg.close()


def test_a_token_is_masked_in_the_table_and_left_out_of_the_command(window, qtbot, busybox_image, docker_api,
                                                                    unique_name, app_container_name):
    dlg = open_run_dialog(window, qtbot, busybox_image)
    token = "tok-" + unique_name("secret")
    dlg.env.add_row("JUPYTER_TOKEN", token)
    dlg.env.add_row("MODE", "fast")
    assert shown_text(dlg.env.table, 0, 1) == MASK
    assert shown_text(dlg.env.table, 1, 1) == "fast"
    preview = dlg.preview.toPlainText()
    assert token not in preview and "-e JUPYTER_TOKEN " in preview and "-e MODE=fast" in preview
    # A name that does not look secret can be marked so (the build page marks its secret run fields).
    dlg.env.add_row("NOTEBOOK_PASS_PHRASE_X", "hidden-too")
    dlg.mark_secret("NOTEBOOK_PASS_PHRASE_X")
    assert shown_text(dlg.env.table, 2, 1) == MASK and "hidden-too" not in dlg.preview.toPlainText()
    dlg.env.table.setRowCount(2)
    name = app_container_name("tok")
    dlg.name.setText(name)
    dlg.command.setText("sleep 600")
    dlg.run_button.click()
    ran(qtbot, dlg)
    assert f"JUPYTER_TOKEN={token}" in docker_api.inspect_container(name)["Config"]["Env"], \
        "the container still gets the real value"
