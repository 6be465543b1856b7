"""The Images page: the live list plus run, tag, remove, prune and layer history."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMenu,
    QTableWidget,
    QTableWidgetItem,
    QToolBar,
    QVBoxLayout,
)

from gui.engine import EngineError, ImageInfo
from gui.qt.common.feedback import confirm, show_error
from gui.qt.common.list_page import ListPage
from gui.qt.common.table_models import ImageTableModel, exact_time, human_size
from gui.qt.common.tasks import Op
from gui.qt.common.tool_windows import ToolWindows


def image_ref(img: ImageInfo) -> str:
    """What to hand the engine for this row: the reference, or the id for an untagged image."""
    return img.id if img.reference.startswith("<none>") or img.reference.endswith(":<none>") else img.reference


class HistoryDialog(QDialog):
    def __init__(self, image: ImageInfo, layers, parent=None):
        super().__init__(parent)
        self.setObjectName("historyDialog")
        self.setWindowTitle(f"Layers of {image.reference}")
        self.resize(900, 420)
        table = QTableWidget(len(layers), 4, self)
        table.setObjectName("historyTable")
        table.setHorizontalHeaderLabels(["Created", "Size", "Created by", "Layer"])
        table.verticalHeader().setVisible(False)
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for row, layer in enumerate(layers):
            for col, text in enumerate((exact_time(layer.created), human_size(layer.size), layer.created_by,
                                        layer.id.split(":", 1)[-1][:12])):
                item = QTableWidgetItem(text)
                item.setToolTip(layer.created_by if col == 2 else text)
                table.setItem(row, col, item)
        table.resizeColumnsToContents()
        table.setColumnWidth(2, 520)
        total = sum(layer.size for layer in layers)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"{len(layers)} layers, {human_size(total)} in all", self))
        layout.addWidget(table)
        layout.addWidget(buttons)
        self.table = table


class ImagesPage(ListPage):
    statusMessage = Signal(str)
    deployRequested = Signal(str)  # an image reference: the main window opens the Cluster page's Deploy…

    def __init__(self, window, parent=None):
        super().__init__(ImageTableModel(window), "imagesView", "image", 3, parent)
        # The reference takes the room the window has, not "Created" (long cache and registry names were
        # cut while the last column stood half empty).
        header = self.view.horizontalHeader()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.resizeSection(3, 150)  # "about a month ago"
        self.main_window = window
        self.tool_windows = ToolWindows(window)
        window.engineChanged.connect(lambda _s: self.tool_windows.close_all())
        self.toolbar = QToolBar(self)
        self.toolbar.setObjectName("imagesToolbar")
        self.actions_by_name: dict[str, QAction] = {}
        for name, label, shortcut, slot, needs in (
            ("run", "Run…", "Ctrl+R", self.run_selected, 1),
            ("deploy", "Deploy as service…", "", self.deploy_selected, 1),
            ("tag", "Tag…", "Ctrl+T", self.tag_selected, 1),
            ("remove", "Remove", "Delete", self.remove_selected, 2),
            ("history", "History", "Ctrl+H", self.history_selected, 1),
            ("prune", "Prune dangling…", "", self.prune, 0),
            ("pull", "Pull…", "", self.pull, 0),
            ("push", "Push", "", self.push_selected, 1),
            ("login", "Log in…", "", self.login, 0),
            ("inspect", "Inspect", "", self.inspect_selected, 1),
        ):
            act = QAction(label, self)
            act.setObjectName(f"image{name.capitalize()}")
            act.setProperty("needs", needs)
            if shortcut:
                act.setShortcut(QKeySequence(shortcut))
                act.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            act.triggered.connect(lambda _=False, s=slot: s())
            self.addAction(act)
            self.toolbar.addAction(act)
            self.actions_by_name[name] = act
        self.filter = QLineEdit(self)
        self.filter.setObjectName("imagesFilter")
        self.filter.setPlaceholderText("Filter by name, tag or id (Ctrl+F)")
        self.add_filter_row(self.toolbar, self.filter)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._on_context_menu)
        self.view.doubleClicked.connect(lambda _i: self.run_selected())
        self.view.selectionModel().selectionChanged.connect(self._update_actions)
        self.model.rowsRemoved.connect(self._update_actions)
        self.last_dialog = None
        self._update_actions()

    # The modules of the actions (gui.engine.actions, reference, the inspect view) are imported when an
    # action is first used: none is needed before the window's first paint.
    def inspect_selected(self) -> None:
        from gui.qt.common.inspect_view import InspectView

        img = self._one()
        if img is not None:
            engine = self.main_window.session.engine
            self.tool_windows.show("inspect", img.key, f"Inspect: {img.reference}",
                                   lambda: InspectView(engine, img))

    def _update_actions(self, *args) -> None:
        n = len(self.selected_records())
        for act in self.actions_by_name.values():
            needs = act.property("needs")
            act.setEnabled(needs == 0 or (needs == 1 and n == 1) or (needs == 2 and n >= 1))

    def _on_context_menu(self, pos) -> None:
        if not self.view.indexAt(pos).isValid():
            return
        menu = QMenu(self)
        for act in self.actions_by_name.values():
            menu.addAction(act)
        menu.popup(self.view.viewport().mapToGlobal(pos))

    def _one(self) -> ImageInfo | None:
        sel = self.selected_records()
        return sel[0] if len(sel) == 1 else None

    # -- actions ----------------------------------------------------------------------
    def deploy_selected(self) -> None:
        img = self._one()
        if img is not None:
            self.deployRequested.emit(img.reference if not img.reference.startswith("<none>") else img.id)

    def run_selected(self) -> None:
        img = self._one()
        if img is None:
            return
        from gui.qt.common.run_dialog import RunDialog

        dlg = RunDialog(self.main_window.session, image_ref(img), self)
        dlg.started.connect(lambda name: self.statusMessage.emit(f"Container {name} started"))
        dlg.open()
        self.last_dialog = dlg

    def tag_selected(self) -> None:
        from gui.engine.reference import reference_error

        img = self._one()
        if img is None:
            return
        dlg = QInputDialog(self)
        dlg.setObjectName("tagDialog")
        dlg.setWindowTitle("Tag image")
        dlg.setLabelText(f"New reference for {img.reference} ({img.short_id}):")
        dlg.setTextValue(img.reference if not img.reference.startswith("<none>") else "")
        edit = dlg.findChild(QLineEdit)

        def validate(text: str) -> None:
            problem = reference_error(text.strip(), allow_digest=False)
            ok = dlg.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
            ok.setEnabled(problem is None)
            ok.setToolTip(problem or "")
            dlg.setLabelText(f"New reference for {img.reference} ({img.short_id}):"
                             + (f"\n⚠ {problem}" if problem and text else ""))

        if edit is not None:
            edit.textChanged.connect(validate)
        dlg.textValueSelected.connect(lambda text: self._tag(img, text.strip()))
        dlg.open()
        validate(dlg.textValue())
        self.last_dialog = dlg

    def _tag(self, img: ImageInfo, reference: str) -> None:
        from gui.engine.actions import tag_image

        session = self.main_window.session

        engine = session.engine
        Op(self, lambda: tag_image(engine, img.id, reference), "Tag failed").success(
            lambda _r: self.statusMessage.emit(f"Tagged {img.short_id} as {reference}")).run(session.changes)

    def remove_selected(self) -> None:
        images = self.selected_records()
        if not images:
            return
        names = ", ".join(i.reference for i in images[:8]) + (" …" if len(images) > 8 else "")
        info = ("Removing a tag only untags the image while other tags point at it; the last tag "
                "removes the image and its layers that nothing else uses. Containers keep running.")
        confirm(self, "Remove images?", f"Remove {names}?", "Remove",
                lambda force: self._remove(images, force), info,
                "Force (also when a stopped container uses it)")

    def _remove(self, images: list[ImageInfo], force: bool) -> None:
        from gui.engine.actions import remove_image

        session = self.main_window.session

        engine = session.engine

        def work() -> list[str]:
            failures = []
            for img in images:
                try:
                    remove_image(engine, image_ref(img), force)
                except EngineError as exc:
                    failures.append(f"{img.reference}: {exc}")
            return failures

        def finished(failures: list[str]) -> None:
            if len(failures) < len(images):
                self.statusMessage.emit(f"Removed {len(images) - len(failures)} image reference(s)")
            if failures:
                show_error(self, "Remove failed", "\n".join(failures))

        Op(self, work, "Remove failed").success(finished).run(session.changes)

    def history_selected(self) -> None:
        from gui.engine.actions import image_history

        img = self._one()
        if img is None:
            return
        session = self.main_window.session

        engine = session.engine

        def show(layers) -> None:
            dlg = HistoryDialog(img, layers, self)
            dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            dlg.show()
            self.last_dialog = dlg

        Op(self, lambda: image_history(engine, img.id), "History failed").success(show).run(session.reads)

    # -- registries --------------------------------------------------------------------
    def pull(self, reference: str = "") -> None:
        if not reference:
            dlg = QInputDialog(self)
            dlg.setObjectName("pullDialog")
            dlg.setWindowTitle("Pull image")
            dlg.setLabelText("Image to pull (for example 127.0.0.1:5000/team/model:v1):")
            dlg.textValueSelected.connect(lambda text: self.pull(text.strip()) if text.strip() else None)
            dlg.open()
            self.last_dialog = dlg
            return
        self._transfer("pull", reference)

    def push_selected(self) -> None:
        img = self._one()
        if img is None:
            return
        if img.reference.startswith("<none>") or img.reference.endswith(":<none>"):
            show_error(self, "Push", "Give the image a tag first (Tag…): an untagged image cannot be pushed.")
            return
        self._transfer("push", img.reference)

    def _transfer(self, kind: str, reference: str) -> None:
        from gui.qt.images.transfer_dialog import TransferDialog

        dlg = TransferDialog(self.main_window.session.engine, kind, reference, self)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.succeeded.connect(lambda _r: self.statusMessage.emit(f"{kind.capitalize()} of {reference} done"))
        dlg.show()
        dlg.start()
        self.last_dialog = dlg

    def login(self) -> None:
        from gui.qt.images.login_dialog import LoginDialog

        img = self._one()
        registry = ""
        if img is not None and "/" in img.reference:
            first = img.reference.split("/", 1)[0]
            registry = first if any(c in first for c in ".:") or first == "localhost" else ""
        dlg = LoginDialog(self.main_window.session.engine, registry, self)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.loggedIn.connect(lambda reg, user: self.statusMessage.emit(f"Logged in to {reg} as {user}"))
        dlg.open()
        self.last_dialog = dlg

    def prune(self) -> None:
        confirm(self, "Prune dangling images?", "Remove every dangling image (<none>:<none>)?", "Prune",
                lambda _c: self._prune(),
                "Dangling images have no tag and no container uses them; their space is given back.")

    def _prune(self) -> None:
        from gui.engine.actions import prune_dangling_images

        session = self.main_window.session

        engine = session.engine
        Op(self, lambda: prune_dangling_images(engine), "Prune failed").success(
            lambda result: self.statusMessage.emit(f"Pruned {len(result.deleted)} image(s), "
                                                   f"{human_size(result.space_reclaimed)} reclaimed"),
        ).run(session.changes)
