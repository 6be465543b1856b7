"""The Volumes page (`volumesView`): live list, create, remove, prune unused, sizes on demand, browse files."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QToolBar,
    QVBoxLayout,
)

from gui.engine.volumes import (
    VolumeInfo,
    create_volume,
    list_volumes,
    prune_volumes,
    remove_volume,
    unused_volumes,
    volume_name_error,
    volume_usage,
    volume_users,
)
from gui.qt.common import style
from gui.qt.common.feedback import confirm
from gui.qt.common.list_page import ListPage
from gui.qt.common.table_models import Column, RecordTableModel, human_size
from gui.qt.common.tasks import Op
from gui.qt.volumes.browser import VolumeBrowser


@dataclass(frozen=True)
class VolumeRow:
    """A volume as the table shows it: the engine's record, its size once read (None: not yet, -1:
    unknown) and the containers that mount it."""

    info: VolumeInfo
    size: int | None = None
    users: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return self.info.name

    @property
    def id(self) -> str:
        return self.info.name

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def size_text(self) -> str:
        if self.size is None:
            return "…"
        return "unknown" if self.size < 0 else human_size(self.size)

    @property
    def used_by(self) -> str:
        return ", ".join(self.users)


class VolumeTableModel(RecordTableModel):
    """Volumes; sizes are filled in afterwards (``set_sizes``): they cost the engine a walk of every volume."""

    COLUMNS = (
        Column("Name", lambda r: r.name),
        Column("Driver", lambda r: r.info.driver),
        Column("Size", lambda r: r.size_text, lambda r: -2 if r.size is None else r.size),
        Column("Used by", lambda r: r.used_by),
        Column("Mount point", lambda r: r.info.mountpoint, tooltip=lambda r: r.info.mountpoint),
        Column("Labels", lambda r: ", ".join(f"{k}={v}" for k, v in r.info.labels)),
        Column("Created", lambda r: r.info.created.replace("T", " ")[:19]),
    )

    def __init__(self, parent=None):
        super().__init__(parent)
        self.sizes: dict[str, int] = {}

    def set_volumes(self, volumes: list[VolumeInfo], users: dict[str, list[str]]) -> None:
        self.replace_all([VolumeRow(v, self.sizes.get(v.name), tuple(sorted(users.get(v.name, ()))))
                          for v in volumes])

    def set_sizes(self, sizes: dict[str, int]) -> None:
        self.sizes = dict(sizes)
        self.upsert([VolumeRow(r.info, self.sizes.get(r.name), r.users) for r in self.records()])


class CreateVolumeDialog(QDialog):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("createVolumeDialog")
        self.setWindowTitle("Create volume")
        self.name = QLineEdit(self)
        self.name.setObjectName("volumeName")
        self.name.setPlaceholderText("empty: the engine picks a name")
        self.driver = QLineEdit("local", self)
        self.driver.setObjectName("volumeDriver")
        self.labels = QPlainTextEdit(self)
        self.labels.setObjectName("volumeLabels")
        self.labels.setPlaceholderText("key=value, one per line")
        self.labels.setFixedHeight(70)
        self.problem = QLabel(self)
        self.problem.setObjectName("volumeProblem")
        style.set_role(self.problem, "error")
        form = QFormLayout()
        form.addRow("Name:", self.name)
        form.addRow("Driver:", self.driver)
        form.addRow("Labels:", self.labels)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel,
                                        self)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Create")
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        for sig in (self.name.textChanged, self.labels.textChanged, self.driver.textChanged):
            sig.connect(self._check)
        self._check()

    def values(self) -> tuple[str, str, dict[str, str], list[str]]:
        problems = []
        name = self.name.text().strip()
        if (why := volume_name_error(name)) is not None:
            problems.append(why)
        labels = {}
        for n, line in enumerate(self.labels.toPlainText().splitlines(), 1):
            if not line.strip():
                continue
            key, eq, value = line.partition("=")
            if not eq or not key.strip():
                problems.append(f"label line {n} is not key=value")
                continue
            labels[key.strip()] = value.strip()
        if not self.driver.text().strip():
            problems.append("a volume needs a driver (local is the engine's own)")
        return name, self.driver.text().strip(), labels, problems

    def _check(self) -> None:
        *_, problems = self.values()
        self.problem.setText("\n".join(f"⚠ {p}" for p in problems))
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not problems)


class VolumesPage(ListPage):
    statusMessage = Signal(str)
    sort_order = Qt.SortOrder.AscendingOrder  # by name, A to Z

    def __init__(self, window, parent=None):
        super().__init__(VolumeTableModel(), "volumesView", "volume", 0, parent)
        self.main_window = window
        self.browsers: dict[str, VolumeBrowser] = {}
        self.last_dialog = None
        self.toolbar = QToolBar(self)
        self.toolbar.setObjectName("volumesToolbar")
        self.actions_by_name = self.add_actions(self.toolbar, "volume", (
            ("create", "Create…", self.create, 0),
            ("browse", "Browse files", self.browse_selected, 1),
            ("remove", "Remove", self.remove_selected, 2),
            ("prune", "Prune unused…", self.prune, 0),
            ("sizes", "Read sizes", self.read_sizes, 0),
        ))
        self.filter = QLineEdit(self)
        self.filter.setObjectName("volumesFilter")
        self.filter.setPlaceholderText("Filter by name, driver or container (Ctrl+F)")
        self.add_filter_row(self.toolbar, self.filter)
        self.view.doubleClicked.connect(lambda _i: self.browse_selected())
        self.follow_engine(window, lambda ev: ev.type == "volume"
                           or (ev.type == "container" and ev.action in ("create", "destroy")), self._forget)
        self._update_actions()

    # -- engine -----------------------------------------------------------------------------
    @property
    def session(self):
        return self.main_window.session

    def _forget(self) -> None:
        """The engine changed: browsers on the old one would do nothing; sizes were the old engine's."""
        for browser in list(self.browsers.values()):
            browser.close()
        self.model.sizes = {}

    def refresh(self) -> None:
        """Read the list and who uses each volume (cheap); sizes only when asked (the costly df call)."""
        engine = self.session.engine
        self.read_list(lambda: (list_volumes(engine), volume_users(engine)), self._on_listed, "volumes")

    def _on_listed(self, result) -> None:
        vols, users = result
        self.model.set_volumes(vols, users)
        self._update_actions()

    def read_sizes(self) -> None:
        engine = self.session.engine
        self.statusMessage.emit("Reading volume sizes (the engine walks every volume)…")

        def sizes_read(usage) -> None:
            self.model.set_sizes({k: u.size for k, u in usage.items()})
            self.statusMessage.emit(f"Sizes of {len(usage)} volume(s) read")

        Op(self, lambda: volume_usage(engine), "Could not read volume sizes").success(sizes_read).run(
            self.session.reads)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self.model.sizes:
            QTimer.singleShot(0, self, self.read_sizes)  # once shown: the list first, sizes after

    # -- actions ----------------------------------------------------------------------------
    def _update_actions(self, *args) -> None:
        self.update_actions(self.actions_by_name)

    def create(self) -> None:
        dlg = CreateVolumeDialog(self)
        engine = self.session.engine

        def accept() -> None:
            name, driver, labels, problems = dlg.values()
            if problems:
                return
            dlg.buttons.setEnabled(False)
            Op(dlg, lambda: create_volume(engine, name, driver, labels)).success(
                lambda v: (dlg.accept(), self.statusMessage.emit(f"Created volume {v.name}"), self.refresh())
            ).failure(lambda exc: (dlg.problem.setText(f"⚠ {exc}"), dlg.buttons.setEnabled(True))).run(
                self.session.changes)

        dlg.buttons.accepted.connect(accept)
        dlg.open()
        self.last_dialog = dlg

    def remove_selected(self) -> None:
        rows = self.selected_records()
        if not rows:
            return
        names = [r.name for r in rows]
        in_use = [f"{r.name} (used by {r.used_by})" for r in rows if r.used_by]
        info = "Its files are deleted for good." if len(names) == 1 else "Their files are deleted for good."
        if in_use:
            info += "\n\nIn use, so the engine will refuse: " + "; ".join(in_use)
        engine = self.session.engine
        confirm(self, "Remove volumes?", f"Remove {', '.join(names[:8])}{' …' if len(names) > 8 else ''}?",
                "Remove", lambda _c: self.act_on_each(names, lambda n: remove_volume(engine, n), "Remove failed",
                                                      "Removed {n} volume(s)", self.session.changes, self.refresh),
                info)

    def prune(self) -> None:
        """Show exactly which unused volumes go and how much space comes back, then ask."""
        engine = self.session.engine

        def ask(unused) -> None:
            if not unused:
                self.statusMessage.emit("No unused volumes: every volume is used by a container")
                return
            known = sum(u.size for u in unused if u.size > 0)
            lines = [f"{u.name}  ({human_size(u.size) if u.size >= 0 else 'size unknown'})" for u in unused]
            names = [u.name for u in unused]
            confirm(self, "Prune unused volumes?",
                    f"Remove {len(unused)} unused volume(s), freeing {human_size(known)}?", "Prune",
                    lambda _c: Op(self, lambda: prune_volumes(engine, names), "Prune failed").success(
                        lambda r: (self.statusMessage.emit(
                            f"Pruned {len(r[0])} volume(s), {human_size(r[1])} freed"), self.refresh())
                    ).run(self.session.changes),
                    "No container uses these; their files are deleted for good:\n" + "\n".join(lines[:30])
                    + ("\n…" if len(lines) > 30 else ""))

        Op(self, lambda: unused_volumes(engine), "Could not read the volumes").success(ask).run(self.session.reads)

    def browse_selected(self) -> None:
        rows = self.selected_records()
        if len(rows) == 1:
            self.browse(rows[0].name)

    def _forget_browser(self, name: str, browser: VolumeBrowser) -> None:
        if self.browsers.get(name) is browser:  # not a newer one on the same volume
            del self.browsers[name]

    def browse(self, name: str) -> VolumeBrowser:
        existing = self.browsers.get(name)
        if existing is not None and existing.isVisible():  # a closed one waits for deletion: a new one then
            existing.show()
            existing.raise_()
            return existing
        browser = VolumeBrowser(self.session, name, self)
        browser.destroyed.connect(lambda _=None, n=name, b=browser: self._forget_browser(n, b))
        self.browsers[name] = browser
        browser.show()
        return browser
