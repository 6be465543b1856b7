"""Issue 10.6: a Jupyter container from the studio gets a token it made, kept only in the container's
environment, shown masked with Copy, and Open JupyterLab opens the lab with it; Jupyter's stderr log
is not painted as errors. Real engine, the jupyter template built (fast with aics-cache/jupyter)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLineEdit, QStyleOptionViewItem

from gui.builder import get_template, run_settings
from gui.qt.common import links
from gui.qt.common.run_dialog import MASK, RunDialog
from tests.support.qt import select_rows
from tests.support.templates import COLD_BUILD_S, build_template

pytestmark = pytest.mark.timeout(COLD_BUILD_S)  # the jupyter image may be built from nothing


@pytest.fixture(scope="module")
def jupyter_image(docker_api, test_labels, tmp_path_factory):
    """The jupyter template built as the Build page builds it; removed after the module."""
    t = get_template("jupyter")
    tag = f"aicstest-jupyter-ui:{test_labels['ai-container-studio.test']}"
    build, _lines = build_template(t, t.defaults(), tmp_path_factory.mktemp("ctx"), tag, test_labels)
    yield t, tag
    docker_api.remove_image(build.image_id, force=True)


def status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=3) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


def rec(w, name):
    return next((c for c in w.containers_model.records() if c.name == name), None)


def test_token_made_masked_copied_and_opens_the_lab(window, qtbot, jupyter_image, docker_api, app_container_name,
                                                     monkeypatch):
    template, tag = jupyter_image
    w = window
    # What the Build page's Run does: the run fields (token left empty) become the dialog's defaults.
    settings = run_settings(template, template.defaults(), template.run_defaults())
    token = settings.environment.get("JUPYTER_TOKEN", "")
    assert len(token) >= 32, "the studio makes a token when the field is empty"
    assert run_settings(template, template.defaults(), template.run_defaults()).environment["JUPYTER_TOKEN"] \
        != token, "a new one each time"
    dlg = RunDialog(w.session, tag, w)
    for container_port, host_port in settings.ports.items():
        dlg.ports.add_row(settings.host_ip, str(host_port or ""), str(container_port), "tcp")
    for key, value in settings.environment.items():
        dlg.env.add_row(key, value)
    dlg.open()
    option = QStyleOptionViewItem()
    index = dlg.env.table.model().index(0, 1)
    dlg.env.table.itemDelegateForIndex(index).initStyleOption(option, index)
    assert option.text == MASK, "masked in the environment table"
    assert token not in dlg.preview.toPlainText(), "and in the equivalent command"
    name = app_container_name("jup")
    dlg.name.setText(name)
    dlg.run_button.click()
    qtbot.waitUntil(lambda: rec(w, name) is not None and rec(w, name).state == "running"
                    and bool(rec(w, name).ports), timeout=15000)
    c = rec(w, name)
    host_port = next(p.host_port for p in c.ports if p.container_port == 8888)
    image = docker_api.inspect_image(tag)
    assert token not in json.dumps(image) and token not in json.dumps(docker_api.history(tag))
    assert f"JUPYTER_TOKEN={token}" in docker_api.inspect_container(name)["Config"]["Env"]

    page = w.containers_page
    select_rows(page, c.key)
    action = page.actions_by_name["tool:jupyter"]
    assert action.isEnabled()
    action.trigger()
    panel = page.tool_windows.open[("jupyter", c.id)]
    qtbot.waitUntil(lambda: panel.token_edit.text() == token, timeout=5000)
    assert panel.token_edit.echoMode() == QLineEdit.EchoMode.Password
    panel.copy_button.click()
    assert QGuiApplication.clipboard().text() == token
    opened = []
    monkeypatch.setattr(links, "launch", lambda url: opened.append(url) or True)
    panel.open_button.click()
    assert opened == [f"http://127.0.0.1:{host_port}/lab?token={token}"]

    base = f"http://127.0.0.1:{host_port}"
    qtbot.waitUntil(lambda: status(f"{base}/api/status?token={token}") == 200, timeout=90000)
    assert status(f"{base}/api/status") == 403, "the token is what lets one in"

    # Jupyter logs everything to stderr: its INFO lines are not painted as errors.
    page.tools["logs"][1](c)
    view = page.tool_windows.open[("logs", c.id)]
    qtbot.waitUntil(lambda: any("ServerApp]" in t for t in view.lines.texts), timeout=30000)
    info = [i for i, t in enumerate(view.lines.texts) if t.startswith("[I ")]
    assert info and not any(view.lines.errs[i] for i in info), \
        [t for t, e in zip(view.lines.texts, view.lines.errs, strict=True) if e]


def test_the_jupyter_tool_is_only_for_jupyter_containers(window, qtbot, make_container):
    c = make_container()
    page = window.containers_page
    qtbot.waitUntil(lambda: rec(window, c["name"]) is not None, timeout=5000)
    select_rows(page, rec(window, c["name"]).key)
    assert page.actions_by_name["tool:logs"].isEnabled()
    assert not page.actions_by_name["tool:jupyter"].isEnabled()


def test_error_lines_on_stderr_stay_red(window, qtbot, make_container):
    c = make_container(command=["sh", "-c", "echo '[I 12:00:00.000 ServerApp] serving' >&2; "
                                            "echo 'Traceback (most recent call last):' >&2; "
                                            "echo 'ValueError: bad input' >&2; echo 'error-free stdout line'; "
                                            "sleep 600"])
    page = window.containers_page
    qtbot.waitUntil(lambda: rec(window, c["name"]) is not None, timeout=5000)
    page.tools["logs"][1](rec(window, c["name"]))
    view = page.tool_windows.open[("logs", c["Id"])]
    qtbot.waitUntil(lambda: len(view.lines.texts) == 4, timeout=10000)
    painted = dict(zip(view.lines.texts, view.lines.errs, strict=True))
    assert painted == {"[I 12:00:00.000 ServerApp] serving": False,
                       "Traceback (most recent call last):": True,
                       "ValueError: bad input": True,
                       "error-free stdout line": False}
