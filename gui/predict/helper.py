"""Pictures whose decoding holds Python's lock are prepared in helper processes, when the app asks.

Pillow decodes JPEG and PNG with Python's lock released, but not WebP: its decoder hands the whole decoded
frame over as a Python bytes object, a 48 MB copy for a 12-megapixel photo, made while holding the lock
(15-30 ms per picture on an idle 2-core machine, 40-70 ms on a busy one). In the app, the UI thread waits
for that lock to run anything, so a batch of large WebP photos froze the window for that long, again and
again (bench_predict: its longest stalls, the UI thread neither running nor waiting for a CPU).

``enable()`` (the Predict page does it) sends such pictures to a small pool of helper processes started
from a fork server (a clean process that imports only Pillow and this package, never the app's Qt
window); a helper runs the very same function, so the answer is the same to the bit. Anything else, and
every call when not enabled (the CLI, tests), runs in the calling thread as before. Helpers are started
in the background (about half a second); until they answer, and when one cannot start or dies
mid-picture, the picture is prepared in the calling thread: helpers only ever cost the lock, never a wait.
A helper runs at the calling thread's priority (a batch lowers its workers' priority).

A thread may keep its pictures (``offload(False)``): a single picture dropped alone is prepared where it
is (the trip to a helper copies megabytes each way, and the UI thread has little to do while it waits for
that one answer: bench_predict's 20 single drops, p90 241-250 ms through a helper, 214-222 ms kept in
the worker). The Predict page's workers offload only while a batch runs.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:  # multiprocessing is imported with the first helper, not at the app's start
    from concurrent.futures import ProcessPoolExecutor

log = logging.getLogger(__name__)
T = TypeVar("T")

WORKERS = 2
# Smaller WebP pictures cost the lock under 2 ms: not worth the trip to another process.
MIN_PIXELS = 1_000_000

_lock = threading.Lock()
_enabled = False
_pool: ProcessPoolExecutor | None = None
_ready = threading.Event()  # the helpers have answered their first (empty) job
_starting = False
_failed = ""  # why helpers could not start; then every picture is prepared in the calling thread
_thread = threading.local()  # .kept: this thread prepares its pictures itself (offload(False))
offloaded = 0  # pictures a helper prepared or refused (for tests and benchmarks)


def enable() -> None:
    """Prepare lock-holding pictures in helper processes from now on. They are started in the background
    on the first such picture (or ``warm()``); until they answer, pictures are prepared here."""
    global _enabled
    _enabled = True


def disable() -> None:
    """Back to the calling thread; the helpers end."""
    global _enabled, _pool
    with _lock:
        _enabled, pool, _pool = False, _pool, None
        _ready.clear()
    if pool is not None:
        pool.shutdown(wait=False, cancel_futures=True)


def offload(on: bool) -> None:
    """Whether the calling thread sends lock-holding pictures to a helper (when enabled; the default)."""
    _thread.kept = not on


def warm(timeout: float = 0.0) -> bool:
    """Start the helpers in the background if they are not; wait up to ``timeout`` s for them to be
    ready. Returns whether they are."""
    _start_in_background()
    return _ready.wait(timeout) if timeout > 0 else _ready.is_set()


def status() -> str:
    """In words: "off", "starting", "ready" or "unavailable: <why>"."""
    if _failed:
        return f"unavailable: {_failed}"
    if not _enabled:
        return "off"
    return "ready" if _ready.is_set() else "starting"


def holds_lock(data: bytes) -> bool:
    """Whether Pillow would hold Python's lock long to decode ``data``: a WebP picture over MIN_PIXELS."""
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return False
    size = webp_size(data)
    return size is None or size[0] * size[1] >= MIN_PIXELS


def webp_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from a WebP file's first chunk (VP8X, VP8 or VP8L), or None if it cannot tell."""
    chunk = data[12:16]
    if chunk == b"VP8X" and len(data) >= 30:
        return 1 + int.from_bytes(data[24:27], "little"), 1 + int.from_bytes(data[27:30], "little")
    if chunk == b"VP8 " and len(data) >= 30 and data[23:26] == b"\x9d\x01\x2a":
        return (int.from_bytes(data[26:28], "little") & 0x3FFF, int.from_bytes(data[28:30], "little") & 0x3FFF)
    if chunk == b"VP8L" and len(data) >= 25 and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        return 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
    return None


