"""The one way the Qt layer runs work off the UI thread: Task, Op and Stream (no engine needed)."""

from __future__ import annotations

import sys
import threading

import pytest
from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMessageBox, QWidget

from gui.engine import EngineError
from gui.qt.common import tasks
from gui.qt.common.tasks import DaemonExecutor, Op, Stream, Task


def test_task_delivers_result_on_the_ui_thread(qtbot):
    owner = QObject()
    seen = []
    task = Task(owner, lambda: threading.current_thread().name)
    task.done.connect(lambda value: seen.append((value, threading.current_thread() is threading.main_thread())))
    with qtbot.waitSignal(task.done, timeout=5000):
        task.start()
    name, on_main = seen[0]
    assert name != threading.main_thread().name and on_main


def test_task_failure_arrives_as_the_exception(qtbot):
    owner = QObject()
    task = Task(owner, lambda: 1 / 0)
    with qtbot.waitSignal(task.failed, timeout=5000) as blocker:
        task.start()
    assert isinstance(blocker.args[0], ZeroDivisionError)


def test_cancelled_task_delivers_nothing(qtbot):
    owner = QObject()
    release = threading.Event()
    task = Task(owner, lambda: release.wait(5) and "late")
    got = []
    task.done.connect(got.append)
    task.start()
    task.cancel()
    release.set()
    qtbot.wait(200)
    assert got == [] and not task.is_alive()


def test_deleted_receiver_is_not_called(qtbot):
    """The owner goes away while the work runs: no crash, no call into the deleted object."""
    owner = QWidget()
    release = threading.Event()
    got = []
    task = Task(owner, lambda: release.wait(5) and "late")
    task.done.connect(got.append)
    task.start()
    owner.deleteLater()
    qtbot.wait(50)
    release.set()
    qtbot.wait(200)
    assert got == []


def test_op_shows_an_engine_error_in_words(qtbot):
    parent = QWidget()
    qtbot.addWidget(parent)

    def fail():
        raise EngineError("port 8080 is already used by container web-1", "conflict")

    Op(parent, fail, "Run failed").run()
    qtbot.waitUntil(lambda: parent.findChild(QMessageBox, "operationError") is not None, timeout=5000)
    box = parent.findChild(QMessageBox, "operationError")
    assert box.windowTitle() == "Run failed" and "port 8080 is already used" in box.text()


def test_op_sends_a_bug_to_the_crash_reporter(qtbot, monkeypatch):
    parent = QWidget()
    qtbot.addWidget(parent)
    reported = []
    monkeypatch.setattr(sys, "excepthook", lambda t, e, tb: reported.append(e))
    Op(parent, lambda: {}["missing"]).success(lambda _r: pytest.fail("no success")).run()
    qtbot.waitUntil(lambda: bool(reported), timeout=5000)
    assert isinstance(reported[0], KeyError)
    assert parent.findChild(QMessageBox, "operationError") is None


def test_op_failure_callback_takes_expected_errors(qtbot):
    parent = QWidget()
    qtbot.addWidget(parent)
    got = []

    def fail():
        raise FileNotFoundError(2, "No such file or directory", "/nope")

    Op(parent, fail).failure(lambda exc: got.append(tasks.message_of(exc))).run()
    qtbot.waitUntil(lambda: bool(got), timeout=5000)
    assert got == ["No such file or directory: /nope"]


def test_changes_run_one_at_a_time_in_order(qtbot):
    pool = DaemonExecutor(max_workers=1, name="test-change")
    owner = QObject()
    order, running, overlap = [], [0], []

    def change(i):
        running[0] += 1
        overlap.append(running[0])
        order.append(i)
        running[0] -= 1
        return i

    last = None
    for i in range(20):
        last = Task(owner, lambda i=i: change(i), pool)
        last.start()
    with qtbot.waitSignal(last.done, timeout=5000):
        pass
    assert order == list(range(20)) and max(overlap) == 1
    pool.shutdown()


class Closable:
    """A stream that yields until closed from another thread (as the engine's streams do)."""

    def __init__(self, items):
        self.items = items
        self.closed = threading.Event()

    def __iter__(self):
        yield from self.items
        self.closed.wait(5)

    def close(self):
        self.closed.set()


