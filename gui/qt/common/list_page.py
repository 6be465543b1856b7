"""A page holding one live, sortable list (images or containers)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from gui.qt.common.feedback import show_error
from gui.qt.common.filter_proxy import RecordFilterProxy
from gui.qt.common.table_models import RecordRole, RecordTableModel
from gui.qt.common.tasks import Op, Task, expected, message_of, unless_bug


def fit_header_text(header: QHeaderView) -> None:
    """Widen every section that is narrower than its title (plus room for the sort arrow)."""
    model = header.model()
    if model is None:
        return
    fm = header.fontMetrics()
    for section in range(header.count()):
        text = str(model.headerData(section, header.orientation()) or "")
        needed = fm.horizontalAdvance(text) + 36
        if header.sectionSize(section) < needed and section != header.count() - 1:
            header.resizeSection(section, needed)


def fit_columns(view) -> None:
    """Shrink the widest sections (never below their title) until the columns fit the view: no
    horizontal scroll bar at the default window size."""
    header = view.horizontalHeader()
    model = header.model()
    available = view.viewport().width()
    if model is None or available <= 0:
        return
    fm = header.fontMetrics()
    floor = [fm.horizontalAdvance(str(model.headerData(s, header.orientation()) or "")) + 36
             for s in range(header.count())]
    for _round in range(20):
        excess = header.length() - available
        if excess <= 0:
            return
        widest = max(range(header.count() - 1), key=lambda s: header.sectionSize(s) - floor[s], default=None)
        if widest is None or header.sectionSize(widest) <= floor[widest]:
            return
        header.resizeSection(widest, max(floor[widest], header.sectionSize(widest) - max(10, excess // 3)))


PRESORT_MIN = 64  # rows of a first fill that are put in order in Python (ListPage.fill)
SORT_AT_LATEST_MS = 1000  # ... and sorted by the proxy after its first paint, or this long after the fill


class _SortAfterPaint(QObject):
    """Sorts a ListPage's proxy after its viewport's next paint, or at once when the model changes or a
    header is clicked before that paint (so rows that come later are never shown out of order)."""

    def __init__(self, page: ListPage):
        super().__init__(page)  # no Python reference to the page: parent() (one would make a cycle)
        self._signals = [page.model.rowsInserted, page.model.rowsRemoved, page.model.dataChanged,
                         page.model.modelReset, page.model.layoutChanged,
                         page.view.horizontalHeader().sortIndicatorChanged]
        for sig in self._signals:
            sig.connect(self.sort_now)
        page.view.viewport().installEventFilter(self)
        self._timer = QTimer(self)  # a child: it goes with this object (no pending single shot outlives it)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.sort_now)
        self._timer.start(SORT_AT_LATEST_MS)  # a list not shown yet (another page)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.Paint:
            self._timer.start(0)  # in the next turn of the event loop, after this paint
        return False

    def sort_now(self, *_args) -> None:
        page = self.parent()
        if page is None or page._sort_later is not self:
            return
        page._sort_later = None
        for sig in self._signals:
            sig.disconnect(self.sort_now)
        self._signals = []
        page.view.viewport().removeEventFilter(self)
        self._timer.stop()
        if page.proxy.sortColumn() < 0:
            header = page.view.horizontalHeader()
            page.proxy.sort(header.sortIndicatorSection(), header.sortIndicatorOrder())


class ListPage(QWidget):
    """A live list with a toolbar, a filter box and a count. It opens sorted by ``sort_column`` in
    ``sort_order``: newest first by default (Containers, Images, sorted by when they were made); a page
    sorted by name sets ``sort_order = Qt.SortOrder.AscendingOrder`` (A to Z, as Docker Desktop and
    Portainer list volumes and networks). A click on a header still sorts by that column."""

    sort_order = Qt.SortOrder.DescendingOrder

    def __init__(self, model: RecordTableModel, view_name: str, noun: str, sort_column: int, parent=None,
                 proxy: RecordFilterProxy | None = None, sort_order: Qt.SortOrder | None = None):
        super().__init__(parent)
        if sort_order is not None:  # a ListPage made as it is (the cluster's services), not a subclass
            self.sort_order = sort_order
        self.model = model
        self.noun = noun
        if proxy is None:  # else one that already shows ``model``, with rows of its own (compose projects)
            proxy = RecordFilterProxy(self)
            proxy.setSourceModel(model)
        self.proxy = proxy
        self._sort_later: _SortAfterPaint | None = None

        self.view = QTableView(self)
        self.view.setObjectName(view_name)
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(sort_column, self.sort_order)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setAlternatingRowColors(True)
        self.view.setShowGrid(False)
        self.view.setWordWrap(False)
        self.view.verticalHeader().setVisible(False)
        self.view.verticalHeader().setDefaultSectionSize(24)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        header.setDefaultSectionSize(160)
        header.resizeSection(0, 260)

        self.count = QLabel(self)
        self.count.setObjectName(f"{view_name}Count")
        self.filter_edit = None  # the filter box, once add_filter_row made the row
        # Over the empty list when the filter hides every row: "No container matches 'x'".
        self.no_match = QLabel(self.view.viewport())
        self.no_match.setObjectName(f"{view_name}NoMatch")
        self.no_match.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.no_match.setWordWrap(True)
        self.no_match.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 4)
        self.top = QVBoxLayout()
        layout.addLayout(self.top)
        layout.addWidget(self.view)
        layout.addWidget(self.count)
        for sig in (model.rowsInserted, model.rowsRemoved, model.modelReset, self.proxy.rowsInserted,
                    self.proxy.rowsRemoved, self.proxy.modelReset, self.proxy.layoutChanged):
            sig.connect(self._update_count)
        self._update_count()

    def fill(self, records: list) -> None:
        """Make the list hold exactly ``records`` (the model's replace_all). A first fill of an empty list
        with many rows, when the proxy can order them as its sort would (``presorted``), is inserted in
        that order with the proxy's sort off, and sorted after the list's first paint (or its next
        change): the rows show in the same order, without Qt's sort calling back into Python some
        ten times per comparison (rowCount, columnCount, lessThan) before the window's first paint."""
        header = self.view.horizontalHeader()
        ordered = None
        if (self.model.rowCount() == 0 and len(records) >= PRESORT_MIN and self.proxy.sortColumn() >= 0
                and self._sort_later is None):
            ordered = self.proxy.presorted(records, header.sortIndicatorSection(), header.sortIndicatorOrder())
        if ordered is None:
            self.model.replace_all(records)
            return
        self.proxy.sort(-1)
        self.model.replace_all(ordered)
        self._sort_later = _SortAfterPaint(self)

    def add_filter_row(self, toolbar, filter_edit, *extra) -> None:
        """Toolbar, extra widgets and the filter box in one row; Ctrl+F filters, F5 re-reads the engine."""
        filter_edit.setClearButtonEnabled(True)
        filter_edit.textChanged.connect(self.proxy.set_text)
        filter_edit.textChanged.connect(self._update_count)
        self.filter_edit = filter_edit
        find = QAction("Filter", self)
        find.setShortcut(QKeySequence.StandardKey.Find)
        find.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        find.triggered.connect(lambda: (filter_edit.setFocus(), filter_edit.selectAll()))
        self.addAction(find)
        refresh = QAction("Refresh", self)
        refresh.setObjectName("actionRefresh")
        refresh.setShortcut(QKeySequence(Qt.Key.Key_F5))
        refresh.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        refresh.triggered.connect(lambda: self.main_window.session.refresh())
        self.addAction(refresh)
        row = QHBoxLayout()
        row.addWidget(toolbar, 1)
        for widget in extra:
            row.addWidget(widget)
        row.addWidget(filter_edit, 1)
        self.top.addLayout(row)

    def showEvent(self, event) -> None:
        fit_header_text(self.view.horizontalHeader())
        if not getattr(self, "_columns_fitted", False):
            self._columns_fitted = True
            QTimer.singleShot(0, self, lambda: fit_columns(self.view))  # once laid out at its real width
        super().showEvent(event)

    def _update_count(self, *args) -> None:
        n = self.model.rowCount()
        shown = self.proxy.shown_records()
        text = f"{n} {self.noun}{'' if n == 1 else 's'}"
        self.count.setText(text if shown == n else f"{shown} of {text} shown")
        typed = self.filter_edit.text().strip() if self.filter_edit is not None else ""
        if n and not shown and typed:
            self.no_match.setText(f"No {self.noun} matches '{typed}'")
            self.count.setText(f"No {self.noun} matches '{typed}' ({text} hidden by the filter)")
            self.no_match.resize(self.view.viewport().size())
            self.no_match.show()
        else:
            self.no_match.hide()

    # -- a list read from the engine on demand -------------------------------------------------------
    def follow_engine(self, window, relevant, on_switch=None, reread_ms: int = 150) -> None:
        """Keep the list read from the window's engine: ``refresh()`` once connected, once after each burst
        of events for which ``relevant(event)`` holds (a compose project, a prune: one read), and on an
        engine switch, after ``on_switch()`` forgot what belonged to the old engine."""
        self._reread = QTimer(self)
        self._reread.setSingleShot(True)
        self._reread.setInterval(reread_ms)
        self._reread.timeout.connect(self.refresh)

        def attach(session) -> None:
            if on_switch is not None:
                on_switch()
            self.model.replace_all([])
            session.engineEvent.connect(lambda ev: relevant(ev) and self._reread.start())
            session.stateChanged.connect(lambda state, _m: state == "connected" and self.refresh())
            self.refresh()

        attach(window.session)
        window.engineChanged.connect(attach)

    def read_list(self, fn, show, what: str) -> None:
        """``fn()`` on the session's read pool, then ``show(result)`` unless the engine changed meanwhile
        (an old, maybe frozen, engine may still answer after a switch: never show that)."""
        session = self.main_window.session
        task = Task(self, fn, session.reads)
        task.done.connect(lambda result: session is self.main_window.session and show(result))
        task.failed.connect(unless_bug(lambda exc: self.statusMessage.emit(f"Could not list {what}: {message_of(exc)}")))
        task.start()

    # -- actions ------------------------------------------------------------------------------
    def add_actions(self, toolbar, prefix: str, specs) -> dict[str, QAction]:
        """Toolbar actions from ``(name, label, slot, needs)`` (needs: 0 none, 1 one row, 2 any rows);
        each is named ``<prefix><Name>`` for tests and icons. ``update_actions`` enables them."""
        made: dict[str, QAction] = {}
        for name, label, slot, needs in specs:
            act = QAction(label, self)
            act.setObjectName(f"{prefix}{name[:1].upper()}{name[1:]}")
            act.setProperty("needs", needs)
            act.triggered.connect(lambda _=False, s=slot: s())
            self.addAction(act)
            toolbar.addAction(act)
            made[name] = act
        self.view.selectionModel().selectionChanged.connect(lambda *_: self.update_actions(made))
        return made

    def update_actions(self, actions: dict[str, QAction]) -> None:
        n = len(self.selected_records())
        for act in actions.values():
            needs = act.property("needs")
            act.setEnabled(needs == 0 or (needs == 1 and n == 1) or (needs == 2 and n >= 1))

    def act_on_each(self, records: list, fn, title: str, done: str, pool, after=None) -> None:
        """``fn(record)`` for each record, one change after the other off the UI thread; one sentence per
        failure (the others still go), then ``done`` with the count ("Removed {n} volume(s)")."""
        def work() -> list[str]:
            failures = []
            for rec in records:
                try:
                    fn(rec)
                except Exception as exc:
                    if not expected(exc):
                        raise  # a bug: the crash reporter, not a sentence
                    failures.append(message_of(exc))  # shown per record, in the engine's words
            return failures

        def finished(failures: list[str]) -> None:
            if len(failures) < len(records):
                self.statusMessage.emit(done.format(n=len(records) - len(failures)))
            if failures:
                show_error(self, title, "\n".join(failures))
            if after is not None:
                after()

        Op(self, work, title).success(finished).run(pool)

    def selected_records(self) -> list:
        rows = self.view.selectionModel().selectedRows()
        return [self.proxy.data(i, RecordRole) for i in sorted(rows, key=lambda i: i.row())]
