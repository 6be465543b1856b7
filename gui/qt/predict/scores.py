"""Table models and small views for evaluation figures: the confusion heat map, the per-class report,
and a strip of picture thumbnails (made off the UI thread with gui.evaluate.report.thumbnail_png)."""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSize, Qt
from PySide6.QtGui import QColor, QIcon, QImage, QPixmap
from PySide6.QtWidgets import QListView, QListWidget, QListWidgetItem

from gui.evaluate.report import thumbnail_png
from gui.qt.common import style
from gui.qt.common.tasks import Task

ANSWERS_ROLE = Qt.ItemDataRole.UserRole + 1  # (truth, predicted) of a heat-map cell
THUMB = 64


def blend(a: QColor, b: QColor, t: float) -> QColor:
    t = max(0.0, min(1.0, t))
    return QColor.fromRgbF(a.redF() + (b.redF() - a.redF()) * t, a.greenF() + (b.greenF() - a.greenF()) * t,
                           a.blueF() + (b.blueF() - a.blueF()) * t)


class ConfusionModel(QAbstractTableModel):
    """Rows: true labels, columns: predicted labels; the cell's colour grows with its share of the row
    (accent on the diagonal, the error colour off it). Updated in place while answers stream in."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.labels: list[str] = []
        self.matrix: list[list[int]] = []

    def set_matrix(self, labels: list[str], matrix: list[list[int]]) -> None:
        if labels != self.labels:
            self.beginResetModel()  # a new label appeared: the shape changed
            self.labels, self.matrix = labels, matrix
            self.endResetModel()
            return
        if matrix != self.matrix:
            self.matrix = matrix
            n = len(labels)
            if n:
                self.dataChanged.emit(self.index(0, 0), self.index(n - 1, n - 1))

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.labels)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.labels)

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        r, c = index.row(), index.column()
        count = self.matrix[r][c]
        if role == Qt.ItemDataRole.DisplayRole:
            return str(count) if count else ""
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignCenter)
        if role == Qt.ItemDataRole.BackgroundRole and count:
            share = count / max(1, sum(self.matrix[r]))
            hot = style.color("ok" if r == c else "error")
            return blend(style.color("chart-track"), hot, 0.15 + 0.85 * share)
        if role == Qt.ItemDataRole.ForegroundRole and count:
            share = count / max(1, sum(self.matrix[r]))
            return style.color("on-badge") if share > 0.55 else None
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"true {self.labels[r]}, predicted {self.labels[c]}: {count} (click: the pictures)"
        if role == ANSWERS_ROLE:
            return self.labels[r], self.labels[c]
        return None

    def headerData(self, section: int, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(self.labels):
            return self.labels[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            return "true label" if orientation == Qt.Orientation.Vertical else "predicted label"
        return None


class RowsModel(QAbstractTableModel):
    """A small read-only table of rows of text (per-class report, per-target figures, agreement)."""

    def __init__(self, headers: list[str], parent=None):
        super().__init__(parent)
        self.headers = headers
        self.rows: list[list[str]] = []
        self.row_headers: list[str] | None = None

    def set_rows(self, rows: list[list[str]], row_headers: list[str] | None = None) -> None:
        if len(rows) != len(self.rows) or row_headers != self.row_headers:
            self.beginResetModel()
            self.rows, self.row_headers = rows, row_headers
            self.endResetModel()
        elif rows != self.rows:
            self.rows = rows
            self.dataChanged.emit(self.index(0, 0), self.index(len(rows) - 1, len(self.headers) - 1))

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.headers)

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if index.isValid() and role == Qt.ItemDataRole.DisplayRole:
            return self.rows[index.row()][index.column()]
        if index.isValid() and role == Qt.ItemDataRole.TextAlignmentRole and index.column() > 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return self.headers[section] if section < len(self.headers) else None
        if self.row_headers and section < len(self.row_headers):
            return self.row_headers[section]
        return None


def report_rows(report: dict) -> list[list[str]]:
    rows = []
    for label, r in report.items():
        if label == "accuracy":
            continue
        rows.append([label, f"{r['precision']:.3f}", f"{r['recall']:.3f}", f"{r['f1-score']:.3f}",
                     str(r["support"])])
    return rows


def ms(v) -> str:
    return "–" if v is None else f"{v:.1f} ms"


class ThumbnailStrip(QListWidget):
    """Pictures with a caption each; thumbnails are made on the shared pool and set when they arrive."""

    def __init__(self, parent=None, name: str = "thumbnails"):
        super().__init__(parent)
        self.setObjectName(name)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setIconSize(QSize(THUMB, THUMB))
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setWordWrap(True)
        self.setGridSize(QSize(THUMB + 70, THUMB + 48))
        self._tasks: list[Task] = []

    def show_pictures(self, entries: list[tuple[str, str]], limit: int = 60) -> None:
        """``entries``: (path, caption); at most ``limit`` are shown."""
        for t in self._tasks:
            t.cancel()
        self._tasks = []
        self.clear()
        for path, caption in entries[:limit]:
            item = QListWidgetItem(caption)
            item.setToolTip(f"{path}\n{caption}")
            self.addItem(item)
            if path:
                task = Task(self, lambda p=path: thumbnail_png(p, THUMB))
                task.done.connect(lambda png, it=item: self._set_icon(it, png))
                self._tasks.append(task.start())

    def _set_icon(self, item: QListWidgetItem, png) -> None:
        if png and self.row(item) >= 0:
            image = QImage.fromData(png)
            item.setIcon(QIcon(QPixmap.fromImage(image)))

    def busy(self) -> bool:
        return any(t.is_alive() for t in self._tasks)
