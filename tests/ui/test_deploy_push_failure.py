"""Deploy as service…, Push: a push the registry refuses says so and stays said (real engine, a registry
address nothing listens on)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.engine


def test_a_failed_push_is_shown_in_words(window, qtbot, busybox_image, docker_api, run_id):
    page = window.cluster_page
    dialog = page.deploy(busybox_image)
    ref = f"127.0.0.1:9/aicstest-push-{run_id}:1"  # discard port: nothing answers there
    dialog.push_to.setText(ref)
    try:
        dialog.push()
        qtbot.waitUntil(lambda: dialog.push_button.isEnabled(), timeout=60000)  # the push ended
        qtbot.wait(100)
        # Before the fix the form's own check rewrote the message at once: the failure left no word.
        assert "Push failed" in dialog.problem.text() and "127.0.0.1:9" in dialog.problem.text(), dialog.problem.text()
    finally:
        dialog.reject()
        try:
            docker_api.remove_image(ref)
        except Exception:
            pass
