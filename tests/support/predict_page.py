"""Helpers and fixtures shared by the Predict page tests and ``tests/perf/bench_predict.py``.

Serving images are built from the real ``sklearn-image`` / ``sklearn-regression`` templates on the real
engine (their dependency layer is kept as ``aics-cache/<template>``); pictures are held-out rows of
scikit-learn's digits (the demo model is trained on rows 0-1499). Fixtures are registered by their
``name=``; a test module imports the ``*_fixture`` functions to use them.
"""

from __future__ import annotations

import os
import time
import warnings
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from gui.builder import get_template
from tests.support.digits import digit_picture
from tests.support.templates import build_template, run_container, wait_for

HOLDOUT = range(1500, 1797)


def holdout_digits():
    """(8x8 pixel rows 0..16, target) for the rows the demo model never saw."""
    from sklearn.datasets import load_digits

    d = load_digits()
    return [(d.images[i].astype(int).tolist(), int(d.target[i])) for i in HOLDOUT]


def write_digits(folder: Path, count: int, size: int = 64, fmt: str = "PNG", start: int = 0) -> list[tuple[str, int]]:
    """``count`` held-out digits as picture files; returns (path, right label)."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    digits = holdout_digits()
    for n in range(count):
        pixels, target = digits[(start + n) % len(digits)]
        path = folder / f"digit-{start + n:04d}.{'jpg' if fmt == 'JPEG' else fmt.lower()}"
        path.write_bytes(digit_picture(pixels, size, fmt))
        out.append((str(path), target))
    return out


def build_image(template: str, tmp: Path, labels: dict) -> str:
    """Build ``template`` with its defaults (tag ``aicstest-predict-<template>:<run>``); returns the tag."""
    t = get_template(template)
    tag = f"aicstest-predict-{template}:{labels['ai-container-studio.test']}"
    build_template(t, t.defaults(), tmp / "ctx", tag, labels)
    return tag


def start_server(docker_api, tag: str, labels: dict, name: str) -> tuple[str, str]:
    """Run a serving image with port 8080 on a free 127.0.0.1 port; wait for /health. Returns (id, url)."""
    cid, ports = run_container(docker_api, tag, labels, name, ports={8080: 0})
    url = f"http://127.0.0.1:{ports[8080]}"
    wait_for(f"{url}/health", docker_api, cid)
    return cid, url


def files_mime(paths) -> QMimeData:
    """What a file manager puts on the drag of ``paths``."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(os.fspath(p)) for p in paths])
    return mime


def drag_enter(panel, mime: QMimeData) -> bool:
    """Drag ``mime`` over the panel. True when the panel would take it."""
    pos = QPointF(panel.rect().center())
    with warnings.catch_warnings():  # PySide6 marks the QPoint form deprecated; the QPointF one is not bound
        warnings.simplefilter("ignore", DeprecationWarning)
        enter = QDragEnterEvent(pos.toPoint(), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                                Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(panel, enter)
    return enter.isAccepted()


def drop(panel, mime: QMimeData) -> bool:
    """Drop ``mime`` (dragged over the panel with ``drag_enter``) on it. True when accepted."""
    event = QDropEvent(QPointF(panel.rect().center()), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(panel, event)
    return event.isAccepted()


def drop_mime(panel, mime: QMimeData) -> bool:
    """Drag ``mime`` over the panel and drop it, as a file manager or browser does. True when accepted."""
    return drag_enter(panel, mime) and drop(panel, mime)


def drop_files(panel, paths) -> bool:
    return drop_mime(panel, files_mime(paths))


def settled(page) -> bool:
    """Every card has its answer (or its failure) and nothing is queued."""
    return bool(page.cards) and page.counts()["waiting"] == 0


def wait_target(qtbot, page, container_id: str, timeout: int = 15000) -> None:
    """Wait until the picker offers the container, choose it, and wait for its metadata."""
    key = f"container:{container_id}"
    qtbot.waitUntil(lambda: page.picker.combo.findData(key) >= 0, timeout=timeout)
    page.picker.select(key)
    qtbot.waitUntil(lambda: page.spec is not None and page.spec.container_id == container_id
                    and page.meta is not None, timeout=timeout)


@pytest.fixture(scope="module", name="digits_image")
def digits_image_fixture(sklearn_digits_image):
    """The sklearn-image demo's tag: the session's one (tests/support/demo_images.py), not removed here."""
    return sklearn_digits_image["tag"]


@pytest.fixture(scope="module", name="digits_server")
def digits_server_fixture(docker_api, digits_image, test_labels, run_id):
    """One digits container for the module (tests that stop a container start their own)."""
    cid, url = start_server(docker_api, digits_image, test_labels, f"aicstest-{run_id}-predict-digits")
    yield {"id": cid, "url": url, "image": digits_image}
    docker_api.remove_container(cid, force=True, v=True)


@pytest.fixture(name="predict_window")
def predict_window_fixture(qtbot):
    """The real main window on the Predict tab; closed (and checked for leftover work) after the test."""
    from gui.app import create_window

    windows = []

    def make():
        w = create_window(None)
        qtbot.addWidget(w)
        w.resize(1200, 800)
        w.show()
        w.pages.setCurrentWidget(w.predict_page)
        qtbot.waitUntil(lambda: w.session.has_loaded, timeout=10000)
        windows.append(w)
        return w

    yield make
    for w in windows:
        w.close()
        deadline = time.monotonic() + 2
        while w.predict_page.runner.busy and time.monotonic() < deadline:
            QApplication.processEvents()
            time.sleep(0.01)
