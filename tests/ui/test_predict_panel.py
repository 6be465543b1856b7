"""The Predict page on the real engine: pictures dropped on real serving containers, failures, cancel, CSV."""

from __future__ import annotations

import csv
import http.server
import io
import threading

import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, Qt, QUrl
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QComboBox, QFileDialog, QFrame, QLabel, QPushButton

from gui.predict import sources as predict_sources
from tests.support.predict_page import (  # noqa: F401  (the *_fixture names register fixtures)
    digits_image_fixture,
    digits_server_fixture,
    drop_files,
    drop_mime,
    predict_window_fixture,
    settled,
    start_server,
    wait_target,
    write_digits,
)
from tests.support.templates import COLD_BUILD_S, free_port, run_container, wait_for

pytestmark = pytest.mark.timeout(COLD_BUILD_S)  # the module's serving images may be built from nothing


def card_texts(page):
    return [(c.name, c.state, c.top, c.findChild(QLabel, "cardStatus").text()) for c in page.cards.values()]


def by_name(page, name):
    return next(c for c in page.cards.values() if c.name.endswith(name))


# -- pictures in, labels out -------------------------------------------------------------------------------


def test_dropped_digit_files_show_their_labels(predict_window, qtbot, digits_server, tmp_path):
    w = predict_window()
    page = w.predict_page
    assert w.pages.tabText(w.pages.indexOf(page)) == "Predict"
    panel = w.findChild(QFrame, "dropPanel")
    assert panel is page.panel and panel.findChild(QLabel, "dropTitle").isVisible()
    wait_target(qtbot, page, digits_server["id"])
    assert "digits" in page.picker.status.text() and "8×8×1" in page.picker.status.text()

    files = write_digits(tmp_path / "pics", 30, size=64)
    assert drop_files(panel, [p for p, _ in files])
    qtbot.waitUntil(lambda: settled(page), timeout=20000)

    cards = w.findChildren(QFrame, "predictionCard")
    assert len(cards) == 30 and list(page.cards.values()) == [page.cards[k] for k in sorted(page.cards)]
    right = 0
    for card, (path, target) in zip(page.cards.values(), files, strict=True):
        assert card.name == path.rsplit("/", 1)[-1] and card.state == "done", card_texts(page)
        top = card.findChild(QLabel, "cardTopLabel").text()
        assert top == card.property("topLabel") == card.prediction.top_label
        right += top == str(target)
        assert len(card.prediction.labels) == 3  # the page asks for the top 3
        assert card.findChild(QLabel, "cardStatus").text().endswith("ms") or "ms round trip" in \
            card.findChild(QLabel, "cardStatus").text()
        assert card.findChild(QLabel, "cardThumb").pixmap() is not None
        assert not card.findChild(QLabel, "cardThumb").pixmap().isNull()
    assert right >= 27, card_texts(page)  # the demo model gets ~96 % of held-out rows right
    assert not panel.findChild(QLabel, "dropTitle").isVisible()
    qtbot.waitUntil(lambda: "30 answered" in page.summary.text(), timeout=1000)
    assert not w.findChild(QPushButton, "predictCancel").isEnabled()


