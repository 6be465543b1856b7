"""Scoreboard: the figures of one target's answers, kept up to date as answers stream in.

Answers are held once, here (the views and the report read them from the scoreboard). Counts for the
confusion matrix grow with each answer; the per-class report is derived from them on demand, so a
refresh while 10,000 answers land costs a k×k sum, not a pass over the answers.
"""

from __future__ import annotations

from collections import Counter

from gui.evaluate import metrics
from gui.evaluate.runner import Answer


class Scoreboard:
    """Answers of one target. ``regression`` scores numbers (MAE, RMSE, R²) instead of labels."""

    def __init__(self, regression: bool = False):
        self.regression = regression
        self.answers: list[Answer] = []
        self.cells: Counter = Counter()  # (truth, predicted) -> count, answered items only
        self.failed = 0
        self.right = 0
        self._ms: list[float] = []  # round trips of answered items, sorted when asked (cheap when mostly so)

    def add(self, answer: Answer) -> None:
        self.answers.append(answer)
        if answer.ok and answer.ms is not None:
            self._ms.append(answer.ms)
        if not answer.ok:
            self.failed += 1
        elif not self.regression:
            self.cells[(answer.truth, answer.predicted)] += 1
            self.right += answer.predicted == answer.truth

    def extend(self, answers) -> None:
        for a in answers:
            self.add(a)

    @property
    def answered(self) -> int:
        return len(self.answers) - self.failed

    @property
    def accuracy(self) -> float | None:
        return self.right / self.answered if self.answered and not self.regression else None

    def labels(self) -> list[str]:
        """Labels of the matrix: the sorted union of true and predicted labels (as scikit-learn's)."""
        return sorted({t for t, _ in self.cells} | {p for _, p in self.cells})

    def matrix(self) -> tuple[list[str], list[list[int]]]:
        labels = self.labels()
        return labels, [[self.cells.get((t, p), 0) for p in labels] for t in labels]

    def report(self) -> dict:
        """``classification_report(output_dict=True)`` of the answered items."""
        labels, matrix = self.matrix()
        return metrics.report_from_matrix(labels, matrix) if labels else {}

    def regression_scores(self) -> dict | None:
        pairs = [(float(a.truth), a.value) for a in self.answers if a.ok and a.value is not None
                 and _is_number(a.truth)]
        if not pairs:
            return None
        return metrics.regression_scores([t for t, _ in pairs], [p for _, p in pairs])

    def latency(self) -> dict:
        self._ms.sort()  # in place: the next refresh sorts only what came since
        return metrics.latency_summary(self._ms)

    def in_cell(self, truth: str, predicted: str) -> list[Answer]:
        return [a for a in self.answers if a.ok and a.truth == truth and a.predicted == predicted]

    def mistakes(self, limit: int = 24) -> list[Answer]:
        """The wrong answers the model was surest of, surest first."""
        wrong = [a for a in self.answers if a.ok and not self.regression and a.predicted != a.truth]
        wrong.sort(key=lambda a: -1.0 if a.score is None else a.score, reverse=True)
        return wrong[:limit]

    def errors(self) -> list[Answer]:
        return [a for a in self.answers if not a.ok]

    def summary(self, mistakes: int = 24) -> dict:
        """Every figure as plain JSON data."""
        out: dict = {
            "items": len(self.answers), "answered": self.answered, "failed": self.failed,
            "latency_ms": self.latency(),
        }
        if self.regression:
            out["regression"] = self.regression_scores()
        else:
            labels, matrix = self.matrix()
            out["accuracy"] = self.accuracy
            out["right"] = self.right
            out["report"] = self.report()
            out["confusion"] = {"labels": labels, "matrix": matrix}
            out["mistakes"] = [answer_dict(a) for a in self.mistakes(mistakes)]
        out["errors"] = [answer_dict(a) for a in self.errors()[:100]]
        return out


def answer_dict(a: Answer) -> dict:
    d = {"name": a.name, "truth": a.truth}
    if a.ok:
        if a.value is not None:
            d["value"] = a.value
        else:
            d["predicted"] = a.predicted
            d["score"] = a.score
        d["ms"] = None if a.ms is None else round(a.ms, 3)
    else:
        d["error"] = a.error
        d["kind"] = a.kind
    return d


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
