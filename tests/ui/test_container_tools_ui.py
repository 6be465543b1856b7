"""The container tool widgets against real containers (pytest-qt, offscreen)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit, QPlainTextEdit, QTreeWidget

from gui.engine import container_info
from gui.qt.common import style
from gui.qt.common.inspect_view import InspectView
from gui.qt.common.log_lines import LogLines
from gui.qt.containers.copy_files import CopyFilesPanel
from gui.qt.containers.exec_dialog import ExecDialog
from gui.qt.containers.logs import LogsView
from gui.qt.containers.stats import StatsView
from tests.support.waits import wait_for_log_lines

TICKER = "i=0; while true; do echo line $i; i=$((i+1)); sleep 0.01; done"


@pytest.fixture
def info(docker_api):
    def get(c):
        return container_info(docker_api.containers(all=True, filters={"id": c["Id"]})[0])
    return get


def assert_closed(qtbot, view):
    """No stream thread outlives its widget."""
    worker = view.worker
    assert worker is not None
    qtbot.waitUntil(lambda: not worker.is_alive(), timeout=3000)


def test_logs_follow_live_search_and_save(qtbot, engine, make_container, info, tmp_path):
    c = make_container(command=("sh", "-c", TICKER))
    view = LogsView(engine, info(c))
    qtbot.addWidget(view)
    view.resize(900, 500)
    view.show()
    lines = view.findChild(LogLines, "logView")
    count = view.findChild(QLabel, "logLineCount")
    qtbot.waitUntil(lambda: view.received >= 50, timeout=10000)
    first = view.received
    qtbot.waitUntil(lambda: view.received >= first + 30, timeout=5000)  # still arriving: live
    assert count.text() == f"{view.received:,} lines received"
    assert lines.texts[:3] == ["line 0", "line 1", "line 2"]
    # search with highlight: text, then regex, next / previous
    search = view.findChild(QLineEdit, "logSearch")
    search.setText("line 1")
    row = view.find(True)
    assert row is not None and lines.texts[row - lines.first].startswith("line 1")
    assert lines.pattern is not None and lines.current == row
    view.regex.setChecked(True)
    search.setText(r"line 2\d$")
    row = view.find(True)
    assert lines.texts[row - lines.first] == "line 20"
    row2 = view.find(True)
    assert lines.texts[row2 - lines.first] == "line 21"
    assert view.find(False) == row
    view.grab().save(str(tmp_path / "logs.png"))
    # timestamps toggle
    view.stamps.setChecked(True)
    assert lines.line(lines.first).endswith("Z line 0")
    # copy: selected rows, else all
    lines.select_all()
    lines.copy()
    assert QApplication.clipboard().text().splitlines()[0].endswith("Z line 0")
    # save reads the whole log again from the engine (more than the view was capped to hold)
    out = tmp_path / "saved.log"
    view.stamps.setChecked(False)
    with qtbot.waitSignal(view.saved, timeout=15000) as blocker:
        view.save_to(str(out))
    saved = out.read_text().splitlines()
    assert blocker.args[1] == len(saved) and saved[:2] == ["line 0", "line 1"]
    assert len(saved) >= view.received - 5  # whole log: at least what was shown before the save
    view.close()
    assert_closed(qtbot, view)


def test_logs_cap_drops_and_says_so(qtbot, engine, make_container, info, tmp_path):
    c = make_container(command=("sh", "-c", "seq 1 5000; sleep 3600"))
    view = LogsView(engine, info(c), tail="all", max_lines=1000)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitUntil(lambda: view.received >= 5000, timeout=15000)
    assert len(view.lines.texts) == 1000 and view.lines.texts[-1] == "5000"
    dropped = view.findChild(QLabel, "logDropped")
    assert dropped.isVisible() and dropped.text().startswith("4,000 older lines dropped")
    assert not view.load_more.isEnabled()
    # Save reads the whole log from the engine again: all 5,000 lines, not the 1,000 the view holds.
    out = tmp_path / "whole.log"
    with qtbot.waitSignal(view.saved, timeout=15000):
        view.save_to(str(out))
    assert out.read_text().splitlines() == [str(i) for i in range(1, 5001)]
    view.close()
    assert_closed(qtbot, view)


def test_logs_full_cap_of_100000(qtbot, engine, make_container, info):
    c = make_container(command=("sh", "-c", "seq 1 120000; sleep 3600"))
    view = LogsView(engine, info(c), tail="all")
    qtbot.addWidget(view)
    view.show()
    qtbot.waitUntil(lambda: view.received >= 120000, timeout=60000)
    assert len(view.lines.texts) == 100_000 and view.lines.dropped == 20_000
    assert view.lines.texts[0] == "20001"
    assert "20,000 older lines dropped (the view keeps the last 100,000)" in view.dropped.text()
    view.close()
    assert_closed(qtbot, view)


def test_logs_load_more_and_exit_message(qtbot, engine, make_container, info, docker_api):
    c = make_container(command=("sh", "-c", "seq 1 2500; sleep 2; exit 5"))
    wait_for_log_lines(docker_api, c["Id"], 2500)  # all written: the view's tail of 1,000 starts at 1501
    view = LogsView(engine, info(c), tail=1000)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitUntil(lambda: view.received >= 1000, timeout=10000)
    assert view.lines.texts[0] == "1501"
    qtbot.waitUntil(view.load_more.isEnabled, timeout=3000)
    view.load_more.click()
    qtbot.waitUntil(lambda: view.lines.texts[0] == "501", timeout=10000)
    view.load_more.click()
    qtbot.waitUntil(lambda: view.lines.texts[0] == "1", timeout=10000)
    qtbot.waitUntil(lambda: not view.load_more.isEnabled(), timeout=3000)
    assert len(view.lines.texts) == 2500
    qtbot.waitUntil(lambda: view.state.text() == "container exited (code 5)", timeout=10000)
    view.close()
    assert_closed(qtbot, view)


ANSI_LOG = (r"printf '\033[31mfailed: boom\033[0m\n\033[1;32mready\033[0m\nplain\n"
            r"\033[33mwarn starts\nwarn goes on\033[0m\n\033[2Kafter\n'; sleep 3600")


def test_logs_paint_ansi_colours_like_the_build_log(qtbot, engine, make_container, info):
    """A container's coloured output shows without its escape codes, each line in its colour; a colour
    left open carries to the next line (the build log's rule, gui.builder.failure.AnsiLines)."""
    c = make_container(command=("sh", "-c", ANSI_LOG))
    view = LogsView(engine, info(c), tail="all")
    qtbot.addWidget(view)
    view.resize(700, 300)
    view.show()
    qtbot.waitUntil(lambda: view.received >= 6, timeout=10000)
    lines = view.lines
    assert lines.texts[:6] == ["failed: boom", "ready", "plain", "warn starts", "warn goes on", "after"]
    row = lines.first
    assert lines.colors[row] == style.color("log-error", lines)
    assert lines.colors[row + 1] == style.color("ok", lines)
    assert row + 2 not in lines.colors and row + 5 not in lines.colors
    assert lines.colors[row + 3] == lines.colors[row + 4] == style.color("warning", lines)
    # painted: the "ready" row has green text, the "plain" row none
    image = lines.viewport().grab().toImage()
    lh = lines._lh

    def greens(k: int) -> int:
        n = 0
        for y in range(k * lh, (k + 1) * lh):
            for x in range(0, 120):
                px = image.pixelColor(x, y)
                n += px.green() > px.red() + 40 and px.green() > px.blue() + 20
        return n

    assert greens(1) > 5 and greens(2) == 0
    view.close()
    assert_closed(qtbot, view)


def test_stats_plots_then_stop_with_container(qtbot, engine, make_container, info, docker_api, tmp_path):
    c = make_container(command=("sh", "-c", "while true; do :; done"))
    view = StatsView(engine, info(c))
    qtbot.addWidget(view)
    view.show()
    qtbot.waitUntil(lambda: len(view.samples) >= 3, timeout=15000)
    assert len(view.cpu.values) == len(view.samples) and max(view.cpu.values) > 5  # a busy loop; shared on a loaded machine
    assert view.memory.values[-1] > 0 and "/" in view.memory.text
    view.grab().save(str(tmp_path / "stats.png"))
    worker = view.worker
    docker_api.kill(c["Id"])
    qtbot.waitUntil(lambda: view.state.text().startswith("Stopped: container exited (code 137)"), timeout=10000)
    qtbot.waitUntil(lambda: not worker.is_alive(), timeout=3000)
    view.close()


def test_stats_stream_closes_when_hidden(qtbot, engine, make_container, info):
    c = make_container()
    view = StatsView(engine, info(c))
    qtbot.addWidget(view)
    view.show()
    qtbot.waitUntil(lambda: len(view.samples) >= 1, timeout=15000)
    first = view.worker
    view.hide()
    qtbot.waitUntil(lambda: not first.is_alive(), timeout=3000)
    view.show()
    assert view.worker is not first and view.worker.is_alive()
    view.close()
    assert_closed(qtbot, view)


def test_inspect_filter_and_copy(qtbot, engine, make_container, info):
    c = make_container()
    view = InspectView(engine, info(c))
    qtbot.addWidget(view)
    view.show()
    tree = view.findChild(QTreeWidget, "inspectTree")
    qtbot.waitUntil(lambda: view.document is not None, timeout=10000)
    assert tree.topLevelItemCount() == len(view.document)
    view.filter.setText(c["name"])
    n = view.apply_filter()
    assert n >= 1
    visible = [tree.topLevelItem(i).text(0) for i in range(tree.topLevelItemCount())
               if not tree.topLevelItem(i).isHidden()]
    assert "Name" in visible and "State" not in visible
    name_item = next(tree.topLevelItem(i) for i in range(tree.topLevelItemCount())
                     if tree.topLevelItem(i).text(0) == "Name")
    assert name_item.background(1).color().name() == "#fff176"
    tree.setCurrentItem(name_item)
    view.copy_value()
    assert QApplication.clipboard().text() == "/" + c["name"]
    plain = InspectView(None, {"Config": {"Env": ["A=1", "PATH=/bin"]}, "Id": "x"})
    qtbot.addWidget(plain)
    plain.filter.setText("path=")
    assert plain.apply_filter() == 1


def test_exec_output_and_errors(qtbot, engine, make_container, info):
    c = make_container()
    dlg = ExecDialog(engine, info(c))
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.findChild(QLineEdit, "execCommand").setText("sh -c 'seq 1 3; echo boom >&2; exit 2'")
    dlg.run()
    qtbot.waitUntil(lambda: dlg.exit_code == 2, timeout=10000)
    out = dlg.findChild(QPlainTextEdit, "execOutput").toPlainText()
    assert "1\n2\n3\n" in out and "boom" in out and dlg.status.text() == "Exit code 2"
    dlg.command.setText("no-such-tool --help")
    dlg.run()
    qtbot.waitUntil(lambda: dlg.error.isVisible(), timeout=10000)
    assert dlg.error.text().startswith("Command not found: no-such-tool")
    stopped = make_container(start=False)
    dlg2 = ExecDialog(engine, info(stopped))
    qtbot.addWidget(dlg2)
    dlg2.command.setText("ls")
    dlg2.run()
    qtbot.waitUntil(lambda: dlg2.error.text() != "", timeout=10000)
    assert "not running" in dlg2.error.text()
    dlg.close()
    assert_closed(qtbot, dlg)


def test_exec_stop_then_run_again(qtbot, engine, make_container, info):
    """Stop once left Run disabled for good: a stopped stream sends no `finished`."""
    c = make_container()
    dlg = ExecDialog(engine, info(c))
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.command.setText("sh -c 'while true; do echo tick; sleep 0.1; done'")
    dlg.run()
    qtbot.waitUntil(lambda: "tick" in dlg.output.toPlainText(), timeout=10000)
    dlg.stop_btn.click()
    assert dlg.run_btn.isEnabled() and not dlg.stop_btn.isEnabled()
    first = dlg.worker
    qtbot.waitUntil(lambda: not first.is_alive(), timeout=3000)
    dlg.command.setText("echo again")
    dlg.run_btn.click()
    qtbot.waitUntil(lambda: dlg.exit_code == 0, timeout=10000)
    assert "again" in dlg.output.toPlainText()
    dlg.close()
    assert_closed(qtbot, dlg)


def _drop(panel, paths):
    """Deliver a drag-enter and a drop of local files to the panel's drop filter.

    (QApplication.sendEvent of a QDropEvent without a real drag in progress crashes offscreen Qt,
    so the events go to the installed event filter, the code under test, directly.)
    """
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    assert panel.acceptDrops()
    enter = QDragEnterEvent(QPoint(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    assert panel.drops.eventFilter(panel, enter) and enter.isAccepted()
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    assert panel.drops.eventFilter(panel, event)
    return event


def test_copy_round_trip_and_drop(qtbot, engine, make_container, info, docker_api, tmp_path):
    c = make_container()
    panel = CopyFilesPanel(engine, info(c))
    qtbot.addWidget(panel)
    panel.show()
    src = tmp_path / "model"
    src.mkdir()
    (src / "weights.bin").write_bytes(b"\x00\x01" * 5000)
    panel.container_path.setText("/")
    panel.copy_in([str(src)])
    qtbot.waitUntil(lambda: panel.last_result is not None, timeout=10000)
    out = tmp_path / "out"
    out.mkdir()
    panel.last_result = None
    panel.container_path.setText("/model")
    panel.copy_out(str(out))
    qtbot.waitUntil(lambda: panel.last_result is not None, timeout=10000)
    assert (out / "model" / "weights.bin").read_bytes() == b"\x00\x01" * 5000
    # drop a file onto the panel: it lands in the container's working folder ("/")
    dropped = tmp_path / "dropped.txt"
    dropped.write_text("from the file manager")
    panel.container_path.setText("")
    panel.last_result = None
    event = _drop(panel, [dropped])
    assert event.isAccepted()
    qtbot.waitUntil(lambda: panel.last_result is not None, timeout=10000)
    stream, _ = docker_api.get_archive(c["Id"], "/dropped.txt")
    assert b"from the file manager" in b"".join(stream)
    # failure: a path that does not exist
    panel.container_path.setText("/no/such/dir")
    panel.copy_in([str(dropped)])
    qtbot.waitUntil(lambda: panel.error.isVisible(), timeout=10000)
    assert panel.error.text() == "/no/such/dir does not exist in the container."
    assert panel.findChild(QLabel, "copyError") is panel.error
