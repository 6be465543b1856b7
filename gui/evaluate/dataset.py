"""Labelled data: pictures in one folder per class (the ImageNet layout), a CSV of ``path,label``, or a
CSV of table rows with a label/target column. Listing reads no picture; each problem stays with its item.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field

from gui.predict.errors import PredictError

PICTURE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff", ".ppm", ".pgm")
PATH_COLUMNS = ("path", "file", "filename", "image", "picture", "filepath")
LABEL_COLUMNS = ("label", "target", "class", "y", "truth", "category")
MAX_ITEMS = 200_000


class DatasetError(PredictError):
    """The labelled data cannot be used at all (no classes, an unreadable CSV); a sentence to act on.

    A PredictError of kind ``input``: the window shows it in words like any other prediction problem.
    """

    def __init__(self, message: str):
        super().__init__(message, kind="input")


@dataclass(frozen=True)
class LabelledItem:
    """One picture (``path``) or table row (``row``) with its true ``label``; ``problem`` says why it
    cannot be sent (a missing file); it is then reported, not sent."""

    name: str
    label: str
    path: str = ""
    row: tuple[float, ...] | None = None
    problem: str = ""


@dataclass(frozen=True)
class Dataset:
    """What was found: ``kind`` is ``pictures`` or ``rows``; ``classes`` sorted by name;
    ``skipped`` lists what was not used and why (files at the top level, for instance)."""

    source: str
    kind: str
    items: tuple[LabelledItem, ...]
    classes: tuple[str, ...]
    features: tuple[str, ...] = ()
    skipped: tuple[str, ...] = field(default=())

    @property
    def usable(self) -> list[LabelledItem]:
        return [i for i in self.items if not i.problem]

    @property
    def problems(self) -> list[LabelledItem]:
        return [i for i in self.items if i.problem]


def load_dataset(source: str, limit: int = MAX_ITEMS) -> Dataset:
    """The labelled items at ``source`` (a folder with a subfolder per class, or a CSV file)."""
    if os.path.isdir(source):
        return _from_folder(source, limit)
    if os.path.isfile(source):
        if not source.lower().endswith((".csv", ".tsv", ".txt")):
            raise DatasetError(f"{source} is neither a folder of class folders nor a CSV file")
        return _from_csv(source, limit)
    raise DatasetError(f"{source} does not exist")


def _is_picture(name: str) -> bool:
    return name.lower().endswith(PICTURE_SUFFIXES)


def _from_folder(folder: str, limit: int) -> Dataset:
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as exc:
        raise DatasetError(f"cannot list {folder}: {exc.strerror or exc}") from None
    classes = [e for e in entries if e.is_dir() and not e.name.startswith(".")]
    loose = [e.name for e in entries if e.is_file() and not e.name.startswith(".")]
    if not classes:
        hint = f" ({len(loose)} files lie directly in it)" if loose else ""
        raise DatasetError(f"{folder} has no class folders{hint}: put each class's pictures in a subfolder "
                           "named after the class (the ImageNet layout), or give a CSV of path,label")
    items: list[LabelledItem] = []
    skipped = [f"{name}: not in a class folder" for name in loose]
    for entry in classes:
        for root, dirs, files in os.walk(entry.path):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(files):
                if name.startswith("."):
                    continue
                path = os.path.join(root, name)
                rel = os.path.relpath(path, folder)
                if not _is_picture(name):
                    skipped.append(f"{rel}: not a picture file")
                    continue
                items.append(LabelledItem(name=rel, label=entry.name, path=path))
                if len(items) >= limit:
                    skipped.append(f"more than {limit} pictures: the rest were left out")
                    return Dataset(folder, "pictures", tuple(items), _classes(items), skipped=tuple(skipped))
    empty = [e.name for e in classes if not any(i.label == e.name for i in items)]
    skipped += [f"{name}/: no pictures in this class folder" for name in empty]
    if not items:
        raise DatasetError(f"the class folders of {folder} hold no pictures")
    return Dataset(folder, "pictures", tuple(items), _classes(items), skipped=tuple(skipped))


def _classes(items) -> tuple[str, ...]:
    return tuple(sorted({i.label for i in items}))


def _column(header: list[str], names: tuple[str, ...]) -> int | None:
    lowered = [h.strip().lower() for h in header]
    for name in names:
        if name in lowered:
            return lowered.index(name)
    return None


def _from_csv(path: str, limit: int) -> Dataset:
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            sample = fh.read(64 * 1024)
            fh.seek(0)
            try:
                dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
            except csv.Error:
                dialect = csv.excel
            rows = list(csv.reader(fh, dialect))
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        raise DatasetError(f"{path} is empty")
    header = rows[0]
    path_col = _column(header, PATH_COLUMNS)
    label_col = _column(header, LABEL_COLUMNS)
    if path_col is not None:
        return _picture_rows(path, rows, path_col, label_col, limit, has_header=True)
    if label_col is not None:
        return _table_rows(path, rows, label_col, limit)
    if len(header) == 2 and _is_picture(header[0].strip()):  # path,label without a header line
        return _picture_rows(path, rows, 0, 1, limit, has_header=False)
    raise DatasetError(f"{path}: name its columns path,label (pictures) or give a label or target column "
                       "(table rows)")


def _picture_rows(source: str, rows, path_col: int, label_col: int | None, limit: int,
                  has_header: bool) -> Dataset:
    label_col = (1 if path_col == 0 else 0) if label_col is None else label_col
    base = os.path.dirname(os.path.abspath(source))
    items: list[LabelledItem] = []
    skipped: list[str] = []
    for n, row in enumerate(rows[1:] if has_header else rows, 2 if has_header else 1):
        if len(row) <= max(path_col, label_col):
            skipped.append(f"line {n}: fewer columns than the header")
            continue
        raw, label = row[path_col].strip(), row[label_col].strip()
        full = raw if os.path.isabs(raw) else os.path.join(base, raw)
        problem = "" if os.path.isfile(full) else f"line {n}: {raw} does not exist"
        if not label:
            problem = f"line {n}: no label"
        items.append(LabelledItem(name=raw, label=label, path=full, problem=problem))
        if len(items) >= limit:
            skipped.append(f"more than {limit} rows: the rest were left out")
            break
    if not items:
        raise DatasetError(f"{source} names no pictures")
    return Dataset(source, "pictures", tuple(items), _classes([i for i in items if i.label]), skipped=tuple(skipped))


def _table_rows(source: str, rows, label_col: int, limit: int) -> Dataset:
    header = [h.strip() for h in rows[0]]
    features = tuple(h for i, h in enumerate(header) if i != label_col)
    items: list[LabelledItem] = []
    for n, row in enumerate(rows[1:], 2):
        if len(row) != len(header):
            items.append(LabelledItem(name=f"row {n}", label="", problem=f"line {n}: {len(row)} values, "
                                      f"the header has {len(header)}"))
            continue
        cells = [c.strip() for i, c in enumerate(row) if i != label_col]
        try:
            values = tuple(float(c) for c in cells)
            problem = ""
        except ValueError:
            values, problem = None, f"line {n}: a value is not a number"
        items.append(LabelledItem(name=f"row {n}", label=row[label_col].strip(), row=values, problem=problem))
        if len(items) >= limit:
            break
    if not items:
        raise DatasetError(f"{source} has a header but no rows")
    return Dataset(source, "rows", tuple(items), _classes([i for i in items if i.label]), features=features)
