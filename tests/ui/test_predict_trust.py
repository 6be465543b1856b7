"""Predict page answers a user can trust (issue 10), on the real engine.

A batch stays with the container it was sent to (it waits while that container is stopped and resumes when
it runs again, even on a new host port); the chooser follows a container by name and tells picture models
from tabular ones. Screenshots go to ``$PREDICT_SHOTS`` (default ``/tmp/predict-trust-shots``).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QLabel

from tests.support.predict_page import (  # noqa: F401  (the *_fixture names register fixtures)
    build_image,
    digits_image_fixture,
    drop_files,
    predict_window_fixture,
    settled,
    wait_target,
    write_digits,
)
from tests.support.templates import COLD_BUILD_S, wait_for

pytestmark = pytest.mark.timeout(COLD_BUILD_S)  # the module's serving images may be built from nothing

SHOTS = Path(os.environ.get("PREDICT_SHOTS", "/tmp/predict-trust-shots"))


def shot(widget, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    assert widget.grab().save(str(path))
    return path


def host_url(docker_api, cid: str) -> str:
    port = docker_api.inspect_container(cid)["NetworkSettings"]["Ports"]["8080/tcp"][0]["HostPort"]
    return f"http://127.0.0.1:{port}"


def serve(docker_api, image: str, labels: dict, name: str) -> str:
    """Run a serving image with port 8080 published on a port the engine picks (a new one at each start)."""
    c = docker_api.create_container(
        image, name=name, labels=labels, ports=[8080],
        host_config=docker_api.create_host_config(port_bindings={8080: ("127.0.0.1",)}))
    docker_api.start(c["Id"])
    wait_for(f"{host_url(docker_api, c['Id'])}/health", docker_api, c["Id"])
    return c["Id"]


@pytest.fixture(scope="module")
def regression_image(docker_api, test_labels, tmp_path_factory):
    tag = build_image("sklearn-regression", tmp_path_factory.mktemp("reg"), test_labels)
    yield tag
    try:
        docker_api.remove_image(tag, force=True)
    except Exception:
        pass


@pytest.fixture
def containers(docker_api):
    """Container ids the test made; removed afterwards."""
    made: list[str] = []
    yield made
    for cid in made:
        try:
            docker_api.remove_container(cid, force=True, v=True)
        except Exception:
            pass


class StopAfter(QObject):
    """Kills a container on the UI thread right after the page has shown its ``n``-th answer."""

    def __init__(self, page, n: int, stop):
        super().__init__(page)
        self.page, self.n, self.stop = page, n, stop
        self.done_at: int | None = None
        page.runner.answered.connect(self.on_answered)  # after the page's own slot: the card is done

    @Slot(int, object)
    def on_answered(self, _job_id, _prediction) -> None:
        if self.done_at is None and self.page.counts()["done"] >= self.n:
            self.done_at = self.page.counts()["done"]
            self.stop()


# -- 1. a batch never changes model behind the user's back ------------------------------------------------------


def test_a_batch_waits_for_its_stopped_container_and_resumes_on_its_new_port(
        predict_window, qtbot, docker_api, digits_image, regression_image, test_labels, unique_name, containers,
        tmp_path):
    digits = serve(docker_api, digits_image, test_labels, unique_name("digits"))
    containers.append(digits)
    # Another running model (a regressor, named to sort first): the old page switched the batch to it.
    regressor = serve(docker_api, regression_image, test_labels, unique_name("a-regressor"))
    containers.append(regressor)
    w = predict_window()
    page = w.predict_page
    combo = page.picker.combo
    qtbot.waitUntil(lambda: combo.findData(f"container:{regressor}") >= 0, timeout=15000)
    wait_target(qtbot, page, digits)
    name = page.spec.name
    assert "picture model" in combo.itemText(combo.findData(f"container:{digits}"))
    assert "tabular model" in combo.itemText(combo.findData(f"container:{regressor}"))

    chosen = []
    page.picker.targetChanged.connect(chosen.append)
    files = write_digits(tmp_path / "pics", 1000, size=320, fmt="JPEG")
    stopper = StopAfter(page, 40, lambda: docker_api.kill(digits))
    assert drop_files(page.panel, [p for p, _ in files])

    # The container is gone: every picture not answered waits for it, none failed, none went elsewhere.
    qtbot.waitUntil(lambda: page.picker.stopped_name == name, timeout=20000)
    qtbot.waitUntil(lambda: len(page.cards) == 1000 and not page.runner.busy
                    and sum(page.parked().values()) == page.counts()["waiting"], timeout=30000)
    counts = page.counts()
    # Answers can land more than one per signal turn (a card made after its answer arrived counts at once),
    # so the kill comes at the 40th answer or just after it; what matters is that none is lost.
    assert stopper.done_at is not None and 40 <= stopper.done_at <= counts["done"] < 1000, (stopper.done_at, counts)
    assert counts["failed"] == counts["cancelled"] == 0, counts
    assert page.parked() == {name: 1000 - counts["done"]}
    assert all(spec is None or spec.name == name for spec in chosen), chosen
    assert page.spec is None and page.client is None and page.stack.currentWidget() is page.panel
    waiting = [c for c in page.cards.values() if c.state == "waiting"]
    message = f"the container {name} stopped — these pictures resume when it is back, or cancel"
    assert {c.findChild(QLabel, "cardStatus").text() for c in waiting} == {message}
    assert combo.currentData() == f"stopped:{name}" and "stopped" in combo.currentText()
    assert f"wait for {name} to run again" in page.summary.text()
    shot(w, "1-batch-waits-for-stopped-container")

    # The same container runs again, on a new host port: the batch resumes there by itself.
    docker_api.start(digits)
    new_url = host_url(docker_api, digits)
    qtbot.waitUntil(lambda: settled(page), timeout=60000)
    counts = page.counts()
    assert counts == {"waiting": 0, "done": 1000, "failed": 0, "cancelled": 0}, counts
    assert page.spec.name == name and page.spec.url == new_url and page.spec.container_id == digits
    right = sum(card.top == str(target) for card, (_p, target) in zip(page.cards.values(), files, strict=True))
    assert right >= 900, right  # the demo model gets ~95 % of held-out rows right
    assert all(spec is None or spec.name == name for spec in chosen), chosen
    shot(w, "1-batch-resumed")


def test_the_chooser_follows_a_container_by_name_when_it_is_made_anew(
        predict_window, qtbot, docker_api, digits_image, test_labels, unique_name, containers):
    name = unique_name("mine")
    first = serve(docker_api, digits_image, test_labels, name)
    containers.append(first)
    other = serve(docker_api, digits_image, test_labels, unique_name("another"))
    containers.append(other)
    w = predict_window()
    page = w.predict_page
    combo = page.picker.combo
    qtbot.waitUntil(lambda: combo.findData(f"container:{other}") >= 0, timeout=15000)
    wait_target(qtbot, page, first)

    docker_api.remove_container(first, force=True, v=True)
    qtbot.waitUntil(lambda: page.picker.stopped_name == name, timeout=15000)
    assert page.spec is None  # not `other`, though it runs and serves the same kind of model
    second = serve(docker_api, digits_image, test_labels, name)  # e.g. re-created by compose
    containers.append(second)
    qtbot.waitUntil(lambda: page.spec is not None and page.meta is not None, timeout=15000)
    assert page.spec.container_id == second and page.spec.name == name
    assert combo.currentData() == f"container:{second}"


# -- 3. confidence that means something -------------------------------------------------------------------------

FAKE_SERVER = r'''
import http.server, json, struct
DESCRIPTION = "Recognises handwritten digits 0-9, one digit a picture, drawn light on dark or dark on light."
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def send(self, body):
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def do_GET(self):
        if self.path == "/health":
            self.send({"status": "ready", "model": "fake-digits"})
        else:
            self.send({"name": "fake-digits", "task": "image-classification", "description": DESCRIPTION,
                       "labels": [str(i) for i in range(10)], "input": {"kind": "image"},
                       "protocols": ["studio-v1"]})
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        width = struct.unpack(">I", body[16:20])[0]
        scores = {1: [0.41, 0.33, 0.26], 2: [1.0, 0.0, 0.0], 3: [0.7, 0.65, 0.1]}.get(width, [0.97, 0.02, 0.01])
        answer = {"predictions": [{"label": str(i + 4), "score": s} for i, s in enumerate(scores)]}
        if width == 2:
            answer["unsure"] = "almost no ink: the picture looks empty"
        self.send(answer)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("0.0.0.0", 8080), H).serve_forever()
'''


@pytest.fixture
def fake_digits(docker_api, test_labels, unique_name, containers):
    """A real container (python:3.11-slim) speaking studio-v1: by the width of the PNG it gets it answers a
    low best score (1), 100 % with the server's 'unsure' reason (2), two close scores (3, as a multi-label model may), else a sure 97 %."""
    labels = {**test_labels, "ai-container-studio.protocol": "studio-v1", "ai-container-studio.port": "8080",
              "ai-container-studio.task": "image-classification"}
    c = docker_api.create_container(
        "python:3.11-slim", name=unique_name("fake-digits"), labels=labels, ports=[8080],
        command=["python", "-u", "-c", FAKE_SERVER],
        host_config=docker_api.create_host_config(port_bindings={8080: ("127.0.0.1",)}))
    containers.append(c["Id"])
    docker_api.start(c["Id"])
    wait_for(f"{host_url(docker_api, c['Id'])}/health", docker_api, c["Id"])
    return c["Id"]