class _DoneAtOnce:
    """A pool whose work is done before submit() returns (what a quick read on a loaded machine can be
    by the time start() adds its callback)."""

    def submit(self, fn):
        from concurrent.futures import Future
        fut = Future()
        fut.set_result(fn())
        return fut


def test_a_task_answered_before_start_returns_delivers_later_not_inside_start(qtbot):
    owner = QObject()
    got = []
    task = Task(owner, lambda: 42, _DoneAtOnce())
    task.done.connect(got.append)
    task.start()
    assert got == []  # not inside start(): the caller's next line runs first
    qtbot.waitUntil(lambda: got == [42], timeout=2000)


def test_stream_items_in_order_then_finished(qtbot):
    owner = QObject()
    stream = Stream(owner, iter(range(50)), "test-stream")
    got = []
    stream.item.connect(got.append)
    with qtbot.waitSignal(stream.finished, timeout=5000):
        stream.start()
    assert got == list(range(50))


def test_batched_stream_hands_over_every_item_in_order(qtbot):
    owner = QObject()
    stream = Stream(owner, iter(range(10_000)), "test-batched", batched=True)
    batches = []
    stream.batch.connect(batches.append)
    with qtbot.waitSignal(stream.finished, timeout=10_000):
        stream.start()
    qtbot.wait(50)
    flat = [i for b in batches for i in b]
    assert flat == list(range(10_000))
    assert len(batches) < 10_000  # coalesced, not one signal per item


def test_paced_stream_spaces_its_batches_and_loses_nothing(qtbot):
    """``pace_ms``: a fast stream reaches the UI thread in few batches at least pace_ms apart (Evaluate's
    answers woke it for nearly every item); every item arrives, in order, before ``finished``, and the
    first item is not held back."""
    import time

    def source():
        for i in range(400):
            time.sleep(0.001)  # ~1 item/ms for ~0.5 s
            yield i

    owner = QObject()
    stream = Stream(owner, source(), "test-paced", batched=True, pace_ms=300)
    batches, times, done_with = [], [], []
    stream.batch.connect(lambda b: (batches.append(b), times.append(time.monotonic())))
    stream.finished.connect(lambda: done_with.append(sum(len(b) for b in batches)))
    t0 = time.monotonic()
    with qtbot.waitSignal(stream.finished, timeout=10_000):
        stream.start()
    assert [i for b in batches for i in b] == list(range(400)) and done_with == [400]
    assert times[0] - t0 < 0.25  # the first batch goes at once, not a pace later
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert all(g >= 0.29 for g in gaps[:-1]), gaps  # the last one is the flush before finished
    assert len(batches) <= 2 + (times[-1] - t0) / 0.29, len(batches)


def test_paced_stream_flushes_what_waits_before_failed(qtbot):
    def broken():
        yield from range(5)
        raise EngineError("the engine went away", "unreachable")

    owner = QObject()
    stream = Stream(owner, broken(), "test-paced-broken", batched=True, pace_ms=10_000)
    got, order = [], []
    stream.batch.connect(lambda b: (got.extend(b), order.append("batch")))
    stream.failed.connect(lambda _e: order.append("failed"))
    with qtbot.waitSignal(stream.finished, timeout=5000):
        stream.start()
    assert got == list(range(5)) and order[-1] == "failed" and "batch" in order


def test_stream_stop_closes_the_source_and_ends(qtbot):
    owner = QObject()
    source = Closable([1, 2])
    stream = Stream(owner, source, "test-stop")
    got = []
    stream.item.connect(got.append)
    stream.start()
    qtbot.waitUntil(lambda: got == [1, 2], timeout=5000)
    stream.stop(join_timeout=2)
    assert source.closed.is_set() and not stream.is_alive()


def test_stream_stop_of_a_running_generator_ends_it_on_its_own_thread(qtbot, monkeypatch):
    """A generator busy on the worker while stop() runs: no 'generator already executing', no bug
    report, and its finally runs on the worker once it yields again."""
    bugs = []
    monkeypatch.setattr(tasks, "report_bug", bugs.append)
    inside, release, closed_on = threading.Event(), threading.Event(), []

    def source():
        try:
            yield 1
            inside.set()
            release.wait(5)  # still executing when stop() is called
            yield 2
            yield 3
        finally:
            closed_on.append(threading.current_thread().name)

    owner = QObject()
    stream = Stream(owner, source(), "test-gen-stop")
    got = []
    stream.item.connect(got.append)
    stream.start()
    assert inside.wait(5)
    stream.stop()  # raised ValueError: generator already executing
    release.set()
    qtbot.waitUntil(lambda: not stream.is_alive(), timeout=5000)
    assert closed_on == ["test-gen-stop"] and 3 not in got and not bugs


