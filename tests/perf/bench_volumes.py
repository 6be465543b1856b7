"""Volumes page and browser on the real engine: time to the painted list, size fill-in stalls, browsing a
big folder, and a big upload/download through the browser without stalls or memory growth.

  1. creates --volumes labelled volumes, opens the real main window and clicks Volumes: the clock starts
     at the click (the page is made on first use) and stops at the first paint of the list's viewport
     that shows every volume; sizes are then read (the engine's disk-usage walk) while a 5 ms UI timer
     records the longest stall;
  2. fills one volume with --files files (a helper container writes them), opens its browser: the clock
     stops at the first paint of the file list that shows rows;
  3. uploads a --upload-mb file into a volume through the browser and downloads it back, recording the
     longest UI stall and the process's peak RSS growth.
Prints one JSON object with the load average. Everything carries the label
`ai-container-studio.test=<run id>` and is removed after.

    .venv/bin/python tests/perf/bench_volumes.py [--volumes 200] [--files 10000] [--upload-mb 1024]
"""

from __future__ import annotations

import argparse
import faulthandler
import json
import os
import resource
import sys
import tempfile
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

import docker  # noqa: E402
from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer  # noqa: E402

from gui.app import create_window, ensure_app  # noqa: E402
from gui.engine import resolve_engine  # noqa: E402
from gui.engine.volumes import HELPER_LABEL  # noqa: E402
from tests.perf.paint_probe import PaintProbe  # noqa: E402
from tests.support.busybox import build_busybox  # noqa: E402
from tests.support.labels import RUN_ID, TEST_LABEL  # noqa: E402

LABELS = {TEST_LABEL: RUN_ID, "ai-container-studio.bench": "volumes"}


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class StallMeter:
    """The longest gap between ticks of a 5 ms timer on the UI thread."""

    def __init__(self):
        self.timer = QTimer()
        self.timer.setInterval(5)
        self.clock = QElapsedTimer()
        self.longest = 0
        self.timer.timeout.connect(self._tick)

    def start(self) -> None:
        self.longest = 0
        self.clock.start()
        self.timer.start()

    def _tick(self) -> None:
        self.longest = max(self.longest, self.clock.restart())

    def stop(self) -> int:
        self.timer.stop()
        return self.longest


