"""The Disk space page (`diskUsage`): what the engine's images, containers, volumes and build cache take,
the biggest items first, and clean-ups that say exactly what goes before they ask."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui.engine.disk import CATEGORIES, CleanUp, DiskUsage, candidates, clean, disk_usage
from gui.qt.common import style
from gui.qt.common.feedback import confirm, show_error
from gui.qt.common.table_models import human_size
from gui.qt.common.tasks import Op

CLEANUPS = (("dangling images", "Remove dangling images…"), ("stopped containers", "Remove stopped containers…"),
            ("unused volumes", "Remove unused volumes…"), ("build cache", "Clear build cache…"))
CATEGORY_COLORS = {"images": "chart-1", "containers": "spark-cpu", "volumes": "spark-network",
                   "build cache": "warning"}
BIGGEST = 50


class UsageBar(QWidget):
    """One horizontal bar split by category (its share of everything the engine uses)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("diskBar")
        self.totals: dict[str, int] = {}
        self.setMinimumHeight(26)

    def sizeHint(self) -> QSize:
        return QSize(400, 26)

    def set_totals(self, totals: dict[str, int]) -> None:
        self.totals = dict(totals)
        self.update()

    def paintEvent(self, _event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(style.color("chart-track"))
        p.drawRoundedRect(rect, 5, 5)
        total = sum(self.totals.values())
        x = rect.left()
        for cat in CATEGORIES:
            share = self.totals.get(cat, 0) / total if total else 0
            if share <= 0:
                continue
            w = rect.width() * share
            p.setBrush(QColor(style.color(CATEGORY_COLORS[cat])))
            p.drawRect(QRectF(x, rect.top(), w, rect.height()))
            x += w
        p.end()


class DiskPage(QWidget):
    statusMessage = Signal(str)
    usageRead = Signal(object)  # DiskUsage

    def __init__(self, window, parent=None):
        super().__init__(parent)
        self.main_window = window
        self.usage: DiskUsage | None = None
        self.last_dialog = None
        self.setObjectName("diskPage")

        self.summary = QLabel("Reading what the engine stores…", self)
        self.summary.setObjectName("diskSummary")
        self.summary.setWordWrap(True)
        self.bar = UsageBar(self)
        self.legend = QLabel(self)
        self.legend.setObjectName("diskLegend")
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.refresh_button = QPushButton("Refresh", self)
        self.refresh_button.setObjectName("diskRefresh")
        self.refresh_button.clicked.connect(self.refresh)

        self.table = QTableWidget(0, 4, self)
        self.table.setObjectName("diskItems")
        self.table.setHorizontalHeaderLabels(["What", "Kind", "Size", "In use"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setDefaultSectionSize(24)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in (1, 2, 3):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)

        self.cleanup_buttons: dict[str, QPushButton] = {}
        buttons = QHBoxLayout()
        for kind, label in CLEANUPS:
            b = QPushButton(label, self)
            b.setObjectName("clean" + "".join(w.capitalize() for w in kind.split()))
            b.clicked.connect(lambda _=False, k=kind: self.ask_clean(k))
            b.setEnabled(False)
            self.cleanup_buttons[kind] = b
            buttons.addWidget(b)
        buttons.addStretch(1)

        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.refresh_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 4)
        layout.addLayout(top)
        layout.addWidget(self.bar)
        layout.addWidget(self.legend)
        layout.addLayout(buttons)
        title = QLabel("Biggest items", self)
        style.set_role(title, "muted")
        layout.addWidget(title)
        layout.addWidget(self.table, 1)
        window.engineChanged.connect(lambda _s: self.refresh())
        self._shown_once = False

    @property
    def session(self):
        return self.main_window.session

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._shown_once:  # the engine's disk-usage call is costly: on demand, not at start-up
            self._shown_once = True
            self.refresh()

    def refresh(self) -> None:
        engine = self.session.engine
        self.refresh_button.setEnabled(False)

        def failed(exc) -> None:
            self.refresh_button.setEnabled(True)
            self.summary.setText(f"Could not read the engine's disk usage: {exc}")
            style.set_role(self.summary, "error")

        Op(self, lambda: disk_usage(engine)).success(self._show).failure(failed).run(self.session.reads)

    def _show(self, usage: DiskUsage) -> None:
        self.usage = usage
        self.refresh_button.setEnabled(True)
        totals = {c: usage.total(c) for c in CATEGORIES}
        self.bar.set_totals(totals)
        everything = sum(totals.values())
        text = f"The engine stores {human_size(everything)}"
        if usage.data_root_total:
            used = usage.data_root_total - usage.data_root_free
            text += (f" on a disk that is {used * 100 // usage.data_root_total} % full "
                     f"({human_size(usage.data_root_free)} free of {human_size(usage.data_root_total)})")
        self.summary.setText(text + ".")
        style.set_role(self.summary, "")
        self.legend.setText("&nbsp;&nbsp;".join(
            f"<span style='color:{style.color(CATEGORY_COLORS[c]).name()}'>■</span> {c}: {human_size(totals[c])}"
            f" ({human_size(usage.reclaimable(c))} reclaimable)" for c in CATEGORIES))
        for kind, button in self.cleanup_buttons.items():
            plan = candidates(usage, kind)
            button.setEnabled(bool(plan.items) or kind == "build cache")
            button.setToolTip(f"{len(plan.items)} item(s), {human_size(plan.frees)}")
        biggest = usage.biggest(BIGGEST)
        self.table.setRowCount(len(biggest))
        for row, item in enumerate(biggest):
            cells = (item.name, item.category, human_size(item.size) + (
                f" (+{human_size(item.shared)} shared)" if item.shared else ""), "yes" if item.in_use else "")
            for col, text in enumerate(cells):
                cell = QTableWidgetItem(text)
                if col == 2:
                    cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, col, cell)
        self.usageRead.emit(usage)

    def ask_clean(self, kind: str) -> None:
        if self.usage is None:
            return
        plan: CleanUp = candidates(self.usage, kind)
        lines = [f"{i.name}  {human_size(i.size)}" for i in plan.items[:30]]
        more = f"\n… and {len(plan.items) - 30} more" if len(plan.items) > 30 else ""
        what = (f"{len(plan.items)} item(s), freeing {human_size(plan.frees)}" if plan.items
                else "whatever build cache the engine keeps (the classic builder keeps its cache as images)")
        confirm(self, f"{kind.capitalize()}?", f"Remove {what}?", "Remove",
                lambda _c: self.clean(plan), "\n".join(lines) + more)

    def clean(self, plan: CleanUp) -> None:
        engine = self.session.engine

        def done(result) -> None:
            removed, freed, problems = result
            self.statusMessage.emit(f"{plan.kind.capitalize()}: removed {removed}, {human_size(freed)} freed")
            if problems:
                show_error(self, "Some items were not removed", "\n".join(problems))
            self.refresh()

        Op(self, lambda: clean(engine, plan), "Clean-up failed").success(done).run(self.session.changes)
