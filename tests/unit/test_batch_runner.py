"""BatchRunner: a single picture's answer does not wait for its thumbnail; a batch makes them in turn; the
runner is idle only once every thumbnail is out; nothing arrives after cancel()."""

from __future__ import annotations

import io
import threading

import pytest
from PIL import Image

from gui.predict.models import Prediction
from gui.predict.sources import PictureSource
from gui.qt.predict import batch
from gui.qt.predict.batch import BatchRunner


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 200, 30)).save(out, "JPEG")
    return out.getvalue()


class FakeClient:
    def __init__(self, gate: threading.Event | None = None):
        self.gate = gate

    def predict_image(self, data: bytes, top_k: int = 5) -> Prediction:
        if self.gate is not None:
            assert self.gate.wait(10)
        return Prediction(labels=("cat",), scores=(0.9,), round_trip_ms=1.0)


@pytest.fixture
def slow_thumbnails(monkeypatch):
    """Thumbnails wait for ``release``; ``started`` is set when the first one begins."""
    release, started = threading.Event(), threading.Event()
    real = batch.make_thumbnail

    def slow(data):
        started.set()
        assert release.wait(10)
        return real(data)

    monkeypatch.setattr(batch, "make_thumbnail", slow)
    yield release, started
    release.set()


def _record(runner: BatchRunner) -> list:
    events: list = []
    runner.thumbnail.connect(lambda j, img: events.append(("thumbnail", j, img is not None)))
    runner.answered.connect(lambda j, p: events.append(("answered", j, p.top_label)))
    runner.failed.connect(lambda j, k, m: events.append(("failed", j, k)))
    runner.idle.connect(lambda: events.append(("idle",)))
    return events


def test_a_single_pictures_answer_comes_before_its_slow_thumbnail(qtbot, slow_thumbnails):
    release, started = slow_thumbnails
    runner = BatchRunner()
    events = _record(runner)
    runner.submit(1, PictureSource(name="a.jpg", data=_jpeg()), FakeClient(), 3)
    qtbot.waitUntil(lambda: ("answered", 1, "cat") in events, timeout=5000)
    assert started.is_set() and ("idle",) not in events  # thumbnail still being made: not idle yet
    assert not any(e[0] == "thumbnail" for e in events)
    release.set()
    qtbot.waitUntil(lambda: ("idle",) in events, timeout=5000)
    assert events == [("answered", 1, "cat"), ("thumbnail", 1, True), ("idle",)]
    runner.close()


def test_a_batch_makes_each_thumbnail_before_its_answer(qtbot):
    runner = BatchRunner(concurrency=2)
    events = _record(runner)
    queued = threading.Event()  # answers only once all 8 are queued
    for job in range(8):
        runner.submit(job, PictureSource(name=f"{job}.jpg", data=_jpeg()), FakeClient(queued), 3)
    queued.set()
    qtbot.waitUntil(lambda: ("idle",) in events, timeout=10000)
    assert sorted(e[1] for e in events if e[0] == "answered") == list(range(8))
    assert sorted(e[1] for e in events if e[0] == "thumbnail") == list(range(8))
    # jobs 2-5 started with at least 3 jobs left (more than the workers): batch jobs, thumbnail first
    # (jobs 0 and 1 may start before the rest is queued, the last two with few left: beside their answer)
    for job in range(2, 6):
        assert events.index(("thumbnail", job, True)) < events.index(("answered", job, "cat"))
    runner.close()


def test_no_thumbnail_after_cancel(qtbot, slow_thumbnails):
    release, started = slow_thumbnails
    runner = BatchRunner()
    events = _record(runner)
    runner.submit(1, PictureSource(name="a.jpg", data=_jpeg()), FakeClient(), 3)
    assert started.wait(5)
    assert runner.cancel() == [1]
    release.set()
    qtbot.wait(300)
    assert not any(e[0] == "thumbnail" for e in events)
    runner.close()


def test_not_a_picture_fails_and_says_no_preview(qtbot):
    runner = BatchRunner()
    events = _record(runner)
    runner.submit(1, PictureSource(name="notes.txt", data=b"hello, not a picture"), FakeClient(), 3)
    qtbot.waitUntil(lambda: ("idle",) in events, timeout=5000)
    assert ("thumbnail", 1, False) in events
    assert events[-1] == ("idle",)
    runner.close()
