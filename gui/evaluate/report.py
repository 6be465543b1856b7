"""Reports a colleague can open: one self-contained HTML file (figures, heat map, the surest mistakes
with embedded thumbnails, target, image id and digest, date), plus JSON and CSV of every answer."""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import os
from datetime import datetime, timezone

from gui.evaluate.score import Scoreboard, answer_dict

THUMB = 64
ANSWER_COLUMNS = ("name", "truth", "predicted", "score", "value", "ms", "error", "target")


def thumbnail_png(path: str, size: int = THUMB) -> bytes | None:
    """A small PNG of the picture at ``path`` (nearest-neighbour, so 8×8 digits stay crisp); None if
    it cannot be read. A big WebP is decoded in a picture helper process when the app enabled them
    (gui.predict.helper: Pillow holds Python's lock while decoding one)."""
    from gui.predict import helper

    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None
    return helper.run(_thumbnail_png, data, size)


def _thumbnail_png(data: bytes, size: int) -> bytes | None:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as img:
            img.draft("RGB", (size, size))
            img = img.convert("RGBA" if img.mode in ("RGBA", "LA", "P") else "RGB")
            scale = size / max(img.size)
            resample = Image.Resampling.NEAREST if scale >= 1 else Image.Resampling.BILINEAR
            img = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))), resample)
            out = io.BytesIO()
            img.save(out, "PNG")
            return out.getvalue()
    except Exception:  # a picture Pillow cannot read has no thumbnail; the report still lists it
        return None


def now_text() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def report_document(board: Scoreboard, target: dict, dataset: dict, started: str = "") -> dict:
    """Everything the report says, as JSON data (also written as the .json file)."""
    return {"target": target, "dataset": dataset, "date": started or now_text(), **board.summary()}


def write_json(path: str, doc: dict) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=2)
        fh.write("\n")