def test_stream_failure_is_reported_then_finished(qtbot):
    owner = QObject()

    def broken():
        yield 1
        raise EngineError("the engine went away", "unreachable")

    stream = Stream(owner, broken(), "test-broken")
    with qtbot.waitSignals([stream.item, stream.failed, stream.finished], order="strict", timeout=5000):
        stream.start()


def test_stream_failure_nobody_handles_reaches_the_crash_reporter(qtbot, monkeypatch):
    """Evaluate, compare, load test and the engine's event stream connect no ``failed``: a bug in their
    generator once ended the run as if it had finished, with no word anywhere."""
    owner = QObject()
    reported = []
    monkeypatch.setattr(sys, "excepthook", lambda t, e, tb: reported.append(e))

    def broken():
        yield 1
        raise KeyError("bug")

    stream = Stream(owner, broken(), "test-unhandled")
    with qtbot.waitSignal(stream.finished, timeout=5000):
        stream.start()
    assert len(reported) == 1 and isinstance(reported[0], KeyError)


def test_stream_failure_someone_handles_is_not_reported_twice(qtbot, monkeypatch):
    owner = QObject()
    reported = []
    monkeypatch.setattr(sys, "excepthook", lambda t, e, tb: reported.append(e))

    def broken():
        raise EngineError("the engine went away", "unreachable")
        yield

    stream = Stream(owner, broken(), "test-handled")
    got = []
    stream.failed.connect(got.append)
    with qtbot.waitSignal(stream.finished, timeout=5000):
        stream.start()
    assert reported == [] and len(got) == 1


def test_answered_tasks_do_not_pile_up_under_their_parent(qtbot):
    """Pages make a Task per refresh; each stayed a child of the page, holding its answer, for ever."""
    parent = QObject()
    got = []
    for i in range(3):
        task = Task(parent, lambda i=i: [i] * 1000)
        task.done.connect(got.append)
        task.start()
    cancelled = Task(parent, lambda: 1).start()
    cancelled.cancel()
    qtbot.waitUntil(lambda: len(got) == 3 and cancelled.future.done(), timeout=5000)
    qtbot.waitUntil(lambda: parent.findChildren(Task) == [], timeout=2000)
    assert sorted(a[0] for a in got) == [0, 1, 2]


def _engine_without_engine(tmp_path):
    """An Engine with its API version known, so ``call`` runs ``fn`` without asking an engine first."""
    from gui.engine import Engine, resolve_engine

    engine = Engine(resolve_engine(f"unix://{tmp_path}/none.sock"))
    engine._version = "1.41"
    return engine


def test_op_sends_a_bug_under_an_engine_call_to_the_crash_reporter(qtbot, monkeypatch, tmp_path):
    """A slip in our own code inside ``Engine.call`` once became EngineError: a message box saying
    "Docker Engine at ... failed: 'NoneType' object ...", and no crash report."""
    engine = _engine_without_engine(tmp_path)
    parent = QWidget()
    qtbot.addWidget(parent)
    reported = []
    monkeypatch.setattr(sys, "excepthook", lambda t, e, tb: reported.append(e))
    def tag(api):
        return api.tag("web:1", "web", "2", forced=True)  # a misspelt keyword: TypeError, before any request

    Op(parent, lambda: engine.call(tag), "Tag failed") \
        .success(lambda _r: pytest.fail("no success")).run()
    qtbot.waitUntil(lambda: bool(reported), timeout=5000)
    assert type(reported[0]) is TypeError
    qtbot.wait(50)
    assert parent.findChild(QMessageBox, "operationError") is None


