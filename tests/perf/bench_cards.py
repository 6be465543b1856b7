"""The Predict page's cards: the UI thread's own time to make, show, lay out, paint and answer them, the way
the page does it for a dropped batch (no engine, no pictures: only the cards). Prints one JSON object.

Times are the UI thread's CPU time (time.thread_time), so other processes on the machine do not count;
a drop's wall-clock stalls, with pictures and a real container, are bench_predict's. Per run, on a fresh
grid (the page cleared, its old cards deleted):
- first_card_ms: the first card of a drop made, shown and placed (the grid was empty);
- per_card_ms: each of the other --cards cards made and shown, the page's way (DropPanel.show_card), and
  all placed at once (DropPanel.place), divided by their number;
- grid_layout_passes: how often the grid placed its cards while those were added (the event loop lays it
  out once afterwards, not counted);
- first_paint_ms: the event-loop turn that lays out and paints the grid with them;
- answer_ms: each card given a three-label answer (best label, bars, status), and the paint after, per card.
Median over --runs runs; the first run counts like the others.

    .venv/bin/python tests/perf/bench_cards.py [--cards 200] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from PySide6.QtCore import QCoreApplication, QEvent  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cards", type=int, default=200)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()

    app = QApplication.instance() or QApplication([])
    from gui.app import create_window
    from gui.predict import Prediction
    from gui.qt.predict.card import PredictionCard
    from gui.qt.predict.flow import FlowLayout

    passes = []
    arrange = FlowLayout._arrange

    def counted(self, rect, move):
        if move:
            passes.append(1)
        return arrange(self, rect, move)

    FlowLayout._arrange = counted

    w = create_window("unix:///nonexistent/aics-bench.sock")  # no engine: only the cards are measured
    w.resize(1200, 800)
    w.show()
    w.pages.setCurrentWidget(w.predict_page)
    page, panel = w.predict_page, w.predict_page.panel

    def settle(turns: int = 20) -> None:
        for _ in range(turns):
            app.processEvents()
            QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)  # cleared cards really go
            time.sleep(0.005)

    settle(40)
    answer = Prediction(labels=("3", "5", "8"), scores=(0.93, 0.05, 0.02), round_trip_ms=42.0)
    runs: dict[str, list[float]] = {"first_card_ms": [], "per_card_ms": [], "first_paint_ms": [],
                                    "answer_ms": [], "grid_layout_passes": []}
    for _ in range(args.runs):
        page.clear()
        settle()
        t = time.thread_time()
        first = PredictionCard("first-photo-IMG_20240101_123456.jpg")
        panel.show_card(first)
        panel.place([first])
        runs["first_card_ms"].append((time.thread_time() - t) * 1000)
        settle(2)
        passes.clear()
        t = time.thread_time()
        cards = []
        for i in range(args.cards - 1):
            card = PredictionCard(f"photo-{i:03d}-IMG_20240101_123456.jpg")
            panel.show_card(card)
            cards.append(card)
        panel.place(cards)
        runs["per_card_ms"].append((time.thread_time() - t) * 1000 / max(1, len(cards)))
        runs["grid_layout_passes"].append(len(passes))
        t = time.thread_time()
        app.processEvents()
        runs["first_paint_ms"].append((time.thread_time() - t) * 1000)
        t = time.thread_time()
        for card in [first, *cards]:
            card.set_prediction(answer)
        app.processEvents()
        runs["answer_ms"].append((time.thread_time() - t) * 1000 / args.cards)
        assert panel.flow.count() == args.cards
    page.clear()
    w.close()
    out = {"benchmark": "cards", "cards": args.cards, "runs": args.runs, "clock": "UI thread CPU time",
           "load_average": [round(x, 2) for x in os.getloadavg()]}
    for key, values in runs.items():
        out[key] = {"median": round(statistics.median(values), 3), "max": round(max(values), 3)}
    print(json.dumps(out))
    sys.stdout.flush()
    os._exit(0)  # skip Qt's teardown of 200 widgets


if __name__ == "__main__":
    main()
