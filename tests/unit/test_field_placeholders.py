"""A names field's placeholder gives its own example, from the template's manifest."""

from __future__ import annotations

from gui.builder.templates import list_templates
from gui.qt.build.fields import LineEditor


def test_each_names_field_shows_its_own_example(qtbot):
    shown = {}
    for template in list_templates():
        for field in template.build_fields:
            if field.type == "names":
                editor = LineEditor(field)
                qtbot.addWidget(editor)
                shown[(template.name, field.name)] = editor.edit.placeholderText()
    assert shown[("sklearn-regression", "features")] == "comma-separated, for example age, bmi, bp"
    assert shown[("sklearn-image", "trusted_types")] == "comma-separated, for example numpy.clip, mypackage.MyScaler"
    assert all("bmi" not in text for (_, name), text in shown.items() if name != "features")