def test_op_shows_what_the_engine_said_under_an_engine_call(qtbot, monkeypatch, tmp_path):
    import docker.errors
    import requests

    engine = _engine_without_engine(tmp_path)
    parent = QWidget()
    qtbot.addWidget(parent)
    reported = []
    monkeypatch.setattr(sys, "excepthook", lambda t, e, tb: reported.append(e))
    resp = requests.Response()
    resp.status_code = 409
    taken = docker.errors.APIError("409 Client Error", response=resp,
                                   explanation='conflict: the container name "/web" is already in use')

    def answer(api):
        raise taken

    Op(parent, lambda: engine.call(answer), "Run failed").run()
    qtbot.waitUntil(lambda: parent.findChild(QMessageBox, "operationError") is not None, timeout=5000)
    box = parent.findChild(QMessageBox, "operationError")
    assert box.windowTitle() == "Run failed" and 'the container name "/web" is already in use' in box.text()
    assert reported == []


@pytest.mark.parametrize("start", ["task", "run"])
def test_unless_bug_sends_a_bug_to_the_crash_reporter_then_settles(qtbot, monkeypatch, start):
    owner = QObject()
    reported, shown, settled = [], [], []
    monkeypatch.setattr(sys, "excepthook", lambda t, e, tb: reported.append(e))
    handler = tasks.unless_bug(lambda exc: shown.append(tasks.message_of(exc)), settle=lambda: settled.append(1))

    def bug():
        return {}["missing"]

    if start == "task":
        task = Task(owner, bug)
        task.failed.connect(handler)
        task.start()
    else:
        tasks.run(owner, bug, lambda _r: pytest.fail("no result"), handler)
    qtbot.waitUntil(lambda: bool(settled), timeout=5000)
    assert [type(e) for e in reported] == [KeyError] and settled == [1] and shown == []


def test_unless_bug_hands_an_expected_failure_over_in_words(qtbot, monkeypatch):
    owner = QObject()
    reported, shown, settled = [], [], []
    monkeypatch.setattr(sys, "excepthook", lambda t, e, tb: reported.append(e))

    def engine_gone():
        raise EngineError("Docker Engine is not reachable at unix:///x.sock: is it running?", "unreachable")

    tasks.run(owner, engine_gone, lambda _r: pytest.fail("no result"),
              tasks.unless_bug(lambda exc: shown.append(tasks.message_of(exc)), settle=lambda: settled.append(1)))
    qtbot.waitUntil(lambda: bool(shown), timeout=5000)
    assert shown == ["Docker Engine is not reachable at unix:///x.sock: is it running?"]
    assert reported == [] and settled == []


def test_unless_bug_on_a_stream_reports_a_bug_once(qtbot, monkeypatch):
    owner = QObject()
    reported, shown = [], []
    monkeypatch.setattr(sys, "excepthook", lambda t, e, tb: reported.append(e))

    def broken():
        yield 1
        raise AttributeError("'NoneType' object has no attribute 'id'")

    stream = Stream(owner, broken(), "test-unless-bug")
    stream.failed.connect(tasks.unless_bug(shown.append))
    with qtbot.waitSignal(stream.finished, timeout=5000):
        stream.start()
    qtbot.wait(20)
    assert [type(e) for e in reported] == [AttributeError] and shown == []


_WIDGET_GOES_FIRST = """
import sys
from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtWidgets import QApplication, QDialog
from gui.qt.common.tasks import Task, unless_bug

app = QApplication([])


class Dialog(QDialog):
    def ask(self):
        self.task = Task(self, lambda: 1)
        self.task.done.connect(self.answered)
        self.task.failed.connect(unless_bug(self.failed_in_words, self.put_back))
        self.task.start()

    def answered(self, value):
        self.value = value

    def failed_in_words(self, exc):
        pass

    def put_back(self):
        pass


def ask_and_forget():
    dialog = Dialog()
    dialog.ask()
    while not hasattr(dialog, "value"):
        app.processEvents()


ask_and_forget()
QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
app.processEvents()
print("survived")
"""


def test_unless_bug_does_not_keep_a_parentless_widget_alive():
    """The login dialog's test segfaulted with a closure over its methods on its Task's ``failed``: the closure
    was the dialog's last reference, so the Task's deferred delete dropped it and deleted the dialog from
    inside the Task's own destructor. unless_bug holds a widget's methods weakly, as Qt does."""
    import os
    import subprocess

    out = subprocess.run([sys.executable, "-c", _WIDGET_GOES_FIRST], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert out.returncode == 0 and "survived" in out.stdout, out.stdout + out.stderr
