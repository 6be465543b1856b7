"""The Predict page against every kind of server: our LiteRT image, MLServer (v2) and KServe (TF Serving REST).

The MLServer and KServe containers are the ones tests/support/predict_servers.py builds (cache images
``aics-cache/mlserver`` and ``aics-cache/kserve``); the page finds them by their protocol label, asks them
which model they serve, and the user fills what KServe's metadata does not say.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLineEdit, QPushButton, QSpinBox

from tests.support.digits import WORDS, digit_picture
from tests.support.predict_page import (  # noqa: F401  (fixtures)
    drop_files,
    predict_window_fixture,
    settled,
    start_server,
    wait_target,
    write_digits,
)
from tests.support.predict_servers import kserve_fixture, mlserver_fixture, report_fixture  # noqa: F401  (fixtures)
from tests.support.tensorflow_builds import COLD_TENSORFLOW_BUILD_S

pytestmark = pytest.mark.timeout(COLD_TENSORFLOW_BUILD_S)  # the LiteRT image may be built from nothing (TensorFlow first)


def write_holdout(folder, holdout, count=20):
    folder.mkdir()
    out = []
    for i in range(count):
        path = folder / f"h{i:03d}.png"
        path.write_bytes(digit_picture(holdout["images"][i], 64, "PNG"))
        out.append((path, holdout["targets"][i]))
    return out


@pytest.fixture(scope="module")
def litert_image(request):
    """The session's LiteRT digits image (tests/support/demo_images.py)."""
    from gui.builder import get_template

    try:
        get_template("tensorflow-image")
    except Exception as exc:  # the template is another issue's work: say so loudly
        pytest.fail(f"tensorflow-image template missing: {exc}")
    return request.getfixturevalue("litert_digits_image")["tag"]


def test_litert_digits_container_labels_dropped_pictures(predict_window, qtbot, docker_api, litert_image,
                                                         test_labels, unique_name, tmp_path):
    cid, _url = start_server(docker_api, litert_image, test_labels, unique_name("litert"))
    try:
        w = predict_window()
        page = w.predict_page
        wait_target(qtbot, page, cid)
        assert "8×8×1" in page.picker.status.text()
        files = write_digits(tmp_path / "pics", 30, size=200, fmt="JPEG")
        assert drop_files(page.panel, [p for p, _ in files])
        qtbot.waitUntil(lambda: settled(page), timeout=30000)
        right = sum(c.top == str(t) for c, (_, t) in zip(page.cards.values(), files, strict=True))
        assert page.counts()["done"] == 30 and right >= 26, [(c.top, t) for c, (_, t) in
                                                             zip(page.cards.values(), files, strict=True)]
    finally:
        docker_api.remove_container(cid, force=True, v=True)


def test_mlserver_is_found_and_its_model_named_for_you(predict_window, qtbot, mlserver, tmp_path):
    w = predict_window()
    page = w.predict_page
    wait_target(qtbot, page, mlserver["id"])
    assert page.client.model == "digits" and page.spec.protocol == "v2"
    assert w.findChild(QSpinBox, "inputWidth").isVisible()  # v2 servers may need the fields
    files = write_holdout(tmp_path / "h", mlserver["holdout"])
    assert drop_files(page.panel, [p for p, _ in files])
    qtbot.waitUntil(lambda: settled(page), timeout=30000)
    right = sum(c.top == str(t) for c, (_, t) in zip(page.cards.values(), files, strict=True))
    assert page.counts()["done"] == 20 and right >= 18
    assert all(len(c.prediction.labels) == 3 for c in page.cards.values())


def test_kserve_needs_the_input_fields_the_user_fills(predict_window, qtbot, kserve, tmp_path):
    w = predict_window()
    page = w.predict_page
    wait_target(qtbot, page, kserve["id"])
    assert page.client.model == "digits" and "input size not given" in page.picker.status.text()
    files = write_holdout(tmp_path / "h", kserve["holdout"], count=12)
    assert drop_files(page.panel, [p for p, _ in files[:2]])
    qtbot.waitUntil(lambda: settled(page), timeout=20000)
    for card in page.cards.values():
        assert card.state == "failed" and "fill in width, height and channels" in card.error
    w.findChild(QSpinBox, "inputWidth").setValue(8)
    w.findChild(QSpinBox, "inputHeight").setValue(8)
    channels = w.findChild(QComboBox, "inputChannels")
    channels.setCurrentIndex(channels.findData(1))
    scaling = w.findChild(QComboBox, "inputScaling")
    scaling.setCurrentIndex(scaling.findData("0..1"))
    w.findChild(QLineEdit, "inputLabels").setText(", ".join(WORDS))
    qtbot.mouseClick(w.findChild(QPushButton, "targetApply"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.meta is not None and page.meta.has_input_size, timeout=10000)
    page.clear()
    assert drop_files(page.panel, [p for p, _ in files])
    qtbot.waitUntil(lambda: len(page.cards) == 12 and settled(page), timeout=30000)
    right = sum(c.top == WORDS[t] for c, (_, t) in zip(page.cards.values(), files, strict=True))
    assert page.counts()["done"] == 12 and right >= 11