def run(fn: Callable[..., T], data: bytes, *args) -> T:
    """``fn(data, *args)``: in a helper process when enabled and ``data`` holds the lock, else here.

    ``fn`` must be a module-level function (it is sent by name) and its exceptions picklable with their
    fields (PredictError is)."""
    global offloaded
    if not (_enabled and holds_lock(data)) or getattr(_thread, "kept", False):
        return fn(data, *args)
    pool = _pool
    if pool is None or not _ready.is_set():  # starting them takes ~0.5 s: this picture is not kept waiting
        _start_in_background()
        return fn(data, *args)
    from concurrent.futures.process import BrokenProcessPool  # noqa: PLC0415  (loaded by _get_pool)

    try:
        future = pool.submit(_call, fn, _thread_nice(), data, *args)
    except BrokenProcessPool:  # a helper died before: this picture here, new helpers next time
        _drop(pool)
        return fn(data, *args)
    except (OSError, RuntimeError) as exc:  # the fork server or a helper could not start
        _give_up(pool, f"{type(exc).__name__}: {exc}")
        return fn(data, *args)
    try:
        result = future.result()
    except BrokenProcessPool:  # a helper died with it (killed, out of memory): here, new helpers next
        _drop(pool)
        return fn(data, *args)
    except BaseException:
        offloaded += 1  # fn's own error (a damaged picture), raised in the helper and brought back
        raise
    offloaded += 1
    return result


def _start_in_background() -> None:
    global _starting
    with _lock:
        if not _enabled or _starting or _ready.is_set() or _failed:
            return
        _starting = True
    threading.Thread(target=_start, name="picture-helpers-start", daemon=True).start()


def _start() -> None:
    """Make the pool and have every helper answer an empty job (forking them all now)."""
    global _starting
    try:
        pool = _get_pool()
        if pool is None:
            return
        try:
            jobs = [pool.submit(os.getpid) for _ in range(WORKERS)]
            for job in jobs:
                job.result(timeout=60)
        except Exception as exc:  # noqa: BLE001  (the fork server or a helper could not start, whatever the cause)
            _give_up(pool, f"{type(exc).__name__}: {exc}")
            return
        with _lock:
            if _pool is pool:
                _ready.set()
    finally:
        with _lock:
            _starting = False


def _get_pool() -> ProcessPoolExecutor | None:
    global _pool, _failed
    with _lock:
        if _pool is not None or _failed or not _enabled:
            return _pool
        try:
            import multiprocessing  # noqa: PLC0415  (not at start: ~10 ms the window does not need)
            from concurrent.futures import ProcessPoolExecutor  # noqa: PLC0415

            ctx = multiprocessing.get_context("forkserver")
            # The fork server imports only this (not the app's __main__, which would open a window).
            ctx.set_forkserver_preload(["gui.predict.pictures"])
            _pool = ProcessPoolExecutor(max_workers=WORKERS, mp_context=ctx, initializer=_watch_app,
                                        initargs=(os.getpid(),))
        except (OSError, ValueError) as exc:  # no fork server on this platform, no processes allowed
            _failed = f"{type(exc).__name__}: {exc}"
            log.warning("picture helpers unavailable (%s); pictures are prepared in the app", _failed)
        return _pool


def _drop(pool: ProcessPoolExecutor) -> None:
    global _pool
    log.warning("a picture helper process ended; preparing the picture in the app")
    with _lock:
        if _pool is pool:
            _pool = None
            _ready.clear()
    pool.shutdown(wait=False, cancel_futures=True)


def _give_up(pool: ProcessPoolExecutor, why: str) -> None:
    global _pool, _failed
    with _lock:
        _failed = why
        if _pool is pool:
            _pool = None
            _ready.clear()
    log.warning("picture helpers unavailable (%s); pictures are prepared in the app", why)
    pool.shutdown(wait=False, cancel_futures=True)


def _thread_nice() -> int | None:
    """The calling thread's nice value (Linux: per thread), for the helper to take on."""
    if sys.platform != "linux":
        return None
    try:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    except OSError:
        return None


def _watch_app(app_pid: int) -> None:
    """In each helper: end when the app does. The app leaves with os._exit (no clean-up), and a helper
    holds its own end of the job queue, so it would otherwise wait for jobs for ever (and keep the fork
    server alive)."""

    def watch() -> None:
        try:
            fd = os.pidfd_open(app_pid)  # Linux 5.3+: readable when the process ends
        except (AttributeError, OSError):
            fd = None
        if fd is not None:
            import select  # noqa: PLC0415

            select.select([fd], [], [])
        else:
            import time  # noqa: PLC0415

            while True:
                try:
                    os.kill(app_pid, 0)
                except ProcessLookupError:
                    break
                except PermissionError:
                    pass
                time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, name="app-watch", daemon=True).start()


def _call(fn: Callable[..., T], nice: int | None, data: bytes, *args) -> T:
    """In the helper: take the caller's priority (raising it again may be refused: then stay), then run."""
    if nice is not None:
        try:
            if os.getpriority(os.PRIO_PROCESS, 0) != nice:
                os.setpriority(os.PRIO_PROCESS, 0, nice)
        except OSError:
            pass
    return fn(data, *args)
