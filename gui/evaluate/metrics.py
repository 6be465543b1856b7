"""Scores of a model on labelled data, computed as scikit-learn computes them (without importing it).

``classification_report`` and ``confusion_matrix`` follow ``sklearn.metrics`` with its defaults: the
labels are the sorted union of true and predicted labels unless given, a precision or recall whose
denominator is 0 is 0.0 (sklearn's ``zero_division="warn"`` gives 0.0 and warns), F1 is 0.0 when
precision and recall are both 0. ``mean_absolute_error``, ``root_mean_squared_error`` and ``r2_score``
match theirs too (R² of a constant truth: 1.0 if predicted exactly, else 0.0, as ``force_finite=True``).
tests/unit/test_evaluate_metrics.py compares every figure with scikit-learn's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def unique_labels(*columns: Sequence) -> list:
    """The sorted union of the labels in ``columns`` (as sklearn's ``unique_labels``)."""
    return sorted(set().union(*(set(c) for c in columns)))


def confusion_matrix(y_true: Sequence, y_pred: Sequence, labels: Sequence | None = None) -> list[list[int]]:
    """Counts: row = true label, column = predicted label, in the order of ``labels``."""
    _same_length(y_true, y_pred)
    labels = list(labels) if labels is not None else unique_labels(y_true, y_pred)
    index = {label: i for i, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for t, p in zip(y_true, y_pred, strict=True):
        if t in index and p in index:
            matrix[index[t]][index[p]] += 1
    return matrix


def report_from_matrix(labels: Sequence, matrix: Sequence[Sequence[int]]) -> dict:
    """``classification_report(..., output_dict=True)`` from a confusion matrix over ``labels``."""
    n = len(labels)
    support = [sum(matrix[i]) for i in range(n)]
    predicted = [sum(matrix[r][i] for r in range(n)) for i in range(n)]
    total = sum(support)
    correct = sum(matrix[i][i] for i in range(n))
    out: dict = {}
    precisions, recalls, f1s = [], [], []
    for i, label in enumerate(labels):
        tp = matrix[i][i]
        precision = tp / predicted[i] if predicted[i] else 0.0
        recall = tp / support[i] if support[i] else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        precisions.append(precision)
        recalls.append(recall)
        f1s.append(f1)
        out[str(label)] = {"precision": precision, "recall": recall, "f1-score": f1, "support": support[i]}
    out["accuracy"] = correct / total if total else 0.0
    out["macro avg"] = {
        "precision": _mean(precisions), "recall": _mean(recalls), "f1-score": _mean(f1s), "support": total,
    }
    out["weighted avg"] = {
        "precision": _weighted(precisions, support), "recall": _weighted(recalls, support),
        "f1-score": _weighted(f1s, support), "support": total,
    }
    return out


def classification_report(y_true: Sequence, y_pred: Sequence, labels: Sequence | None = None) -> dict:
    """As ``sklearn.metrics.classification_report(y_true, y_pred, output_dict=True)``.

    With ``labels`` given and not covering every label, sklearn reports "micro avg" instead of
    accuracy; here ``accuracy`` stays the share of right answers over all pairs.
    """
    _same_length(y_true, y_pred)
    labels = list(labels) if labels is not None else unique_labels(y_true, y_pred)
    return report_from_matrix(labels, confusion_matrix(y_true, y_pred, labels))


def accuracy_score(y_true: Sequence, y_pred: Sequence) -> float:
    _same_length(y_true, y_pred)
    return sum(t == p for t, p in zip(y_true, y_pred, strict=True)) / len(y_true)


def mean_absolute_error(y_true: Sequence[float], y_pred: Sequence[float]) -> float:
    _same_length(y_true, y_pred)
    return math.fsum(abs(float(t) - float(p)) for t, p in zip(y_true, y_pred, strict=True)) / len(y_true)


def mean_squared_error(y_true: Sequence[float], y_pred: Sequence[float]) -> float:
    _same_length(y_true, y_pred)
    return math.fsum((float(t) - float(p)) ** 2 for t, p in zip(y_true, y_pred, strict=True)) / len(y_true)


def root_mean_squared_error(y_true: Sequence[float], y_pred: Sequence[float]) -> float:
    return math.sqrt(mean_squared_error(y_true, y_pred))


def r2_score(y_true: Sequence[float], y_pred: Sequence[float]) -> float:
    _same_length(y_true, y_pred)
    mean = math.fsum(float(t) for t in y_true) / len(y_true)
    residual = math.fsum((float(t) - float(p)) ** 2 for t, p in zip(y_true, y_pred, strict=True))
    total = math.fsum((float(t) - mean) ** 2 for t in y_true)
    if total == 0.0:
        return 1.0 if residual == 0.0 else 0.0
    return 1.0 - residual / total


def regression_scores(y_true: Sequence[float], y_pred: Sequence[float]) -> dict:
    return {
        "mae": mean_absolute_error(y_true, y_pred),
        "rmse": root_mean_squared_error(y_true, y_pred),
        "r2": r2_score(y_true, y_pred),
        "count": len(y_true),
    }


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile with linear interpolation (``numpy.percentile``'s default); None if empty."""
    if not values:
        return None
    return _percentile_of_sorted(sorted(values), q)


def _percentile_of_sorted(ordered: Sequence[float], q: float) -> float:
    pos = (len(ordered) - 1) * q / 100.0
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def latency_summary(ms: Sequence[float]) -> dict:
    """p50 / p95 / p99 / mean / max of round trips in milliseconds (None when there are none). Sorts once
    (the Evaluate window asks every refresh while 10,000 answers land; an already sorted list is cheap)."""
    if not ms:
        return {"p50": None, "p95": None, "p99": None, "mean": None, "max": None, "count": 0}
    ordered = sorted(ms)
    return {
        "p50": _percentile_of_sorted(ordered, 50), "p95": _percentile_of_sorted(ordered, 95),
        "p99": _percentile_of_sorted(ordered, 99), "mean": math.fsum(ordered) / len(ordered),
        "max": ordered[-1], "count": len(ordered),
    }


def _mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values) if values else 0.0


def _weighted(values: Sequence[float], weights: Sequence[int]) -> float:
    total = sum(weights)
    return math.fsum(v * w for v, w in zip(values, weights, strict=True)) / total if total else 0.0


def _same_length(a: Sequence, b: Sequence) -> None:
    if len(a) != len(b):
        raise ValueError(f"{len(a)} true values for {len(b)} predictions")
    if not len(a):
        raise ValueError("no answers to score")