def write_answers_csv(path: str, answers) -> int:
    """Every answer, one row each; returns the row count."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(ANSWER_COLUMNS)
        for a in answers:
            w.writerow([a.name, a.truth, a.predicted or "", "" if a.score is None else f"{a.score:.6g}",
                        "" if a.value is None else f"{a.value:.6g}",
                        "" if a.ms is None else f"{a.ms:.2f}", a.error, a.target])
    return len(answers)


def write_report(path: str, board: Scoreboard, target: dict, dataset: dict, mistakes: int = 24) -> list[str]:
    """Write ``path`` (HTML) and beside it ``.json`` and ``.csv`` with the same stem; returns the paths."""
    doc = report_document(board, target, dataset)
    stem = os.path.splitext(path)[0]
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(report_html(doc, board, mistakes))
    write_json(stem + ".json", doc)
    write_answers_csv(stem + ".csv", board.answers)
    return [path, stem + ".json", stem + ".csv"]


def _pct(v) -> str:
    return "–" if v is None else f"{v:.1%}"


def _num(v, digits: int = 3) -> str:
    return "–" if v is None else f"{v:.{digits}f}"


def _heat(count: int, row_total: int, diagonal: bool) -> str:
    share = count / row_total if row_total else 0.0
    if not count:
        return "background:#fff"
    hue = 140 if diagonal else 4
    return f"background:hsl({hue},60%,{96 - 50 * share:.0f}%)"


def report_html(doc: dict, board: Scoreboard, mistakes: int = 24) -> str:
    e = html.escape
    t = doc["target"]
    rows = [f"<tr><th>{e(k)}</th><td>{e(str(v))}</td></tr>" for k, v in t.items()]
    rows += [f"<tr><th>{e(k)}</th><td>{e(str(v))}</td></tr>" for k, v in doc["dataset"].items()]
    rows.append(f"<tr><th>date</th><td>{e(doc['date'])}</td></tr>")
    lat = doc["latency_ms"]
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>Evaluation of {e(str(t.get('name', 'model')))}</title><style>{_CSS}</style></head><body>",
        f"<h1>Evaluation of {e(str(t.get('name', 'model')))}</h1>",
        f"<table class='facts'>{''.join(rows)}</table>",
        "<h2>Figures</h2><p class='big'>",
    ]
    if board.regression:
        r = doc.get("regression") or {}
        parts.append(f"MAE {_num(r.get('mae'))} · RMSE {_num(r.get('rmse'))} · R² {_num(r.get('r2'))}")
    else:
        parts.append(f"accuracy <b>{_pct(doc.get('accuracy'))}</b> ({doc.get('right', 0)} of {doc['answered']})")
    parts.append(f"</p><p>{doc['items']} items, {doc['answered']} answered, {doc['failed']} failed · latency "
                 f"p50 {_num(lat['p50'], 1)} ms, p95 {_num(lat['p95'], 1)} ms, p99 {_num(lat['p99'], 1)} ms</p>")
    if not board.regression and doc.get("report"):
        parts.append(_report_table(doc["report"]))
        parts.append(_matrix_table(doc["confusion"]))
        parts.append(_mistakes(board, mistakes))
    if doc["errors"]:
        items = "".join(f"<li>{e(x['name'])}: {e(x['error'])}</li>" for x in doc["errors"])
        parts.append(f"<h2>Failed items</h2><ul>{items}</ul>")
    parts.append("</body></html>\n")
    return "".join(parts)


def _report_table(report: dict) -> str:
    e = html.escape
    head = "<tr><th>class</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr>"
    body = []
    for label, r in report.items():
        if label == "accuracy":
            continue
        body.append(f"<tr><td>{e(label)}</td><td>{r['precision']:.3f}</td><td>{r['recall']:.3f}</td>"
                    f"<td>{r['f1-score']:.3f}</td><td>{r['support']}</td></tr>")
    return f"<h2>Per class</h2><table class='grid'>{head}{''.join(body)}</table>"


def _matrix_table(confusion: dict) -> str:
    e = html.escape
    labels, matrix = confusion["labels"], confusion["matrix"]
    head = "<tr><th>true \\ predicted</th>" + "".join(f"<th>{e(x)}</th>" for x in labels) + "</tr>"
    body = []
    for i, label in enumerate(labels):
        total = sum(matrix[i])
        cells = "".join(f"<td style='{_heat(c, total, i == j)}'>{c or ''}</td>" for j, c in enumerate(matrix[i]))
        body.append(f"<tr><th>{e(label)}</th>{cells}</tr>")
    return f"<h2>Confusion matrix</h2><table class='grid heat'>{head}{''.join(body)}</table>"


def _mistakes(board: Scoreboard, limit: int) -> str:
    e = html.escape
    cards = []
    for a in board.mistakes(limit):
        png = thumbnail_png(a.path) if a.path else None
        img = (f"<img src='data:image/png;base64,{base64.b64encode(png).decode()}' alt=''>" if png
               else "<div class='noimg'>?</div>")
        score = "" if a.score is None else f" ({a.score:.0%})"
        cards.append(f"<figure>{img}<figcaption>{e(a.name)}<br>true <b>{e(a.truth)}</b>, said "
                     f"<b>{e(str(a.predicted))}</b>{score}</figcaption></figure>")
    if not cards:
        return "<h2>Most confident mistakes</h2><p>None.</p>"
    return f"<h2>Most confident mistakes</h2><div class='mistakes'>{''.join(cards)}</div>"


_CSS = """
body{font-family:system-ui,sans-serif;margin:24px;color:#222}
table{border-collapse:collapse;margin:8px 0}
th,td{padding:3px 8px;text-align:left}
.grid td,.grid th{border:1px solid #ddd;text-align:right}
.heat td{min-width:28px;text-align:center}
.facts th{color:#666;font-weight:normal}
.big{font-size:1.4em}
.mistakes{display:flex;flex-wrap:wrap;gap:10px}
figure{margin:0;width:120px;font-size:.85em}
figure img{width:64px;height:64px;image-rendering:pixelated;border:1px solid #ccc}
.noimg{width:64px;height:64px;background:#eee;text-align:center;line-height:64px}
"""


__all__ = ["answer_dict", "report_document", "report_html", "thumbnail_png", "write_answers_csv",
           "write_json", "write_report"]
