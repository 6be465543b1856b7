"""Switching engines while a page's read of the old engine hangs (a frozen engine is why one switches):
the page reads the new engine at once and never shows the old engine's late answer (real engine)."""

from __future__ import annotations

import threading

import pytest

from gui.engine.networks import NetworkInfo
from gui.engine.volumes import VolumeInfo
from gui.qt.cluster import page as cluster_page
from gui.qt.networks import page as networks_page
from gui.qt.volumes import page as volumes_page

pytestmark = pytest.mark.engine


def hang_first_call(monkeypatch, module, name: str, late_answer):
    """Make the next call of ``module.name`` hang until the returned event is set, then give ``late_answer``;
    later calls are the real ones."""
    real = getattr(module, name)
    release = threading.Event()
    calls = []

    def fake(*args, **kwargs):
        calls.append(args)
        if len(calls) == 1:
            release.wait(30)
            return late_answer
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, fake)
    return release, calls


def test_cluster_page_reads_the_new_engine_while_the_old_one_hangs(window, qtbot, monkeypatch):
    page = window.cluster_page
    qtbot.waitUntil(lambda: page.state is not None and not page._reading, timeout=15000)
    late = object()  # the old engine's swarm: applying it would fail or show it
    release, calls = hang_first_call(monkeypatch, cluster_page, "swarm_state", late)
    page.refresh()
    qtbot.waitUntil(lambda: len(calls) == 1, timeout=5000)
    try:
        with qtbot.waitSignal(page.refreshed, timeout=15000):  # before the fix: waited for the old engine
            window.switch_engine(window.session.target)
        assert len(calls) >= 2
    finally:
        release.set()
    qtbot.wait(300)
    assert page.state is not late


@pytest.mark.parametrize("kind", ["volumes", "networks"])
def test_list_page_never_shows_the_old_engines_late_answer(window, qtbot, monkeypatch, kind):
    if kind == "volumes":
        page = window.volumes_page
        stale = VolumeInfo(name="old-engine-volume", driver="local", mountpoint="/x", created="")
        release, calls = hang_first_call(monkeypatch, volumes_page, "list_volumes", [stale])
    else:
        page = window.networks_page
        stale = NetworkInfo(id="0" * 64, name="old-engine-network", driver="bridge", scope="local",
                            subnet="", gateway="", internal=False, containers=())
        release, calls = hang_first_call(monkeypatch, networks_page, "list_networks", [stale])
    qtbot.wait(500)  # the first listing (real) is in
    page.refresh()
    qtbot.waitUntil(lambda: len(calls) >= 1, timeout=5000)  # a burst of engine events may add a read
    try:
        n = len(calls)
        window.switch_engine(window.session.target)
        qtbot.waitUntil(lambda: len(calls) > n, timeout=15000)
    finally:
        release.set()
    qtbot.wait(500)
    assert stale.name not in {r.name for r in page.model.records()}


def test_volume_browsers_close_on_an_engine_switch(window, qtbot, docker_api, test_labels, unique_name):
    """A browser kept the old session: after a switch Reload, Upload and Download did nothing at all."""
    page = window.volumes_page
    name = unique_name("vol")
    docker_api.create_volume(name, labels=test_labels)
    try:
        browser = page.browse(name)
        qtbot.waitUntil(lambda: "empty" in browser.status.text(), timeout=20000)
        gone = []
        browser.destroyed.connect(lambda *_: gone.append(True))
        window.switch_engine(window.session.target)
        qtbot.waitUntil(lambda: bool(gone) and page.browsers == {}, timeout=5000)
        # The closed browser's helper container goes too (off the UI thread).
        qtbot.waitUntil(lambda: not docker_api.containers(all=True, filters={"volume": name}), timeout=15000)
    finally:
        for c in docker_api.containers(all=True, filters={"volume": name}):
            docker_api.remove_container(c["Id"], force=True)
        docker_api.remove_volume(name, force=True)