def png_of_width(path, width: int):
    from PIL import Image

    Image.new("L", (width, 4), 200).save(path)
    return path


def test_a_card_says_unsure_for_a_low_or_doubtful_answer(predict_window, qtbot, fake_digits, tmp_path):
    w = predict_window()
    page = w.predict_page
    wait_target(qtbot, page, fake_digits)
    files = [png_of_width(tmp_path / f"w{n}.png", n) for n in (1, 2, 3, 5)]
    assert drop_files(page.panel, files)
    qtbot.waitUntil(lambda: settled(page), timeout=15000)
    low, empty, close, sure = page.cards.values()
    for card in (low, empty, close, sure):
        assert card.state == "done" and card.top == "4"
    assert low.property("unsure") == "the best score is only 41 %"
    assert empty.property("unsure") == "almost no ink: the picture looks empty"  # the server's reason
    assert close.property("unsure") == "the two best labels score almost the same (70 % and 65 %)"
    assert sure.property("unsure") == ""
    for card in (low, empty, close):
        badge = card.findChild(QLabel, "cardUnsure")
        assert badge.isVisible() and badge.text() == "unsure"
        assert card.findChild(QLabel, "cardStatus").text().startswith(f"Unsure: {card.property('unsure')}.")
        assert card.bars.muted
    assert not sure.findChild(QLabel, "cardUnsure").isVisible() and not sure.bars.muted
    shot(w, "3-unsure-cards")


