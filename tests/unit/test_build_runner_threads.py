"""BuildRunner ends its threads once the build is over (a fake build at the engine boundary, no engine)."""

from __future__ import annotations

import types

from gui.builder import get_template
from gui.engine.build import BuildLine
from gui.qt.build import runner as runner_module


class FakeBuild:
    """What BuildRunner reads of gui.engine.build.ImageBuild: the lines, then image_id."""

    def __init__(self, *args, **kwargs):
        self.image_id = ""
        self.cancelled = False

    def __iter__(self):
        yield BuildLine("Step 1/1 : FROM scratch", step=1, total=1)
        self.image_id = "sha256:" + "0" * 64
        yield BuildLine("Successfully built", step=1, total=1, image_id=self.image_id, done=True)

    def cancel(self) -> bool:
        self.cancelled = True
        return True


def test_a_finished_build_leaves_no_thread_behind(qtbot, monkeypatch):
    """Each build has a pool of its own; its threads waited for work for ever, two more per build."""
    monkeypatch.setattr(runner_module, "ImageBuild", FakeBuild)
    monkeypatch.setattr(runner_module, "assemble_context", lambda *args, **kwargs: None)
    t = get_template("sklearn-regression")
    runner = runner_module.BuildRunner(types.SimpleNamespace(engine=None), t, t.defaults(), "FROM scratch\n",
                                       "aics-test/threads:1")
    with qtbot.waitSignal(runner.finished, timeout=5000) as outcome:
        runner.start()
    assert outcome.args[0].status == "succeeded"
    threads = runner._pool._threads
    assert threads
    qtbot.waitUntil(lambda: not any(th.is_alive() for th in threads), timeout=2000)


class BuggyBuild(FakeBuild):
    def __iter__(self):
        yield BuildLine("Step 1/1 : FROM scratch", step=1, total=1)
        raise TypeError("a bug in the stream reader")


class GoneBuild(FakeBuild):
    def __iter__(self):
        from gui.engine import EngineError, ErrorKind

        yield BuildLine("Step 1/1 : FROM scratch", step=1, total=1)
        raise EngineError("the engine went away", kind=ErrorKind.UNREACHABLE)


def _run(qtbot, monkeypatch, build_cls):
    monkeypatch.setattr(runner_module, "ImageBuild", build_cls)
    monkeypatch.setattr(runner_module, "assemble_context", lambda *args, **kwargs: None)
    reported = []
    monkeypatch.setattr(runner_module, "report_bug", reported.append)
    t = get_template("sklearn-regression")
    runner = runner_module.BuildRunner(types.SimpleNamespace(engine=None), t, t.defaults(), "FROM scratch\n",
                                       "aics-test/bug:1")
    with qtbot.waitSignal(runner.finished, timeout=5000) as outcome:
        runner.start()
    return outcome.args[0], reported


def test_a_bug_in_the_build_stream_goes_to_the_crash_reporter(qtbot, monkeypatch):
    outcome, reported = _run(qtbot, monkeypatch, BuggyBuild)
    assert [type(e) for e in reported] == [TypeError]
    assert outcome.status == "failed" and "crash report" in outcome.error and "TypeError" in outcome.error


def test_an_engine_failure_is_a_failed_build_in_words(qtbot, monkeypatch):
    outcome, reported = _run(qtbot, monkeypatch, GoneBuild)
    assert reported == []
    assert outcome.status == "failed" and outcome.error == "the engine went away"
