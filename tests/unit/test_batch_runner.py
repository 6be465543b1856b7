"""BatchRunner: a single picture's answer does not wait for its thumbnail; a batch makes them in turn; the
runner is idle only once every thumbnail is out; nothing arrives after cancel()."""

from __future__ import annotations

import io
import os
import sys
import threading
import time

import pytest
from PIL import Image
from PySide6.QtCore import QTimer

from gui.predict.models import Prediction
from gui.predict.sources import PictureSource
from gui.qt.predict import batch
from gui.qt.predict.batch import DELIVER_MS, WORKER_NICE, BatchRunner


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

    def slow(data, *args):
        started.set()
        assert release.wait(10)
        return real(data, *args)

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


def test_a_burst_of_results_is_delivered_in_short_turns(qtbot):
    """60 answers that arrive while the UI thread is busy are handed out a few at a time, with the event
    loop (here a 1 ms timer) running in between; posted one event each, they all ran in one turn."""
    runner = BatchRunner(concurrency=4)
    gate = threading.Event()
    answered: list[int] = []
    runner.answered.connect(lambda j, p: (answered.append(j), time.sleep(0.002)))  # a slot costing 2 ms
    idle: list[bool] = []
    runner.idle.connect(lambda: idle.append(True))
    ticks: list[float] = []
    timer = QTimer(interval=1)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    for job in range(60):
        runner.submit(job, PictureSource(name=f"{job}.jpg", data=_jpeg()), FakeClient(gate), 3)
    gate.set()
    qtbot.waitUntil(lambda: runner.busy == 0, timeout=10000)  # every answer is in the outbox or out
    time.sleep(0.2)  # the UI thread busy meanwhile: the answers wait for it
    timer.start()
    qtbot.waitUntil(lambda: len(answered) == 60, timeout=10000)
    timer.stop()
    qtbot.waitUntil(lambda: bool(idle), timeout=5000)  # no worker still reaching the runner when it goes
    assert len(ticks) > 10, f"a 1 ms timer ran {len(ticks)} times while 60 answers of 2 ms each were handed out"
    gaps = [b - a for a, b in zip(ticks, ticks[1:], strict=False)]
    assert max(gaps) < (DELIVER_MS + 2 * 2 + 15) / 1000, \
        f"the event loop waited {max(gaps) * 1000:.0f} ms while 60 answers of 2 ms each were handed out"
    runner.close()


def test_the_first_jobs_of_a_big_drop_run_lowered(qtbot):
    """Pictures the page holds back (``coming``) count: the drop's first job runs at the lowered priority."""
    niceness: list[int] = []

    class Recording(FakeClient):
        def predict_image(self, data: bytes, top_k: int = 5) -> Prediction:
            niceness.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
            return super().predict_image(data, top_k)

    base = os.getpriority(os.PRIO_PROCESS, 0)
    runner = BatchRunner(concurrency=4)
    idle: list[bool] = []
    runner.idle.connect(lambda: idle.append(True))
    runner.coming = 0
    runner.submit(1, PictureSource(name="1.jpg", data=_jpeg()), Recording(), 3)  # one picture: app's priority
    qtbot.waitUntil(lambda: len(idle) == 1, timeout=5000)
    runner.coming = 199
    runner.submit(2, PictureSource(name="2.jpg", data=_jpeg()), Recording(), 3)  # the first of 200
    qtbot.waitUntil(lambda: len(idle) == 2, timeout=5000)
    runner.close()
    if sys.platform != "linux":
        pytest.skip("per-thread priority is Linux only")
    assert niceness == [base, min(19, base + WORKER_NICE)], niceness
