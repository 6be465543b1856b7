"""gui.predict.helper: big WebP pictures are prepared in helper processes, with the same answer, and a
helper that dies or cannot start costs nothing but Python's lock.

Pillow's WebP decoder holds Python's lock while it copies the decoded frame (15-30 ms for 12 MP), which
froze the app's UI thread during a batch; these tests check the pictures really go to another process.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from PIL import Image

from gui.predict import PredictError, helper
from gui.predict.models import ModelMetadata
from gui.predict.pictures import picture_tensor, prepare_upload

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _picture(size: tuple[int, int], fmt: str, **save) -> bytes:
    """A picture with real detail (a gradient and noise), so resizing has something to get wrong."""
    w, h = size
    im = Image.linear_gradient("L").resize(size).convert("RGB")
    im = Image.merge("RGB", (im.getchannel(0), Image.effect_noise(size, 60).convert("L"),
                             im.getchannel(0).transpose(Image.Transpose.FLIP_LEFT_RIGHT)))
    out = io.BytesIO()
    im.save(out, format=fmt, **save)
    return out.getvalue()


@pytest.fixture
def helpers():
    helper.enable()
    assert helper.warm(timeout=60), helper._failed
    yield helper
    helper.disable()


@pytest.fixture(scope="module")
def big_webp() -> bytes:
    return _picture((1600, 1000), "WEBP", quality=80)


def test_webp_size_read_from_every_kind_of_first_chunk():
    lossy = _picture((1600, 1000), "WEBP", quality=80)
    lossless = _picture((1200, 900), "WEBP", lossless=True)
    extended = _picture((1300, 800), "WEBP", quality=80, exif=b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x00")
    assert lossy[12:16] == b"VP8 " and helper.webp_size(lossy) == (1600, 1000)
    assert lossless[12:16] == b"VP8L" and helper.webp_size(lossless) == (1200, 900)
    assert extended[12:16] == b"VP8X" and helper.webp_size(extended) == (1300, 800)
    assert helper.holds_lock(lossy) and helper.holds_lock(lossless) and helper.holds_lock(extended)
    assert not helper.holds_lock(_picture((900, 900), "WEBP"))  # under a megapixel: decoded here
    assert not helper.holds_lock(_picture((1600, 1000), "JPEG"))  # Pillow lets go of the lock for JPEG
    assert not helper.holds_lock(_picture((1600, 1000), "PNG"))
    assert helper.holds_lock(b"RIFF\x00\x00\x00\x00WEBPJUNK" + b"\x00" * 20)  # cannot tell: helper decides


def test_big_webp_prepared_in_a_helper_with_the_same_answer(helpers, big_webp):
    meta = ModelMetadata(name="m", width=224, height=224, channels=3, layout="NHWC", scaling="0..1")
    helper.disable()
    before = helper.offloaded
    in_thread = (prepare_upload(big_webp, meta), picture_tensor(big_webp, meta))
    assert helper.offloaded == before
    helper.enable()
    assert prepare_upload(big_webp, meta) == in_thread[0]  # made here while the helpers start again
    assert helper.offloaded == before
    assert helper.warm(timeout=60)
    offloaded = (prepare_upload(big_webp, meta), picture_tensor(big_webp, meta))
    assert helper.offloaded == before + 2
    assert offloaded == in_thread
    assert "scaled down from 1600×1000" in offloaded[0].note


def test_small_and_jpeg_pictures_stay_in_the_calling_thread(helpers):
    before = helper.offloaded
    prepare_upload(_picture((640, 480), "WEBP"))
    prepare_upload(_picture((1600, 1000), "JPEG"))
    assert helper.offloaded == before


def test_a_helper_keeps_the_error_kind_and_message(helpers, big_webp):
    before = helper.offloaded
    with pytest.raises(PredictError) as err:
        prepare_upload(big_webp[:4000])
    assert err.value.kind == "picture" and "not a readable picture" in err.value.message
    assert helper.offloaded == before + 1  # refused in a helper, the error brought back whole


def test_runs_at_the_calling_threads_priority(helpers, big_webp):
    if sys.platform != "linux":
        pytest.skip("thread priorities are per thread on Linux only")
    seen = {}

    def lowered():
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 7)
        seen["nice"] = helper.run(_helper_nice, big_webp)

    t = threading.Thread(target=lowered)
    t.start()
    t.join()
    assert seen["nice"][0] == 7 and seen["nice"][1] != os.getpid()


def _helper_nice(data: bytes) -> tuple[int, int]:
    return os.getpriority(os.PRIO_PROCESS, 0), os.getpid()


@pytest.mark.parametrize("noticed", [False, True], ids=["dies-unnoticed", "death-noticed"])
def test_a_killed_helper_costs_only_the_lock(helpers, big_webp, noticed):
    prepare_upload(big_webp)  # helpers running
    pool = helper._pool
    assert pool is not None
    for pid in list(pool._processes):
        os.kill(pid, signal.SIGKILL)
    if noticed:  # the pool has seen it: submit() itself refuses
        deadline = time.monotonic() + 10
        while not pool._broken and time.monotonic() < deadline:
            time.sleep(0.02)
        assert pool._broken
    before = helper.offloaded
    upload = prepare_upload(big_webp)  # the dead pool is noticed: this one is made here
    assert upload.data and helper.offloaded == before
    assert helper.warm(timeout=60)  # new helpers, started in the background
    prepare_upload(big_webp)
    assert helper.offloaded == before + 1 and helper._pool is not pool


def test_helpers_that_cannot_start_leave_pictures_to_the_app(big_webp, monkeypatch):
    import concurrent.futures

    def refuse(*_a, **_k):
        raise OSError("no processes here")

    monkeypatch.setattr(helper, "_failed", "")
    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", refuse)
    helper.enable()
    try:
        before = helper.offloaded
        assert prepare_upload(big_webp).data
        assert not helper.warm(timeout=2)
        assert prepare_upload(big_webp).data
        assert helper.offloaded == before and "no processes here" in helper._failed
    finally:
        helper.disable()


def test_the_app_module_opens_nothing_when_a_helper_imports_it():
    """A helper imports the main module as __mp_main__: `python -m gui` must not start a window or Qt."""
    code = ("import runpy, sys; runpy.run_module('gui.__main__', run_name='__mp_main__'); "
            "print(sorted(m for m in ('PySide6', 'gui.app') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_helpers_end_with_the_app_even_when_it_leaves_with_os_exit():
    """The app leaves with os._exit (no clean-up): its helpers and their fork server must not stay."""
    code = """
