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

from tests.engine.template_support import wait_for
from tests.ui.test_predict_support import (  # noqa: F401  (the *_fixture names register fixtures)
    build_image,
    digits_image_fixture,
    drop_files,
    predict_window_fixture,
    settled,
    wait_target,
    write_digits,
)

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
    assert stopper.done_at == 40 and 40 <= counts["done"] < 1000, counts
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
