"""TabularForm: feature fields from the model's metadata, pasted CSV rows, and the model's predictions."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui.predict import ModelMetadata, PredictError
from gui.qt.common.style import set_role
from gui.qt.common.tasks import message_of, run, unless_bug

CSV_FILTER = "CSV files (*.csv *.tsv *.txt);;All files (*)"
MAX_CSV_BYTES = 20_000_000


def parse_rows(text: str, features: tuple[str, ...]) -> list[list[float]]:
    """CSV rows (comma, semicolon or tab separated) as numbers; a header row naming features is skipped."""
    text = text.strip()
    if not text:
        raise PredictError("paste one or more CSV rows of numbers", kind="input")
    try:
        dialect = csv.Sniffer().sniff(text.splitlines()[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = [r for r in csv.reader(io.StringIO(text), dialect) if any(c.strip() for c in r)]
    if rows and features and [c.strip() for c in rows[0]] == list(features):
        rows = rows[1:]
    out = []
    for n, row in enumerate(rows, 1):
        try:
            out.append([float(c) for c in row])
        except ValueError:
            raise PredictError(f"row {n} has a value that is not a number: {', '.join(row)}", kind="input") \
                from None
        if features and len(row) != len(features):
            raise PredictError(f"row {n} has {len(row)} values; the model wants {len(features)} "
                               f"({', '.join(features)})", kind="input")
    if not out:
        raise PredictError("no rows to predict", kind="input")
    return out


class TabularForm(QWidget):
    """Predict rows of numbers. ``predictRequested(rows)`` asks the page to run them off the UI thread;
    ``show_results`` / ``show_error`` put the answer in the table."""

    predictRequested = Signal(list)
    changed = Signal()  # results shown or cleared

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("tabularForm")
        self.meta: ModelMetadata | None = None
        self.fields: dict[str, QLineEdit] = {}
        self._results: list[tuple[list[float], object]] = []
        self.title = QLabel(self)
        self.title.setObjectName("tabularTitle")
        set_role(self.title, "title")
        self.fields_box = QGroupBox("One row", self)
        self.grid = QGridLayout(self.fields_box)
        self.predict_one = QPushButton("Predict this row", self.fields_box)
        self.predict_one.setObjectName("tabularPredict")
        self.csv = QPlainTextEdit(self)
        self.csv.setObjectName("tabularCsv")
        self.csv.setPlaceholderText("Or paste CSV rows here, one row a line (a header line is skipped)")
        self.csv.setMaximumHeight(110)
        self.predict_csv = QPushButton("Predict pasted rows", self)
        self.predict_csv.setObjectName("tabularPredictCsv")
        self.open_csv = QPushButton("Rows from a CSV file…", self)
        self.open_csv.setObjectName("tabularOpenCsv")
        self.status = QLabel(self)
        self.status.setObjectName("tabularStatus")
        self.status.setWordWrap(True)
        self.table = QTableWidget(0, 0, self)
        self.table.setObjectName("tabularResults")
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)

        buttons = QHBoxLayout()
        buttons.addWidget(self.predict_csv)
        buttons.addWidget(self.open_csv)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.fields_box)
        layout.addWidget(self.csv)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        layout.addWidget(self.table, 1)
        self.predict_one.clicked.connect(self._on_predict_one)
        self.predict_csv.clicked.connect(self._on_predict_csv)
        self.open_csv.clicked.connect(lambda _checked=False: self._on_open_csv())

    def set_model(self, meta: ModelMetadata) -> None:
        """Fields for the model's features (rebuilt only when they change)."""
        same = (self.meta is not None and self.meta.features == meta.features
                and self.meta.feature_ranges == meta.feature_ranges)
        self.meta = meta
        kind = "Regression" if "regression" in meta.task else "Classification" if meta.task else "Tabular model"
        self.title.setText(f"{kind}: {meta.name or 'model'} · {len(meta.features)} features")
        if same:
            return
        while self.grid.count():
            item = self.grid.takeAt(0)
            if item.widget() is not None and item.widget() is not self.predict_one:
                item.widget().deleteLater()
        self.fields = {}
        columns = 4
        for i, name in enumerate(meta.features):
            edit = QLineEdit(self.fields_box)
            edit.setObjectName(f"feature_{name}")
            edit.setPlaceholderText("0")
            label = QLabel(name, self.fields_box)
            typical = meta.feature_range(name)
            if typical is not None:  # the model's metadata says what values it was trained on
                span = f"{_short(typical.min)}\u2013{_short(typical.max)}"
                edit.setPlaceholderText(f"typical {span}")
                tip = (f"{name}: typical {span}, mean {_short(typical.mean)} (the model's training rows). "
                       "Empty sends 0.")
                edit.setToolTip(tip)
                label.setToolTip(tip)
            edit.returnPressed.connect(self._on_predict_one)
            self.fields[name] = edit
            r, c = divmod(i, columns)
            self.grid.addWidget(label, r, 2 * c, Qt.AlignmentFlag.AlignRight)
            self.grid.addWidget(edit, r, 2 * c + 1)
        self.grid.addWidget(self.predict_one, (len(meta.features) + columns - 1) // columns, 0, 1, 2 * columns)
        self.table.setColumnCount(len(meta.features) + 1)
        self.table.setHorizontalHeaderLabels([*meta.features, "prediction"])
        self.table.setRowCount(0)
        self._results = []

    def _on_predict_one(self) -> None:
        try:
            row = [float(e.text().strip() or 0) for e in self.fields.values()]
        except ValueError:
            bad = [n for n, e in self.fields.items() if not _is_number(e.text().strip() or "0")]
            self.show_error(f"not a number: {', '.join(bad)}")
            return
        self.status.setText("Predicting…")
        self.predictRequested.emit([row])

    def _on_predict_csv(self) -> None:
        try:
            rows = parse_rows(self.csv.toPlainText(), self.meta.features if self.meta else ())
        except PredictError as exc:
            self.show_error(exc.message)
            return
        self.status.setText(f"Predicting {len(rows)} rows…")
        self.predictRequested.emit(rows)

    def _on_open_csv(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Rows to predict", "", CSV_FILTER)
        if path:
            self.load_csv(path)

    def load_csv(self, path: str) -> None:
        """Read a CSV file off the UI thread, show its rows in the box and predict them."""
        def read() -> str:
            if Path(path).stat().st_size > MAX_CSV_BYTES:
                raise PredictError(f"{Path(path).name} is larger than {MAX_CSV_BYTES // 1_000_000} MB",
                                   kind="input")
            return Path(path).read_text(encoding="utf-8-sig", errors="replace")

        def done(text) -> None:
            self.csv.setPlainText(text)
            self._on_predict_csv()

        self.status.setText(f"Reading {Path(path).name}…")
        run(self, read, done, unless_bug(lambda exc: self.show_error(f"cannot read {Path(path).name}: {message_of(exc)}"),
                                         self.status.clear))

    def show_results(self, rows: list[list[float]], predictions: list, ms: float) -> None:
        self.table.setRowCount(len(rows))
        self.table.setColumnCount(len(rows[0]) + 1 if rows else 1)
        for r, (row, pred) in enumerate(zip(rows, predictions, strict=True)):
            for c, value in enumerate(row):
                self.table.setItem(r, c, QTableWidgetItem(f"{value:g}"))
            text = f"{pred:.6g}" if isinstance(pred, float) else str(pred)
            item = QTableWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, pred)
            font = item.font()
            font.setBold(True)
            item.setFont(font)
            self.table.setItem(r, len(row), item)
        self.table.resizeColumnsToContents()
        set_role(self.status, "ok")
        self.status.setText(f"{len(rows)} prediction{'s' if len(rows) != 1 else ''} in {ms:.0f} ms")
        self._results = list(zip(rows, predictions, strict=True))
        self.changed.emit()

    def results(self) -> list[tuple[list[float], object]]:
        """(row, prediction) for the rows shown."""
        return list(self._results)

    def clear_results(self) -> None:
        self._results = []
        self.table.setRowCount(0)
        self.status.setText("")
        self.changed.emit()

    def write_csv(self, path: str) -> int:
        """The rows shown and their predictions as CSV (a header of the feature names); returns the rows."""
        features = list(self.meta.features) if self.meta else []
        with open(path, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            width = len(self._results[0][0]) if self._results else len(features)
            writer.writerow([*(features if len(features) == width else [f"x{i}" for i in range(width)]),
                             "prediction"])
            for row, pred in self._results:
                writer.writerow([*(f"{v:g}" for v in row), pred])
        return len(self._results)

    def show_error(self, message: str) -> None:
        set_role(self.status, "error")
        self.status.setText(message)

    def predictions(self) -> list:
        col = self.table.columnCount() - 1
        return [self.table.item(r, col).data(Qt.ItemDataRole.UserRole) for r in range(self.table.rowCount())]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _short(value: float) -> str:
    """A number in at most 3 significant digits, without "-0"."""
    text = f"{value:.3g}"
    return "0" if text in ("-0", "0") or abs(value) < 5e-16 else text
