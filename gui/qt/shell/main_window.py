"""The main window: engine status and banner, and the Containers, Images, Build and Predict pages."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from gui import APP_NAME
from gui.engine import EngineInfo
from gui.qt.common import style
from gui.qt.containers.page import ContainersPage
from gui.qt.images.page import ImagesPage
from gui.qt.shell.disk_warning import DiskWarning
from gui.qt.shell.engine_switcher import EngineSwitcher
from gui.qt.shell.menus import make_menus
from gui.qt.shell.session import EngineSession

# The sidebar's pages: (tab title, icon key in style.ICONS).
PAGE_ICONS = {"Containers": "containers", "Images": "images", "Build": "build", "Predict": "predict",
              "Volumes": "volumes", "Networks": "networks", "Disk space": "disk", "Cluster": "cluster"}


def default_size() -> QSize:
    """80 % of the screen's available area (what the window opens at before it remembers a size)."""
    screen = QGuiApplication.primaryScreen()
    if screen is None:
        return QSize(1100, 700)
    area = screen.availableGeometry()
    return QSize(max(900, int(area.width() * 0.8)), max(600, int(area.height() * 0.8)))


class EngineBanner(QFrame):
    """Shown while the engine is not reachable: the reason and a Retry button."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("engineBanner")  # coloured by the application stylesheet (style.py)
        self.text = QLabel(self)
        self.text.setObjectName("engineBannerText")
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.retry = QPushButton("Retry", self)
        self.retry.setObjectName("engineRetry")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.retry)
        self.hide()

    def show_reason(self, message: str) -> None:
        self.text.setText(f"<b>Not connected.</b> {message} The app retries by itself; "
                          "the lists show the last known state.")
        self.show()


class MainWindow(QMainWindow):
    engineChanged = Signal(object)  # the new EngineSession
    closing = Signal()  # the window is closing: pages stop their work (not an event filter on the window:
    # a Python filter there is entered for every event the window gets, each of its paints included)

    def __init__(self, session: EngineSession, parent=None):
        super().__init__(parent)
        self.session = session
        self.setWindowTitle(APP_NAME)
        self.setObjectName("mainWindow")
        self.resize(default_size())

        self.containers_page = ContainersPage(self, self)
        self.images_page = ImagesPage(self, self)
        self.containers_model = self.containers_page.model
        self.images_model = self.images_page.model
        for page in (self.containers_page, self.images_page):
            page.statusMessage.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.containers_page.predictRequested.connect(self.predict_with)
        self.containers_page.exportRequested.connect(lambda cid: self.cluster_page.export_container(cid))
        self.images_page.deployRequested.connect(self.deploy_as_service)
        self.containers_view = self.containers_page.view
        self.images_view = self.images_page.view

        self.pages = QTabWidget(self)
        self.pages.setObjectName("pages")
        self.pages.setDocumentMode(True)
        self.pages.addTab(self.containers_page, "Containers")
        self.pages.addTab(self.images_page, "Images")
        # Build and Predict are made when first opened: the window shows (and lists the engine)
        # without importing the builder, Jinja and Pillow first.
        self._lazy: dict[int, tuple[str, object]] = {}
        self._made: dict[str, QWidget] = {}
        self._add_lazy_page("Build", "build", self._make_build_page)
        self._add_lazy_page("Predict", "predict", self._make_predict_page)
        self._add_lazy_page("Volumes", "volumes", self._make_volumes_page)
        self._add_lazy_page("Networks", "networks", self._make_networks_page)
        self._add_lazy_page("Disk space", "disk", self._make_disk_page)
        self._add_lazy_page("Cluster", "cluster", self._make_cluster_page)
        self.pages.currentChanged.connect(self._materialize)

        # A sidebar shows the pages (icon and name) and the engine; `pages` stays the QTabWidget
        # that holds them (its tab bar hidden), so pages.setCurrentWidget/tabText work as before.
        self.pages.tabBar().hide()
        sidebar_panel = QWidget(self)
        sidebar_panel.setObjectName("sidebarPanel")
        sidebar_panel.setFixedWidth(200)
        side = QVBoxLayout(sidebar_panel)
        side.setContentsMargins(0, 0, 0, 10)
        side.setSpacing(4)
        title = QLabel(APP_NAME, sidebar_panel)
        title.setObjectName("sidebarTitle")
        side.addWidget(title)
        self.sidebar = QListWidget(sidebar_panel)
        self.sidebar.setObjectName("sidebar")
        self.sidebar.setIconSize(QSize(22, 22))
        self.sidebar.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        for i in range(self.pages.count()):
            item = QListWidgetItem(self.pages.tabText(i), self.sidebar)
            item.setToolTip(f"{self.pages.tabText(i)} (Ctrl+{i + 1})")
        self.sidebar.setCurrentRow(self.pages.currentIndex())
        self.sidebar.currentRowChanged.connect(self._on_sidebar_row)
        self.pages.currentChanged.connect(self._on_page_changed)
        side.addWidget(self.sidebar, 1)
        engine_label = QLabel("Engine", sidebar_panel)
        engine_label.setObjectName("sidebarEngineLabel")
        self.engine_switcher = EngineSwitcher(session.target, parent=sidebar_panel)
        self.engine_switcher.engineChosen.connect(self.switch_engine)
        engine_box = QVBoxLayout()
        engine_box.setContentsMargins(10, 0, 10, 0)
        engine_box.addWidget(engine_label)
        engine_box.addWidget(self.engine_switcher)
        side.addLayout(engine_box)
        for i in range(self.pages.count()):
            shortcut = QShortcut(QKeySequence(f"Ctrl+{i + 1}"), self)
            shortcut.activated.connect(lambda i=i: self.pages.setCurrentIndex(i))

        self.banner = EngineBanner(self)
        self.banner.retry.clicked.connect(self._on_retry)
        content = QWidget(self)
        layout = QVBoxLayout(content)
        layout.setContentsMargins(6, 6, 6, 0)
        layout.addWidget(self.banner)
        layout.addWidget(self.pages, 1)
        central = QWidget(self)
        row = QHBoxLayout(central)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(sidebar_panel)
        row.addWidget(content, 1)
        self.setCentralWidget(central)
        self._decorate()
        style.notifier.changed.connect(self._decorate)

        self.engine_status = QLabel(self)
        self.engine_status.setObjectName("engineStatus")
        self.engine_status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.statusBar().addWidget(self.engine_status, 1)
        make_menus(self)
        self.disk_warning = DiskWarning(self)

        self._attach(session)

    # -- pages made on first use ---------------------------------------------------------
    def _add_lazy_page(self, title: str, key: str, make) -> None:
        holder = QWidget(self)
        holder.setObjectName(f"{key}PageHolder")
        index = self.pages.addTab(holder, title)
        self._lazy[index] = (key, make)

    def _decorate(self) -> None:
        """Icons in the theme's colours on the sidebar and on every page made so far."""
        for i in range(self.sidebar.count()):
            key = PAGE_ICONS.get(self.sidebar.item(i).text())
            if key:
                self.sidebar.item(i).setIcon(style.icon(style.ICONS[key]))
        for i in range(self.pages.count()):
            style.decorate(self.pages.widget(i))
        style.decorate(self.banner)

    def _on_sidebar_row(self, row: int) -> None:
        if 0 <= row < self.pages.count():
            self.pages.setCurrentIndex(row)

    def _on_page_changed(self, index: int) -> None:
        if self.sidebar.currentRow() != index:
            self.sidebar.blockSignals(True)
            self.sidebar.setCurrentRow(index)
            self.sidebar.blockSignals(False)

    def _materialize(self, index: int) -> None:
        entry = self._lazy.pop(index, None)
        if entry is None:
            return
        key, make = entry
        title = self.pages.tabText(index)
        holder = self.pages.widget(index)
        page = make()
        self._made[key] = page
        self.pages.blockSignals(True)
        current = self.pages.currentIndex()
        self.pages.removeTab(index)
        self.pages.insertTab(index, page, title)
        self.pages.setCurrentIndex(current)
        self.pages.blockSignals(False)
        holder.deleteLater()
        style.decorate(page)

    def _page(self, key: str) -> QWidget:
        if key not in self._made:
            index = next(i for i, (k, _m) in self._lazy.items() if k == key)
            self._materialize(index)
        return self._made[key]

    def _make_build_page(self) -> QWidget:
        from gui.qt.build.page import BuildPage

        page = BuildPage(self, self)
        page.predictRequested.connect(self.predict_with)
        page.deployRequested.connect(self.deploy_as_service)
        return page

    def _make_predict_page(self) -> QWidget:
        from gui.qt.predict.page import PredictPage

        return PredictPage(self, self)

    def _make_volumes_page(self) -> QWidget:
        from gui.qt.volumes.page import VolumesPage

        return self._with_status(VolumesPage(self, self))

    def _make_networks_page(self) -> QWidget:
        from gui.qt.networks.page import NetworksPage

        return self._with_status(NetworksPage(self, self))

    def _make_disk_page(self) -> QWidget:
        from gui.qt.disk.page import DiskPage

        return self._with_status(DiskPage(self, self))

    def _make_cluster_page(self) -> QWidget:
        from gui.qt.cluster.page import ClusterPage

        page = ClusterPage(self, self)
        page.predictRequested.connect(self.predict_with_service)
        return self._with_status(page)

    def predict_with_service(self, service_name: str) -> None:
        """Open the Predict page with this swarm service chosen (pictures spread over its replicas)."""
        page = self.predict_page
        self.pages.setCurrentWidget(page)
        page.choose_service(service_name)

    def deploy_as_service(self, image_ref: str) -> None:
        """Open the Cluster page's *Deploy as service…* for this image (Images and Build pages ask)."""
        page = self.cluster_page
        self.pages.setCurrentWidget(page)
        page.deploy(image_ref)

    def _with_status(self, page: QWidget) -> QWidget:
        page.statusMessage.connect(lambda text: self.statusBar().showMessage(text, 8000))
        return page

    @property
    def volumes_page(self):
        return self._page("volumes")

    @property
    def networks_page(self):
        return self._page("networks")

    @property
    def cluster_page(self):
        return self._page("cluster")

    @property
    def disk_page(self):
        return self._page("disk")

    @property
    def build_page(self):
        return self._page("build")

    @property
    def predict_page(self):
        return self._page("predict")

    def predict_with(self, container_name: str) -> None:
        """Open the Predict page with this container chosen (once it is listed, running and healthy)."""
        page = self.predict_page
        self.pages.setCurrentWidget(page)
        page.choose_container(container_name)

    def _attach(self, session: EngineSession) -> None:
        self.session = session
        session.stateChanged.connect(self._on_state)
        session.infoChanged.connect(self._on_info)
        session.imagesLoaded.connect(self.images_model.replace_all)
        session.containersLoaded.connect(self.containers_page.fill)  # the first fill sorted in Python
        session.containersChanged.connect(self._on_containers_changed)
        self._on_state(session.state, session.message)

    def switch_engine(self, target) -> EngineSession:
        """Talk to another engine: the old session's streams close, the lists fill from the new one."""
        old = self.session
        for sig in (old.stateChanged, old.infoChanged, old.imagesLoaded, old.containersLoaded,
                    old.containersChanged):
            sig.disconnect()
        old.close()
        old.deleteLater()
        self.images_model.replace_all([])
        self.containers_model.replace_all([])
        session = EngineSession(target, self)
        self._attach(session)
        if self.engine_switcher.current is None or self.engine_switcher.current.url != target.url:
            self.engine_switcher.set_current(target)
        session.start()
        self.engineChanged.emit(session)
        return session

    def use_engine_url(self, url: str) -> None:
        """A later launch asked for ``--engine url``: switch to it (and say so), unless it is in use."""
        from gui.engine import EngineError, resolve_engine

        try:
            target = resolve_engine(url)
        except (EngineError, ValueError) as exc:
            self.statusBar().showMessage(f"Cannot use the engine {url} asked for by a new launch: {exc}", 15000)
            return
        if target.url == self.session.target.url:
            return
        self.switch_engine(target)
        self.statusBar().showMessage(f"Switched to the engine {target.url}, asked for by a new launch", 15000)

    # -- handlers ---------------------------------------------------------------------
    def _on_state(self, state: str, message: str) -> None:
        url = self.session.target.url
        if state == "connected":
            self.banner.hide()
            self._on_info(self.session.info)
        elif state == "connecting":
            self.engine_status.setText(f"◌ Connecting to {url}…")
            style.set_role(self.engine_status, "muted")
        else:
            self.engine_status.setText(f"● Not connected: {url}")
            style.set_role(self.engine_status, "error")
            self.banner.show_reason(message)
            self.banner.retry.setEnabled(True)

    def _on_info(self, info: EngineInfo | None) -> None:
        if self.session.state != "connected":
            return
        version = f" (Docker Engine {info.version}, API {info.api_version})" if info else ""
        self.engine_status.setText(f"● Connected to {self.session.target.url}{version}")
        style.set_role(self.engine_status, "ok")
        self.engine_status.setToolTip(f"Engine chosen by: {self.session.target.source}")

    def _on_containers_changed(self, upserts: list, removed: list) -> None:
        self.containers_model.remove_keys(removed)
        self.containers_model.upsert(upserts)

    def _on_retry(self) -> None:
        self.banner.retry.setEnabled(False)
        self.session.retry()

    def closeEvent(self, event) -> None:
        self.closing.emit()
        self.containers_page.tool_windows.close_all()
        self.images_page.tool_windows.close_all()
        if "volumes" in self._made:  # an open file browser's helper container goes with it
            for browser in list(self._made["volumes"].browsers.values()):
                browser.close()
        self.containers_page.stats_panel.follow(None)
        self.session.close()
        super().closeEvent(event)
