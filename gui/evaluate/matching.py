"""Class names of labelled data matched to the labels a model answers, before any picture is sent.

Folder names rarely equal a model's labels letter for letter ("golden_retriever" against "golden
retriever", "Cat" against "cat", "03-cat" against "cat"). A class matches a label exactly, else after
folding case and separators, else after dropping a leading number ("03-cat"); a fold that would join two
labels is not used. Classes that match nothing are listed so the user sees them before the run.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_SEPARATORS = re.compile(r"[\s_\-.]+")
_ORDINAL = re.compile(r"^\d+[\s_\-.]+(?=\D)")


@dataclass(frozen=True)
class LabelMatch:
    """``mapping``: class name -> model label for every class that matched; ``unmatched``: classes that
    match no label (their pictures count as wrong); ``unused``: model labels no class names."""

    mapping: dict[str, str]
    unmatched: tuple[str, ...]
    unused: tuple[str, ...]
    model_labels: tuple[str, ...]

    def label_of(self, class_name: str) -> str:
        """The model label a class stands for (the class name itself when it matched none)."""
        return self.mapping.get(class_name, class_name)

    @property
    def exact(self) -> bool:
        return not self.unmatched and all(k == v for k, v in self.mapping.items())

    def describe(self) -> str:
        """One sentence for the user; "" when every class is one of the model's labels."""
        if not self.model_labels:
            return "the model names no labels: classes are compared with its answers as they are"
        parts = []
        if self.unmatched:
            shown = ", ".join(self.unmatched[:8]) + ("…" if len(self.unmatched) > 8 else "")
            parts.append(f"{len(self.unmatched)} class{'es' if len(self.unmatched) != 1 else ''} match no "
                         f"label of the model and will count as wrong: {shown}")
        renamed = [f"{k} → {v}" for k, v in self.mapping.items() if k != v]
        if renamed:
            parts.append("matched by name: " + ", ".join(renamed[:6]) + ("…" if len(renamed) > 6 else ""))
        return "; ".join(parts)


def fold(name: str) -> str:
    return _SEPARATORS.sub(" ", name.strip().casefold()).strip()


def _unique_index(labels: Sequence[str], key) -> dict[str, str]:
    seen: dict[str, list[str]] = {}
    for label in labels:
        seen.setdefault(key(label), []).append(label)
    return {k: v[0] for k, v in seen.items() if len(v) == 1}


def match_labels(classes: Sequence[str], model_labels: Sequence[str]) -> LabelMatch:
    """Match each class to one of ``model_labels`` (see the module's rules)."""
    labels = tuple(str(x) for x in model_labels)
    if not labels:
        return LabelMatch({c: c for c in classes}, (), (), ())
    exact = set(labels)
    folded = _unique_index(labels, fold)
    bare = _unique_index(labels, lambda s: fold(_ORDINAL.sub("", s)))
    mapping: dict[str, str] = {}
    unmatched = []
    for name in classes:
        if name in exact:
            mapping[name] = name
        elif fold(name) in folded:
            mapping[name] = folded[fold(name)]
        elif fold(_ORDINAL.sub("", name)) in bare:
            mapping[name] = bare[fold(_ORDINAL.sub("", name))]
        else:
            unmatched.append(name)
    used = set(mapping.values())
    return LabelMatch(mapping, tuple(unmatched), tuple(x for x in labels if x not in used), labels)