def test_every_sample_picture_gets_its_own_digit_from_the_demo_model(predict_window, qtbot, digits_server):
    """Try sample pictures on the real demo model: the digit in each file's name, none marked unsure. (The
    typed 4 small in a corner of 800x600 was shrunk to 11x8 by the client for the 8x8 model, so the
    server, which crops to the ink first, saw 2 pixels of ink and answered 1.)"""
    from gui.resources import sample_pictures

    w = predict_window()
    page = w.predict_page
    wait_target(qtbot, page, digits_server["id"])
    samples = sample_pictures("digits")
    assert len(samples) >= 8
    qtbot.mouseClick(w.findChild(QPushButton, "predictSamples"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(page.cards) == len(samples) and settled(page), timeout=20000)
    got = {c.name: (c.state, c.prediction.top_label if c.prediction else None, c.property("unsure"))
           for c in page.cards.values()}
    want = {p.name: ("done", p.name.split("-")[1], "") for p in samples}
    assert got == want


def test_a_folder_with_bad_files_gives_a_card_for_each(predict_window, qtbot, digits_server, tmp_path):
    folder = tmp_path / "mixed"
    good = write_digits(folder, 4, size=48)
    (folder / "sub").mkdir()
    good += write_digits(folder / "sub", 2, size=32, fmt="JPEG", start=10)
    (folder / "notes.png").write_text("these are my notes, not a picture\n")
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "broken.png").write_bytes(Image.new("L", (64, 64)).tobytes()[:10] + b"\x89PNG\r\n\x1a\n" + b"\0" * 50)
    huge_png = folder / "huge-60mp.png"
    Image.new("L", (7746, 7746), 0).save(huge_png)  # 60 megapixels, a few kB on disk
    (folder / ".hidden.png").write_bytes(b"never listed")

    w = predict_window()
    page = w.predict_page
    wait_target(qtbot, page, digits_server["id"])
    assert drop_files(page.panel, [folder])
    qtbot.waitUntil(lambda: len(page.cards) == 10 and settled(page), timeout=30000)

    names = sorted(c.name for c in page.cards.values())
    assert ".hidden.png" not in " ".join(names)
    for path, target in good:
        card = by_name(page, path.rsplit("/", 1)[-1])
        assert card.state == "done" and card.top == str(target), card_texts(page)
    notes, empty = by_name(page, "notes.png"), by_name(page, "empty.jpg")
    assert notes.state == "failed" and notes.error.startswith("not a picture"), notes.error
    assert empty.state == "failed" and empty.error == "empty file (0 bytes): not a picture"
    assert by_name(page, "broken.png").state == "failed"
    huge = by_name(page, "huge-60mp.png")
    assert huge.state == "failed" and "picture too large" in huge.error and "60 megapixels" in huge.error
    assert huge.findChild(QLabel, "cardThumb").pixmap().isNull()  # never decoded for a preview either
    for card in (notes, empty, huge):
        assert card.findChild(QLabel, "cardStatus").text() == card.error
        assert card.findChild(QLabel, "cardTopLabel").text() == "Not a picture"


def test_a_60_megapixel_jpeg_is_scaled_down_and_answered(predict_window, qtbot, digits_server, tmp_path):
    from tests.support.digits import digit_picture
    from tests.support.predict_page import holdout_digits

    pixels, target = holdout_digits()[7]
    small = Image.open(io.BytesIO(digit_picture(pixels, 8, "PNG")))
    path = tmp_path / "camera-60mp.jpg"
    small.convert("RGB").resize((9000, 6700), Image.Resampling.NEAREST).save(path, quality=80)
    w = predict_window()
    page = w.predict_page
    wait_target(qtbot, page, digits_server["id"])
    assert drop_files(page.panel, [path])
    qtbot.waitUntil(lambda: settled(page), timeout=20000)
    card = by_name(page, "camera-60mp.jpg")
    assert card.state == "done" and card.top == str(target), card_texts(page)
    assert "decoded scaled down" in card.prediction.note
    assert not card.findChild(QLabel, "cardThumb").pixmap().isNull()


