"""Run dialog, volumes (issue 15): mount one of the engine's volumes from the Volume… menu, or a new one by
name, which the engine creates when the container starts (the dialog says so). Real engine."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QMenu

from tests.support.shots import shoot
from tests.ui.test_run_defaults import open_run_dialog


def volume_menu(dlg, qtbot) -> QMenu:
    old = getattr(dlg, "volume_menu", None)
    dlg.volume_button.click()
    assert not dlg.volume_button.isEnabled()  # while the volumes are read, off the UI thread
    qtbot.waitUntil(lambda: getattr(dlg, "volume_menu", None) not in (None, old), timeout=5000)
    assert dlg.volume_menu.objectName() == "runVolumeMenu" and dlg.volume_button.isEnabled()
    return dlg.volume_menu


def mounts_of(docker_api, name: str) -> dict[str, str]:
    """Container path -> volume name of its volume mounts."""
    return {m["Destination"]: m["Name"] for m in docker_api.inspect_container(name)["Mounts"]
            if m["Type"] == "volume"}


def test_pick_an_existing_volume_or_name_a_new_one(window, qtbot, busybox_image, docker_api, unique_name,
                                                   test_labels):
    existing = unique_name("vol")
    docker_api.create_volume(existing, labels=test_labels)
    new = unique_name("newvol")
    name = unique_name("runvol")
    dlg = open_run_dialog(window, qtbot, busybox_image)
    try:
        menu = volume_menu(dlg, qtbot)
        pick = next(a for a in menu.actions() if a.text() == existing)
        pick.trigger()
        menu.close()
        table = dlg.mounts.table
        assert [table.item(0, c).text() for c in range(3)] == [existing, "/data", "no"]
        assert not dlg.volume_note.isVisible()  # it exists: nothing is created

        menu = volume_menu(dlg, qtbot)
        next(a for a in menu.actions() if a.objectName() == "runNewVolume").trigger()
        menu.close()
        assert table.rowCount() == 2
        assert "Type the new volume's name" in dlg.volume_note.text() and dlg.volume_note.isVisible()
        table.item(1, 0).setText(new)
        table.item(1, 1).setText("/models")
        assert f"New volume {new}: the engine creates it when the container starts" in dlg.volume_note.text()
        assert dlg.volume_note.isVisible()
        shoot(dlg, "run-dialog-new-volume")
        assert f"-v {existing}:/data" in dlg.preview.toPlainText()
        assert f"-v {new}:/models" in dlg.preview.toPlainText()
        table.item(1, 0).setText("bad name")  # not a volume name: a problem, no promise
        assert "neither an absolute path nor a valid volume name" in dlg.problems.text()
        assert not dlg.volume_note.isVisible()
        table.item(1, 0).setText(new)

        dlg.name.setText(name)
        dlg.command.setText("sleep 600")
        dlg.run_button.click()
        # Until the dialog has its answer: the container shows in the list once created, before it starts,
        # and a failed start removes it again (a CI run once found it listed, then gone, and never said why).
        qtbot.waitUntil(lambda: dlg.result() == QDialog.DialogCode.Accepted or "⚠" in dlg.problems.text(),
                        timeout=30000)
        assert dlg.result() == QDialog.DialogCode.Accepted, f"the Run dialog says: {dlg.problems.text()}"
        assert mounts_of(docker_api, name) == {"/data": existing, "/models": new}
        assert new in {v["Name"] for v in docker_api.volumes()["Volumes"] or []}
    finally:
        dlg.close()
        for cleanup in (lambda: docker_api.remove_container(name, force=True),
                        lambda: docker_api.remove_volume(existing), lambda: docker_api.remove_volume(new)):
            try:
                cleanup()
            except Exception:
                pass
