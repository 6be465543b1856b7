"""The Build page's Run… masks every secret run field of the template, whatever its variable is called."""

from __future__ import annotations

from gui.builder import get_template
from gui.builder.run import secret_env_names


def test_run_after_a_build_marks_the_templates_secret_fields(window, qtbot):
    page = window.build_page
    template = get_template("jupyter")
    assert secret_env_names(template) == {"JUPYTER_TOKEN"}
    # As after a build of the template (no build needed to open its Run dialog).
    page.last_build = (template, template.defaults(), {}, "aicstest-jupyter:never-built", False)
    dlg = page.open_run_dialog()
    qtbot.addWidget(dlg)
    assert "JUPYTER_TOKEN" in dlg.secret_env  # marked by the template, not guessed from the name
    row = next(r for r in range(dlg.env.table.rowCount())
               if dlg.env.table.item(r, 0) and dlg.env.table.item(r, 0).text() == "JUPYTER_TOKEN")
    token = dlg.env.rows()[row][1]
    assert token and token not in dlg.preview.toPlainText()  # the equivalent command does not show it
    dlg.close()
