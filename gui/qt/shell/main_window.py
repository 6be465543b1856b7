"""The main window: engine status and banner, and the Containers, Images, Build and Predict pages."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from gui import APP_NAME
from gui.engine import EngineInfo
from gui.qt.containers.page import ContainersPage
from gui.qt.containers.tools import install_container_tools, install_image_tools
from gui.qt.images.page import ImagesPage
from gui.qt.shell.engine_switcher import EngineSwitcher
from gui.qt.shell.session import EngineSession

BANNER_STYLE = """
QFrame#engineBanner { background: #fdecea; border: 1px solid #f5c2c0; border-radius: 4px; }
QLabel#engineBannerText { color: #611a15; }
"""


class EngineBanner(QFrame):
    """Shown while the engine is not reachable: the reason and a Retry button."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("engineBanner")
        self.setStyleSheet(BANNER_STYLE)
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

    def __init__(self, session: EngineSession, parent=None):
        super().__init__(parent)
        self.session = session
        self.setWindowTitle(APP_NAME)
        self.setObjectName("mainWindow")
        self.resize(1100, 700)

        self.containers_page = ContainersPage(self, self)
        self.images_page = ImagesPage(self, self)
        install_container_tools(self.containers_page)
        install_image_tools(self.images_page)
        self.containers_model = self.containers_page.model
        self.images_model = self.images_page.model
        for page in (self.containers_page, self.images_page):
            page.statusMessage.connect(lambda text: self.statusBar().showMessage(text, 8000))
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
        self.pages.currentChanged.connect(self._materialize)

        corner = QWidget(self)
        corner_layout = QHBoxLayout(corner)
        corner_layout.setContentsMargins(0, 0, 4, 2)
        corner_layout.addWidget(QLabel("Engine:", corner))
        self.engine_switcher = EngineSwitcher(session.target, parent=corner)
        self.engine_switcher.engineChosen.connect(self.switch_engine)
        corner_layout.addWidget(self.engine_switcher)
        self.pages.setCornerWidget(corner, Qt.Corner.TopRightCorner)

        self.banner = EngineBanner(self)
        self.banner.retry.clicked.connect(self._on_retry)
        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(6, 6, 6, 0)
        layout.addWidget(self.banner)
        layout.addWidget(self.pages, 1)
        self.setCentralWidget(central)

        self.engine_status = QLabel(self)
        self.engine_status.setObjectName("engineStatus")
        self.engine_status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.statusBar().addWidget(self.engine_status, 1)

        self._attach(session)

    # -- pages made on first use ---------------------------------------------------------
    def _add_lazy_page(self, title: str, key: str, make) -> None:
        holder = QWidget(self)
        holder.setObjectName(f"{key}PageHolder")
        index = self.pages.addTab(holder, title)
        self._lazy[index] = (key, make)

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

    def _page(self, key: str) -> QWidget:
        if key not in self._made:
            index = next(i for i, (k, _m) in self._lazy.items() if k == key)
            self._materialize(index)
        return self._made[key]

    def _make_build_page(self) -> QWidget:
        from gui.qt.build.page import BuildPage

        return BuildPage(self, self)

    def _make_predict_page(self) -> QWidget:
        from gui.qt.predict.page import PredictPage

        return PredictPage(self, self)

    @property
    def build_page(self):
        return self._page("build")

    @property
    def predict_page(self):
        return self._page("predict")

    def _attach(self, session: EngineSession) -> None:
        self.session = session
        session.stateChanged.connect(self._on_state)
        session.infoChanged.connect(self._on_info)
        session.imagesLoaded.connect(self.images_model.replace_all)
        session.containersLoaded.connect(self.containers_model.replace_all)
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

    # -- handlers ---------------------------------------------------------------------
    def _on_state(self, state: str, message: str) -> None:
        url = self.session.target.url
        if state == "connected":
            self.banner.hide()
            self._on_info(self.session.info)
        elif state == "connecting":
            self.engine_status.setText(f"◌ Connecting to {url}…")
        else:
            self.engine_status.setText(f"● Not connected: {url}")
            self.engine_status.setStyleSheet("color: #b3261e;")
            self.banner.show_reason(message)
            self.banner.retry.setEnabled(True)

    def _on_info(self, info: EngineInfo | None) -> None:
        if self.session.state != "connected":
            return
        version = f" (Docker Engine {info.version}, API {info.api_version})" if info else ""
        self.engine_status.setText(f"● Connected to {self.session.target.url}{version}")
        self.engine_status.setStyleSheet("color: #1e7b34;")
        self.engine_status.setToolTip(f"Engine chosen by: {self.session.target.source}")

    def _on_containers_changed(self, upserts: list, removed: list) -> None:
        self.containers_model.remove_keys(removed)
        self.containers_model.upsert(upserts)

    def _on_retry(self) -> None:
        self.banner.retry.setEnabled(False)
        self.session.retry()

    def closeEvent(self, event) -> None:
        self.containers_page.tool_windows.close_all()
        self.images_page.tool_windows.close_all()
        self.containers_page.stats_panel.follow(None)
        self.session.close()
        super().closeEvent(event)