import os
from gui.predict import helper
helper.enable()
assert helper.warm(timeout=60), helper.status()
print(*helper._pool._processes, flush=True)
os._exit(0)
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    pids = [int(p) for p in out.stdout.split()]
    assert len(pids) == helper.WORKERS
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(os.path.exists(f"/proc/{p}") for p in pids):
        time.sleep(0.05)
    assert not [p for p in pids if os.path.exists(f"/proc/{p}")], "helpers outlived the app"


def test_evaluate_thumbnails_of_big_webp_made_in_a_helper(helpers, big_webp, tmp_path):
    from gui.evaluate.report import thumbnail_png

    path = tmp_path / "big.webp"
    path.write_bytes(big_webp)
    before = helper.offloaded
    there = thumbnail_png(str(path))
    assert helper.offloaded == before + 1
    helper.disable()
    assert there == thumbnail_png(str(path)) and there.startswith(b"\x89PNG")
    assert thumbnail_png(str(tmp_path / "missing.webp")) is None


def test_a_thread_that_keeps_its_pictures_prepares_a_big_webp_itself(helpers, big_webp):
    """A single picture's worker (offload(False)) decodes it where it is; offload(True) sends it again."""
    meta = ModelMetadata(name="m", width=8, height=8, channels=1)
    counts = []

    def work(on: bool) -> None:
        helper.offload(on)
        before = helper.offloaded
        prepare_upload(big_webp, meta)
        counts.append(helper.offloaded - before)

    for on in (False, True):
        t = threading.Thread(target=work, args=(on,))
        t.start()
        t.join(60)
    assert counts == [0, 1], counts
