"""Two to four targets on the same items: accuracy each, where they disagree, how often they agree.

``Comparison`` takes the answers of a ``PredictionRun`` over several clients (``Answer.target``) and
keeps one ``Scoreboard`` per target. The verdict rests only on items every target answered, and says
how many those are.
"""

from __future__ import annotations

from collections.abc import Sequence

from gui.evaluate.runner import Answer
from gui.evaluate.score import Scoreboard


class Comparison:
    def __init__(self, names: Sequence[str]):
        if not 2 <= len(names) <= 4:
            raise ValueError("compare two to four targets")
        self.names = list(names)
        self.boards = [Scoreboard() for _ in names]
        self._by_item: dict[int, list[Answer | None]] = {}

    def add(self, answer: Answer) -> None:
        self.boards[answer.target].add(answer)
        row = self._by_item.setdefault(answer.index, [None] * len(self.names))
        row[answer.target] = answer

    def common(self) -> list[list[Answer]]:
        """Items every target answered, each as its answers in target order."""
        return [row for row in self._by_item.values() if all(a is not None and a.ok for a in row)]

    def disagreements(self) -> list[list[Answer]]:
        return [row for row in self.common() if len({a.predicted for a in row}) > 1]

    def agreement(self) -> list[list[float | None]]:
        """Share of common items on which target i and target j give the same label."""
        rows = self.common()
        n = len(self.names)
        out: list[list[float | None]] = [[None] * n for _ in range(n)]
        for i in range(n):
            for j in range(n):
                if rows:
                    out[i][j] = sum(r[i].predicted == r[j].predicted for r in rows) / len(rows)
        return out

    def accuracy_on_common(self) -> list[float | None]:
        rows = self.common()
        return [sum(r[t].right for r in rows) / len(rows) if rows else None for t in range(len(self.names))]

    def verdict(self) -> str:
        """Which is better, in one sentence, with the number of pictures it rests on."""
        rows = self.common()
        if not rows:
            return "no picture was answered by every target yet"
        acc = self.accuracy_on_common()
        order = sorted(range(len(self.names)), key=lambda t: acc[t], reverse=True)
        best, second = order[0], order[1]
        if acc[best] == acc[second]:
            return (f"{self.names[best]} and {self.names[second]} are equally accurate "
                    f"({acc[best]:.1%}) on the {len(rows)} pictures all targets answered")
        only_best = sum(r[best].right and not r[second].right for r in rows)
        only_second = sum(r[second].right and not r[best].right for r in rows)
        return (f"{self.names[best]} is better: {acc[best]:.1%} right against {acc[second]:.1%} for "
                f"{self.names[second]}, on the {len(rows)} pictures all targets answered "
                f"({only_best} right only for {self.names[best]}, {only_second} only for "
                f"{self.names[second]})")

    def summary(self, disagreements: int = 50) -> dict:
        rows = self.common()
        return {
            "targets": [
                {"name": name, "accuracy": b.accuracy, "answered": b.answered, "failed": b.failed,
                 "latency_ms": b.latency()}
                for name, b in zip(self.names, self.boards, strict=True)
            ],
            "common": len(rows),
            "accuracy_on_common": self.accuracy_on_common(),
            "agreement": self.agreement(),
            "disagreements": [
                {"name": r[0].name, "truth": r[0].truth, "predicted": [a.predicted for a in r]}
                for r in self.disagreements()[:disagreements]
            ],
            "disagreement_count": len(self.disagreements()),
            "verdict": self.verdict(),
        }