def spin_until(app, cond, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
        if cond():
            return True
    return cond()


def main() -> int:
    faulthandler.dump_traceback_later(float(os.environ.get("AICS_BENCH_DUMP_S", "0")) or 1e9, exit=True)
    ap = argparse.ArgumentParser()
    ap.add_argument("--volumes", type=int, default=200)
    ap.add_argument("--files", type=int, default=10_000)
    ap.add_argument("--upload-mb", type=int, default=1024)
    ap.add_argument("--timeout", type=float, default=120)
    args = ap.parse_args()

    api = docker.APIClient(base_url=resolve_engine().url, version="auto", timeout=300)
    busybox = build_busybox(api)
    names = [f"aicsbench-{RUN_ID}-v{i:04d}" for i in range(args.volumes)]
    out: dict = {"load_before": load(), "volumes": args.volumes, "files": args.files,
                 "upload_mb": args.upload_mb}
    big = f"aicsbench-{RUN_ID}-big"
    tmp = tempfile.mkdtemp(prefix="aics-bench-vol-")
    try:
        for n in names + [big]:
            api.create_volume(n, labels=LABELS)
        # A folder of --files files in the big volume, written by a helper container.
        c = api.create_container(busybox, ["sh", "-c", f"mkdir -p /v/many && cd /v/many && "
                                                       f"i=0; while [ $i -lt {args.files} ]; do "
                                                       f"echo $i > f$i.txt; i=$((i+1)); done"],
                                 host_config=api.create_host_config(binds={big: {"bind": "/v"}}), labels=LABELS)
        api.start(c["Id"])
        api.wait(c["Id"], timeout=600)
        api.remove_container(c["Id"], force=True)

        app = ensure_app()
        w = create_window()
        w.resize(1280, 860)
        w.show()
        spin_until(app, lambda: w.session.has_loaded, args.timeout)

        # 1. click Volumes -> list painted with every volume.
        painted: list[float] = []
        t0 = time.time()
        page = w.volumes_page  # made on first use, as a click on the sidebar does
        probe = PaintProbe(page.view.viewport(), lambda t: painted.append(t)
                           if len({r.name for r in page.model.records()} & set(names)) == len(names) else None)
        w.pages.setCurrentWidget(page)
        spin_until(app, lambda: bool(painted), args.timeout)
        out["list_painted_ms"] = round((painted[0] - t0) * 1000, 1) if painted else None
        probe.remove()
        meter = StallMeter()
        meter.start()
        page.read_sizes()
        spin_until(app, lambda: page.model.record(names[0]) is not None
                   and page.model.record(names[0]).size is not None, args.timeout)
        out["sizes_filled_stall_ms"] = meter.stop()

        # 2. browse the folder of many files -> first rows painted.
        browser = page.browse(big)
        spin_until(app, lambda: bool(browser.entries), args.timeout)
        painted.clear()
        probe = PaintProbe(browser.tree.viewport(), lambda t: painted.append(t)
                           if browser.tree.topLevelItemCount() >= min(args.files, 1) else None)
        t0 = time.time()
        browser.open_folder("many")
        spin_until(app, lambda: bool(painted) and browser.path == "many"
                   and browser.tree.topLevelItemCount() >= args.files, args.timeout)
        out["browse_first_rows_ms"] = round((painted[-1] - t0) * 1000, 1) if painted else None
        out["browse_rows"] = browser.tree.topLevelItemCount()
        probe.remove()

        # 3. upload and download a big file through the browser.
        src = os.path.join(tmp, "big.bin")
        with open(src, "wb") as fh:
            chunk = os.urandom(1 << 20)
            for _ in range(args.upload_mb):
                fh.write(chunk)
        browser.open_folder("")
        spin_until(app, lambda: browser.path == "" and "Reading" not in browser.status.text(), args.timeout)
        rss0 = rss_mb()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        meter.start()
        t0 = time.monotonic()
        browser.upload_paths([src])
        spin_until(app, lambda: "Uploaded" in browser.status.text() or "failed" in browser.status.text(),
                   args.timeout * 5)
        out["upload_s"] = round(time.monotonic() - t0, 2)
        out["upload_status"] = browser.status.text()
        dst = os.path.join(tmp, "back")
        os.mkdir(dst)
        t0 = time.monotonic()
        browser.download_to("big.bin", dst)
        spin_until(app, lambda: "Downloaded" in browser.status.text() or "failed" in browser.status.text(),
                   args.timeout * 5)
        out["download_s"] = round(time.monotonic() - t0, 2)
        out["transfer_stall_ms"] = meter.stop()
        out["rss_before_mb"] = round(rss0, 1)
        out["rss_peak_mb"] = round(max(peak, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024), 1)
        same = os.path.getsize(os.path.join(dst, "big.bin")) == os.path.getsize(src)
        out["download_same_size"] = same
        # Close the browser before the volumes go: its helper container mounts the big one.
        helper_id = browser.helper_id
        browser.close()
        out["helper_removed"] = spin_until(app, lambda: not api.containers(
            all=True, filters={"id": helper_id}), args.timeout) if helper_id else None
        w.close()
    finally:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
        for c in api.containers(all=True, filters={"label": f"{TEST_LABEL}={RUN_ID}"}):
            api.remove_container(c["Id"], force=True)
        for n in names + [big]:  # the studio's helpers (unlabelled for tests) would keep a volume
            for c in api.containers(all=True, filters={"label": HELPER_LABEL, "volume": n}):
                api.remove_container(c["Id"], force=True)
        for n in names + [big]:
            try:
                api.remove_volume(n, force=True)
            except docker.errors.APIError:
                pass
    out["load_after"] = load()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