def test_the_digits_model_is_unsure_of_an_empty_picture_and_a_photo(predict_window, qtbot, docker_api,
                                                                     digits_image, test_labels, unique_name,
                                                                     containers, tmp_path):
    import numpy as np
    from PIL import Image

    digits = serve(docker_api, digits_image, test_labels, unique_name("digits"))
    containers.append(digits)
    Image.new("L", (64, 64), 255).save(tmp_path / "blank.png")
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (240, 320, 3), dtype=np.uint8)).save(
        tmp_path / "photo.png")
    held_out = write_digits(tmp_path / "pics", 10, size=64)
    w = predict_window()
    page = w.predict_page
    wait_target(qtbot, page, digits)
    assert drop_files(page.panel, [tmp_path / "blank.png", tmp_path / "photo.png", *(p for p, _ in held_out)])
    qtbot.waitUntil(lambda: settled(page), timeout=20000)
    blank, photo, *rest = page.cards.values()
    assert blank.property("unsure") and blank.findChild(QLabel, "cardUnsure").isVisible(), blank.status.text()
    assert photo.property("unsure") and photo.findChild(QLabel, "cardUnsure").isVisible(), photo.status.text()
    assert sum(not c.property("unsure") for c in rest) >= 8, [c.property("unsure") for c in rest]
    shot(w, "3-digits-model-unsure")


# -- 7. page details, 2. what the model recognises and sample pictures ------------------------------------------


def in_view(page, card) -> bool:
    viewport = page.panel.scroll.viewport()
    top_left = card.mapTo(viewport, card.rect().topLeft())
    return top_left.y() >= 0 and top_left.y() + 40 <= viewport.height()


