"""Results as CSV: one row per label of each picture (file, label, score, milliseconds, error)."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable

from gui.predict.models import Prediction

COLUMNS = ("file", "label", "score", "milliseconds", "error")


def csv_rows(results: Iterable[tuple[str, Prediction | BaseException | str]]) -> list[list[str]]:
    """Rows for ``(file, prediction-or-error)`` pairs; a failed picture gives one row with its error."""
    rows: list[list[str]] = []
    for name, result in results:
        if isinstance(result, Prediction):
            ms = f"{result.round_trip_ms:.1f}"
            for label, score in zip(result.labels, result.scores, strict=True):
                rows.append([name, label, "" if score is None else f"{score:.6g}", ms, ""])
            if not result.labels:
                rows.append([name, "", "", ms, ""])
        else:
            rows.append([name, "", "", "", str(result)])
    return rows


def write_csv(target: str | os.PathLike | io.TextIOBase, results) -> int:
    """Write a header and the rows of ``results`` to a path or an open text file; returns the row count."""
    rows = csv_rows(results)
    if isinstance(target, str | os.PathLike):
        with open(target, "w", newline="", encoding="utf-8") as fh:
            _write(fh, rows)
    else:
        _write(target, rows)
    return len(rows)


def _write(fh, rows) -> None:
    writer = csv.writer(fh)
    writer.writerow(COLUMNS)
    writer.writerows(rows)
