"""The look: dark and light themes, sidebar with icons, state badges, window size, headers never cut."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QComboBox, QLabel, QPushButton, QTableView, QWidget

from gui.app import create_window, ensure_app
from gui.engine import ContainerInfo
from gui.qt.common import style
from gui.qt.common.badges import StateBadgeDelegate, badge_state
from gui.qt.common.run_dialog import EditableTable
from gui.qt.common.table_models import ContainerTableModel


def _luminance(c) -> float:
    def chan(v: float) -> float:
        v /= 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
    return 0.2126 * chan(c.red()) + 0.7152 * chan(c.green()) + 0.0722 * chan(c.blue())


def contrast(a, b) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


@pytest.fixture
def theme(monkeypatch):
    """Apply a forced theme; afterwards the app goes back to the system theme and its own style."""
    app = ensure_app()
    style_name = app.style().name()

    def use(name: str) -> QApplication:
        monkeypatch.setenv(style.THEME_ENV, name)
        style.apply_theme(app)
        return app

    yield use
    monkeypatch.delenv(style.THEME_ENV, raising=False)
    style.apply_theme(app)
    app.setStyle(style_name)
    app.setPalette(app.style().standardPalette())


@pytest.mark.parametrize("name", ["dark", "light"])
def test_theme_gives_readable_window(qtbot, theme, name):
    theme(name)
    w = QWidget()
    qtbot.addWidget(w)
    error = QLabel("Port 8080 is already used", w)
    style.set_role(error, "error")
    ok = QLabel("Connected", w)
    style.set_role(ok, "ok")
    w.show()
    pal = w.palette()
    window, text = pal.color(QPalette.ColorRole.Window), pal.color(QPalette.ColorRole.WindowText)
    assert (window.lightness() < 80) == (name == "dark")
    assert style.is_dark() == (name == "dark")
    assert contrast(window, text) >= 7
    assert contrast(pal.color(QPalette.ColorRole.Base), pal.color(QPalette.ColorRole.Text)) >= 7
    # The roles read on that background, and the stylesheet really paints them.
    for role in ("error", "ok", "warning", "muted", "link", "accent"):
        assert contrast(style.color(role), window) >= 4.5, role
    assert error.palette().color(QPalette.ColorRole.WindowText) == style.color("error")
    assert ok.palette().color(QPalette.ColorRole.WindowText) == style.color("ok")


@pytest.mark.parametrize("name", ["dark", "light"])
def test_a_disabled_control_looks_disabled(qtbot, theme, name):
    """Its text is dimmed (a forced theme's palette set every colour group alike: disabled looked enabled)."""
    theme(name)
    button = QPushButton("Cancel")
    qtbot.addWidget(button)
    button.setEnabled(False)
    pal = button.palette()
    G, R = QPalette.ColorGroup, QPalette.ColorRole
    for role, back in ((R.ButtonText, R.Button), (R.WindowText, R.Window), (R.Text, R.Base)):
        on = contrast(pal.color(G.Active, role), pal.color(G.Active, back))
        off = contrast(pal.color(G.Disabled, role), pal.color(G.Disabled, back))
        assert 2 <= off <= on / 2, (role, on, off)


def test_every_badge_role_has_white_text_contrast():
    ensure_app()
    white = QGuiApplication.palette().color(QPalette.ColorRole.Base)
    white.setRgb(255, 255, 255)
    for state in style.BADGES:
        assert contrast(style.color(f"badge-{state}"), white) >= 4.5, state


def _container(name: str, state: str, status: str = "") -> ContainerInfo:
    return ContainerInfo(id=f"id-{name}", name=name, image="busybox", state=state, status=status, created=0.0)


def test_state_badges_are_painted_in_their_colour(qtbot):
    ensure_app()
    model = ContainerTableModel()
    records = [_container("a", "running", "Up 1 minute"), _container("b", "paused"),
               _container("c", "exited", "Exited (0)"), _container("d", "running", "Up 2 minutes (unhealthy)")]
    model.upsert(records)
    assert [badge_state(r) for r in records] == ["running", "paused", "exited", "unhealthy"]
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.setItemDelegateForColumn(2, StateBadgeDelegate(view))
    view.resize(700, 200)
    view.show()
    qtbot.waitExposed(view)
    image = view.viewport().grab().toImage()
    for row, record in enumerate(records):
        rect = view.visualRect(model.index(row, 2))
        want = style.color(f"badge-{badge_state(record)}")
        colours = {image.pixelColor(x, rect.center().y()).name() for x in range(rect.left(), rect.right())}
        assert want.name() in colours, (record.state, want.name())


def test_run_dialog_headers_are_not_cut(qtbot):
    ensure_app()
    table = EditableTable("runPorts", ["Host IP", "Host port (empty: any free)", "Container port", "Protocol"])
    qtbot.addWidget(table)
    table.resize(560, 120)
    table.show()
    qtbot.waitExposed(table)
    header = table.table.horizontalHeader()
    fm = header.fontMetrics()
    for section in range(header.count()):
        text = table.table.horizontalHeaderItem(section).text()
        assert header.sectionSize(section) >= fm.horizontalAdvance(text), text


def test_sidebar_window_size_and_list_headers(qtbot):
    w = create_window("unix:///nonexistent/docker.sock")  # no engine needed for the look
    qtbot.addWidget(w)
    area = QGuiApplication.primaryScreen().availableGeometry()
    assert abs(w.width() - max(900, int(area.width() * 0.8))) <= 2
    assert abs(w.height() - max(600, int(area.height() * 0.8))) <= 2
    w.show()
    qtbot.waitExposed(w)
    names = [w.sidebar.item(i).text() for i in range(w.sidebar.count())]
    assert names[:4] == ["Containers", "Images", "Build", "Predict"]
    assert {"Volumes", "Networks", "Disk space"} <= set(names)
    assert names == [w.pages.tabText(i) for i in range(w.pages.count())]
    assert all(not w.sidebar.item(i).icon().isNull() for i in range(w.sidebar.count()))
    assert not w.pages.tabBar().isVisible()
    w.sidebar.setCurrentRow(1)
    assert w.pages.currentWidget() is w.images_page
    w.pages.setCurrentIndex(0)
    assert w.sidebar.currentRow() == 0
    # Every list action carries an icon, and none hides behind the toolbar's overflow button.
    for act in w.containers_page.toolbar.actions() + w.images_page.toolbar.actions():
        assert act.isSeparator() or not act.icon().isNull(), act.objectName()
    qtbot.wait(50)
    for page in (w.containers_page, w.images_page):
        bar = page.toolbar
        assert bar.sizeHint().width() <= bar.width() + 1, page.toolbar.objectName()
        header = page.view.horizontalHeader()
        fm = header.fontMetrics()
        for section in range(header.count() - 1):
            title = page.model.headerData(section, header.orientation())
            assert header.sectionSize(section) >= fm.horizontalAdvance(title), title
    # The images' references take the room the window has, not the last column ("Created").
    w.resize(1440, 900)
    w.pages.setCurrentWidget(w.images_page)
    header = w.images_page.view.horizontalHeader()
    qtbot.waitUntil(lambda: header.sectionSize(0) > 2 * header.sectionSize(header.count() - 1), timeout=2000)
    assert header.sectionSize(0) > 2 * header.sectionSize(header.count() - 1)
    long_ref = "registry.example.com:5000/team/sklearn-regression-skl2onnx:2026-12-01"
    assert header.sectionSize(0) >= header.fontMetrics().horizontalAdvance(long_ref)
    # The engine box shows the whole engine in its tooltip (its text is elided in the middle to fit).
    switcher = w.findChild(QComboBox, "engineSwitcher")
    assert switcher.currentText() and switcher.currentText() in switcher.toolTip()
    w.close()
    w.session.close()