def test_paste_anywhere_samples_description_and_scrolling(predict_window, qtbot, fake_digits, tmp_path):
    from PySide6.QtCore import QMimeData, Qt
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QPushButton

    from gui.resources import sample_pictures

    w = predict_window()
    page = w.predict_page
    wait_target(qtbot, page, fake_digits)
    assert page.description.isVisible() and page.description.text().startswith("Recognises handwritten digits")

    # Ctrl+V while the focus is in the sidebar (nothing on the page clicked): the picture is predicted.
    w.pages.setCurrentWidget(w.images_page)
    w.pages.setCurrentWidget(page)
    w.sidebar.setFocus()
    clip = QMimeData()
    clip.setData("image/png", png_of_width(tmp_path / "clip.png", 5).read_bytes())
    QGuiApplication.clipboard().setMimeData(clip)
    qtbot.keyClick(w.sidebar, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: settled(page), timeout=10000)
    assert [c.name for c in page.cards.values()] == ["pasted picture.png"]
    # ...but not while another page is shown.
    w.pages.setCurrentWidget(w.images_page)
    qtbot.keyClick(w.sidebar, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    w.pages.setCurrentWidget(page)
    assert len(page.cards) == 1

    # Try sample pictures: the shipped digits get cards.
    samples = sample_pictures("digits")
    assert samples
    qtbot.mouseClick(w.findChild(QPushButton, "predictSamples"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(page.cards) == 1 + len(samples) and settled(page), timeout=15000)
    assert [c.name for c in page.cards.values()][1:] == [p.name for p in samples]

    # New cards scroll into view; after Clear the panel is at the top again.
    many = [png_of_width(tmp_path / f"m{i:02d}.png", 5) for i in range(40)]
    assert drop_files(page.panel, many)
    qtbot.waitUntil(lambda: settled(page), timeout=15000)
    more = [png_of_width(tmp_path / f"more{i}.png", 5) for i in range(3)]
    assert drop_files(page.panel, more)
    first_new = list(page.cards.values())[-3]
    # Scrolled down to it (a card not placed yet sits at the top, "in view" at scroll position 0).
    qtbot.waitUntil(lambda: page.panel.scroll.verticalScrollBar().value() > 0 and in_view(page, first_new),
                    timeout=3000)
    shot(w, "7-new-cards-in-view")
    qtbot.mouseClick(w.findChild(QPushButton, "predictClear"), Qt.MouseButton.LeftButton)
    assert page.panel.scroll.verticalScrollBar().value() == 0
    assert drop_files(page.panel, more)
    qtbot.waitUntil(lambda: settled(page), timeout=10000)
    assert page.panel.scroll.verticalScrollBar().value() == 0
    assert in_view(page, next(iter(page.cards.values())))
    shot(w, "2-description-after-clear")


def test_a_tabular_model_gets_only_tabular_controls_csv_files_export_and_clear(
        predict_window, qtbot, docker_api, regression_image, test_labels, unique_name, containers, tmp_path,
        monkeypatch):
    import csv

    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QFileDialog, QPushButton

    reg = serve(docker_api, regression_image, test_labels, unique_name("reg"))
    containers.append(reg)
    w = predict_window()
    page = w.predict_page
    wait_target(qtbot, page, reg)
    form = page.tabular
    assert page.stack.currentWidget() is form
    for name in ("predictOpen", "predictSamples", "predictCancel"):
        assert not w.findChild(QPushButton, name).isVisible(), name
    assert not page.top_k.isVisible()
    export, clear = w.findChild(QPushButton, "predictExport"), w.findChild(QPushButton, "predictClear")
    assert export.isVisible() and clear.isVisible() and not export.isEnabled()

    features = list(form.fields)
    # the demo's metadata gives each feature's typical range (its training rows): shown in the empty field
    assert form.fields["bmi"].placeholderText() == "typical -0.0903\u20130.171"
    assert "mean 0 " in form.fields["bmi"].toolTip() and "Empty sends 0" in form.fields["bmi"].toolTip()
    rows = [[0.01 * (k + 1) * (i % 3 - 1) for i in range(len(features))] for k in range(4)]
    source = tmp_path / "rows.csv"
    source.write_text(",".join(features) + "\n" + "\n".join(",".join(map(str, r)) for r in rows) + "\n")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(source), ""))
    qtbot.mouseClick(w.findChild(QPushButton, "tabularOpenCsv"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: form.table.rowCount() == 4, timeout=10000)
    qtbot.waitUntil(export.isEnabled, timeout=2000)
    assert clear.isEnabled()
    shot(w, "7-tabular")

    out = tmp_path / "out.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), "CSV (*.csv)"))
    qtbot.mouseClick(export, Qt.MouseButton.LeftButton)
    got = list(csv.reader(out.open(encoding="utf-8")))
    assert got[0] == [*features, "prediction"] and len(got) == 5
    assert [float(r[-1]) for r in got[1:]] == pytest.approx(form.predictions())
    assert f"Exported 4 rows to {out}" == page.summary.text()

    qtbot.mouseClick(clear, Qt.MouseButton.LeftButton)
    assert form.table.rowCount() == 0 and not export.isEnabled() and not clear.isEnabled()