def test_paste_raw_image_data_and_a_browser_drag(predict_window, qtbot, digits_server, tmp_path, monkeypatch):
    from tests.support.digits import digit_picture
    from tests.support.predict_page import holdout_digits

    digits = holdout_digits()
    pictures = {f"/d{i}.png": digit_picture(digits[i][0], 40, "PNG") for i in range(3)}
    pictures["/big.png"] = digit_picture(digits[3][0], 600, "PNG") + b"\0" * 300_000

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = pictures.get(self.path)
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args):
            pass

    web = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{web.server_address[1]}"
    monkeypatch.setattr(predict_sources, "MAX_BYTES", 200_000)
    try:
        w = predict_window()
        page = w.predict_page
        wait_target(qtbot, page, digits_server["id"])
        # Ctrl+V with a picture on the clipboard.
        clip = QMimeData()
        clip.setData("image/png", pictures["/d0.png"])
        QGuiApplication.clipboard().setMimeData(clip)
        page.panel.setFocus()
        qtbot.keyClick(page.panel, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(lambda: settled(page), timeout=10000)
        assert [c.top for c in page.cards.values()] == [str(digits[0][1])], card_texts(page)
        # A browser drag with the picture's bytes and its URL: the bytes are used, nothing is fetched.
        drag = QMimeData()
        drag.setUrls([QUrl("http://127.0.0.1:9/unreachable/d1.png")])
        drag.setData("image/png", pictures["/d1.png"])
        assert drop_mime(page.panel, drag)
        # A browser drag of URLs only: fetched off the UI thread, over the size limit refused.
        urls = QMimeData()
        urls.setUrls([QUrl(base + "/d2.png"), QUrl(base + "/big.png"), QUrl(base + "/missing.png")])
        assert drop_mime(page.panel, urls)
        qtbot.waitUntil(lambda: len(page.cards) == 5 and settled(page), timeout=15000)
    finally:
        web.shutdown()
    cards = list(page.cards.values())
    assert [c.name for c in cards] == ["pasted picture.png", "d1.png", "d2.png", "big.png", "missing.png"]
    assert cards[1].name == "d1.png" and cards[1].top == str(digits[1][1]), card_texts(page)
    assert cards[2].name == "d2.png" and cards[2].top == str(digits[2][1]), card_texts(page)
    assert cards[3].state == "failed" and "download too large" in cards[3].error
    assert cards[4].state == "failed" and "404" in cards[4].error


# -- failures ------------------------------------------------------------------------------------------------

ODD_SERVER = r'''
import http.server, json, struct, time
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def send(self, code, body, ctype="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def do_GET(self):
        if self.path == "/health":
            self.send(200, {"status": "ready", "model": "odd"})
        elif self.path == "/metadata":
            self.send(200, {"name": "odd", "task": "image-classification", "labels": ["cat", "dog"],
                            "input": {"kind": "image"}, "protocols": ["studio-v1"]})
        else:
            self.send(404, {"error": "no such route"})
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        width = struct.unpack(">I", body[16:20])[0] if body[:8] == b"\x89PNG\r\n\x1a\n" else 0
        if width == 1:
            self.send(500, b"Internal Server Error: the model crashed", "text/plain")
        elif width == 2:
            self.send(200, b"<html>surprise</html>", "text/html")
        elif width == 3:
            time.sleep(60)
            self.send(200, {"predictions": []})
        else:
            self.send(200, {"predictions": [{"label": "cat", "score": 0.75}, {"label": "dog", "score": 0.25}],
                            "timing_ms": {"inference": 0.1}})
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("0.0.0.0", 8080), H).serve_forever()
'''


@pytest.fixture(scope="module")
def odd_server(docker_api, test_labels, run_id):
    """A real container (python:3.11-slim) that says it speaks studio-v1 and answers 500, garbage, or never,
    by the width of the PNG it gets (1, 2, 3); other pictures get a proper answer."""
    labels = {**test_labels, "ai-container-studio.protocol": "studio-v1", "ai-container-studio.port": "8080"}
    cid, ports = run_container(docker_api, "python:3.11-slim", labels, f"aicstest-{run_id}-odd",
                               ports={8080: 0}, command=["python", "-u", "-c", ODD_SERVER])
    url = f"http://127.0.0.1:{ports[8080]}"
    wait_for(f"{url}/health", docker_api, cid)
    yield {"id": cid, "url": url}
    docker_api.remove_container(cid, force=True, v=True)


def png_of_width(path, width: int):
    Image.new("L", (width, 4), 200).save(path)
    return path


def test_500_garbage_and_timeout_each_get_a_card(predict_window, qtbot, odd_server, tmp_path):
    w = predict_window()
    page = w.predict_page
    wait_target(qtbot, page, odd_server["id"])
    page.set_request_timeout(1.5)
    qtbot.waitUntil(lambda: page.meta is not None, timeout=5000)
    files = [png_of_width(tmp_path / f"w{n}.png", n) for n in (1, 2, 3, 5)]
    assert drop_files(page.panel, files)
    qtbot.waitUntil(lambda: settled(page), timeout=15000)
    crashed, garbage, slow, fine = page.cards.values()
    assert crashed.state == "failed" and crashed.error == \
        "server answered 500: Internal Server Error: the model crashed"
    assert garbage.state == "failed" and garbage.error.startswith("the server's answer is not JSON")
    assert slow.state == "failed" and slow.error == f"the server at {odd_server['url']} timed out after 1.5 s"
    assert fine.state == "done" and fine.top == "cat" and fine.prediction.scores == (0.75, 0.25)
    for card in (crashed, garbage, slow):
        assert card.findChild(QLabel, "cardStatus").text() == card.error
        assert card.findChild(QLabel, "cardTopLabel").text() == "Failed"


def test_cancel_stops_the_batch_and_the_next_one_runs(predict_window, qtbot, odd_server, tmp_path):
    w = predict_window()
    page = w.predict_page
    wait_target(qtbot, page, odd_server["id"])
    stuck = [png_of_width(tmp_path / f"stuck{i}.png", 3) for i in range(10)]  # the server never answers
    assert drop_files(page.panel, stuck)
    cancel = w.findChild(QPushButton, "predictCancel")
    qtbot.waitUntil(lambda: len(page.cards) == 10 and cancel.isEnabled(), timeout=5000)
    qtbot.wait(300)
    assert all(c.state == "waiting" for c in page.cards.values())
    qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
    assert [c.state for c in page.cards.values()] == ["cancelled"] * 10
    assert all(c.findChild(QLabel, "cardStatus").text() == "cancelled before the answer came"
               for c in page.cards.values())
    assert not cancel.isEnabled() and "10 cancelled" in page.summary.text()
    # Four requests are still stuck in the server; a new picture is answered at once all the same.
    assert drop_files(page.panel, [png_of_width(tmp_path / "after.png", 5)])
    qtbot.waitUntil(lambda: len(page.cards) == 11 and settled(page), timeout=5000)
    last = list(page.cards.values())[-1]
    assert last.state == "done" and last.top == "cat"
    assert [c.state for c in page.cards.values()][:10] == ["cancelled"] * 10


def test_wrong_port_says_so_and_the_panel_keeps_working(predict_window, qtbot, digits_server, tmp_path):
    w = predict_window()
    page = w.predict_page
    port = free_port()
    page.picker.use_url(f"127.0.0.1:{port}", "studio-v1")
    assert page.picker.custom.isVisible()
    qtbot.waitUntil(lambda: "refused" in page.picker.status.text(), timeout=10000)
    files = write_digits(tmp_path / "pics", 2)
    assert drop_files(page.panel, [p for p, _ in files])
    qtbot.waitUntil(lambda: settled(page), timeout=10000)
    for card in page.cards.values():
        assert card.state == "failed" and card.error_kind == "connection"
        assert card.error == f"the server at http://127.0.0.1:{port} refused the connection: " \
                             "is the container running?"
    page.picker.use_url(digits_server["url"], "studio-v1")
    qtbot.waitUntil(lambda: page.meta is not None, timeout=10000)
    assert drop_files(page.panel, [p for p, _ in files])
    qtbot.waitUntil(lambda: len(page.cards) == 4 and settled(page), timeout=10000)
    assert [c.top for c in list(page.cards.values())[2:]] == [str(t) for _, t in files]


def test_container_stopped_mid_batch(predict_window, qtbot, docker_api, digits_image, test_labels,
                                     unique_name, tmp_path):
    cid, _url = start_server(docker_api, digits_image, test_labels, unique_name("stopme"))
    try:
        w = predict_window()
        page = w.predict_page
        wait_target(qtbot, page, cid)
        files = write_digits(tmp_path / "pics", 400, size=320, fmt="JPEG")
        assert drop_files(page.panel, [p for p, _ in files])
        qtbot.waitUntil(lambda: page.counts()["done"] >= 5, timeout=20000)
        docker_api.kill(cid)
        # The pictures not answered wait for the container (tests/ui/test_predict_trust.py has the details).
        qtbot.waitUntil(lambda: len(page.cards) == 400 and not page.runner.busy
                        and sum(page.parked().values()) == page.counts()["waiting"], timeout=60000)
        counts = page.counts()
        assert counts["done"] >= 5 and counts["failed"] == 0, counts
        # The picker shows the stopped container as chosen (no other model is)...
        qtbot.waitUntil(lambda: page.picker.combo.findData(f"container:{cid}") < 0, timeout=10000)
        assert page.picker.stopped_name and page.spec is None
        # ...and uses it again once it runs: the waiting pictures are answered.
        docker_api.start(cid)
        qtbot.waitUntil(lambda: settled(page), timeout=60000)
        assert page.counts()["done"] == 400
        qtbot.waitUntil(lambda: page.picker.combo.findData(f"container:{cid}") >= 0, timeout=10000)
        wait_target(qtbot, page, cid)
        inspect = docker_api.inspect_container(cid)["NetworkSettings"]["Ports"]["8080/tcp"][0]
        wait_for(f"http://127.0.0.1:{inspect['HostPort']}/health", docker_api, cid)
        page.clear()
        assert drop_files(page.panel, [files[0][0]])
        qtbot.waitUntil(lambda: settled(page), timeout=10000)
        assert [c.top for c in page.cards.values()] == [str(files[0][1])], card_texts(page)
    finally:
        docker_api.remove_container(cid, force=True, v=True)


# -- export ----------------------------------------------------------------------------------------------------


def test_csv_export_has_a_row_per_label_and_per_failure(predict_window, qtbot, digits_server, tmp_path,
                                                        monkeypatch):
    w = predict_window()
    page = w.predict_page
    export = w.findChild(QPushButton, "predictExport")
    assert not export.isEnabled()
    wait_target(qtbot, page, digits_server["id"])
    files = write_digits(tmp_path / "pics", 3)
    bad = tmp_path / "pics" / "readme.png"
    bad.write_text("not a picture")
    assert drop_files(page.panel, [p for p, _ in files] + [bad])
    qtbot.waitUntil(lambda: settled(page), timeout=10000)
    out = tmp_path / "out.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), "CSV (*.csv)"))
    qtbot.mouseClick(export, Qt.MouseButton.LeftButton)
    rows = list(csv.reader(out.open(encoding="utf-8")))
    assert rows[0] == ["file", "label", "score", "milliseconds", "error"]
    assert len(rows) == 1 + 3 * 3 + 1
    for i, (path, _target) in enumerate(files):
        card = list(page.cards.values())[i]
        mine = rows[1 + 3 * i: 4 + 3 * i]
        assert [r[0] for r in mine] == [path.rsplit("/", 1)[-1]] * 3
        assert [r[1] for r in mine] == list(card.prediction.labels)
        assert [float(r[2]) for r in mine] == pytest.approx(list(card.prediction.scores), rel=1e-5)
        assert float(mine[0][3]) == pytest.approx(card.prediction.round_trip_ms, abs=0.06)
    assert rows[-1][0] == "readme.png" and rows[-1][1:4] == ["", "", ""] and "not a picture" in rows[-1][4]
    assert f"Exported 10 rows to {out}" == page.summary.text()


# -- target picker ---------------------------------------------------------------------------------------------


def test_picker_follows_containers_starting_and_stopping(predict_window, qtbot, make_container, docker_api):
    w = predict_window()
    page = w.predict_page
    combo = w.findChild(QComboBox, "targetPicker")
    serving = {"ai-container-studio.protocol": "studio-v1", "ai-container-studio.port": "8080"}
    published = make_container(labels=serving, ports=[8080],
                               host_config=docker_api.create_host_config(port_bindings={8080: ("127.0.0.1",)}))
    unpublished = make_container(labels=serving)
    plain = make_container()
    key = f"container:{published['Id']}"
    qtbot.waitUntil(lambda: combo.findData(key) >= 0, timeout=10000)
    port = docker_api.inspect_container(published["Id"])["NetworkSettings"]["Ports"]["8080/tcp"][0]["HostPort"]
    assert combo.itemText(combo.findData(key)) == f"{published['name']}  ·  studio-v1  ·  127.0.0.1:{port}"
    qtbot.waitUntil(lambda: combo.findData(f"container:{unpublished['Id']}") >= 0, timeout=10000)
    item = combo.model().item(combo.findData(f"container:{unpublished['Id']}"))
    assert not item.isEnabled() and item.toolTip() == "port 8080 is not published to the host"
    assert combo.findData(f"container:{plain['Id']}") < 0
    assert combo.itemText(combo.count() - 1) == "Custom URL…"

    page.picker.select(key)
    assert page.spec.url == f"http://127.0.0.1:{port}" and page.spec.name == published["name"]
    docker_api.stop(published["Id"], timeout=2)
    qtbot.waitUntil(lambda: combo.findData(key) < 0, timeout=10000)
    assert combo.currentData() != key
    docker_api.start(published["Id"])
    qtbot.waitUntil(lambda: combo.findData(key) >= 0, timeout=10000)
    new_port = docker_api.inspect_container(published["Id"])["NetworkSettings"]["Ports"]["8080/tcp"][0]["HostPort"]
    assert combo.itemText(combo.findData(key)).endswith(f"127.0.0.1:{new_port}")
    docker_api.remove_container(published["Id"], force=True)
    qtbot.waitUntil(lambda: combo.findData(key) < 0, timeout=10000)


# -- tabular ---------------------------------------------------------------------------------------------------


def test_regression_container_gets_the_tabular_form(predict_window, qtbot, docker_api, test_labels,
                                                    unique_name, tmp_path):
    from tests.support.predict_page import build_image
    from tests.support.templates import http

    tag = build_image("sklearn-regression", tmp_path, test_labels)
    cid, url = start_server(docker_api, tag, test_labels, unique_name("reg"))
    try:
        w = predict_window()
        page = w.predict_page
        wait_target(qtbot, page, cid)
        form = page.tabular
        assert w.findChild(type(form), "tabularForm") is form
        assert page.stack.currentWidget() is form and form.isVisible() and not page.panel.isVisible()
        features = ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"]
        assert list(form.fields) == features
        row = [0.03, 0.05, 0.06, 0.02, -0.04, -0.03, -0.04, 0.0, 0.02, -0.02]
        for name, value in zip(features, row, strict=True):
            form.fields[name].setText(str(value))
        button = w.findChild(QPushButton, "tabularPredict")
        # The form was just laid out for this model: click once the button has its place on screen (a
        # click sent before the layout ran lands outside the button's old, empty rect and does nothing).
        qtbot.waitUntil(lambda: button.isVisible() and not button.visibleRegion().isEmpty(), timeout=5000)
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: form.table.rowCount() == 1, timeout=10000)
        status, body = http("POST", f"{url}/predict", json_body(row), {"Content-Type": "application/json"})
        assert status == 200 and form.predictions() == pytest.approx(body["predictions"])
        form.csv.setPlainText(",".join(features) + "\n" + "\n".join(",".join(map(str, [v * k for v in row]))
                                                                    for k in (1, 2, 3)))
        qtbot.mouseClick(w.findChild(QPushButton, "tabularPredictCsv"), Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: form.table.rowCount() == 3, timeout=10000)
        assert form.predictions()[0] == pytest.approx(body["predictions"][0])
        assert len(set(form.predictions())) == 3 and "3 predictions" in form.status.text()
        form.csv.setPlainText("1,2,3")
        qtbot.mouseClick(w.findChild(QPushButton, "tabularPredictCsv"), Qt.MouseButton.LeftButton)
        assert form.status.text().startswith("row 1 has 3 values; the model wants 10")
    finally:
        docker_api.remove_container(cid, force=True, v=True)
        docker_api.remove_image(tag, force=True)


def json_body(row) -> bytes:
    import json

    return json.dumps({"instances": [row]}).encode()
