"""The failed-build banner (`buildFailure`) on top of the Build page: why, in one sentence, and the
unfinished image the failure left (`removeDangling`), which the classic builder keeps as an untagged image."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton

from gui.builder.failure import failure_cause
from gui.engine.actions import remove_image
from gui.qt.common.style import set_role
from gui.qt.common.table_models import human_size
from gui.qt.common.tasks import Op


def dangling_image(engine, layer: str) -> dict | None:
    """The untagged, childless image whose id starts with ``layer`` (`docker images -f dangling=true`)."""
    rows = engine.call(lambda api: api.images(filters={"dangling": True}))
    return next((r for r in rows if r["Id"].split(":", 1)[-1].startswith(layer)), None)


class FailureBanner(QFrame):
    """Hidden until a build fails. `statusMessage(text, kind)` reports the removal for the status line."""

    statusMessage = Signal(str, str)

    def __init__(self, page):
        super().__init__(page)
        self.page = page
        self.setObjectName("buildFailure")
        self.cause = ""  # the sentence shown; "" once it no longer applies
        self.dangling = ""  # the unfinished image's id, while it is offered for removal
        self.text = QLabel(self)
        self.text.setObjectName("buildFailureText")
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        set_role(self.text, "error")
        self.remove_button = QPushButton("Remove the unfinished image", self)
        self.remove_button.setObjectName("removeDangling")
        self.remove_button.clicked.connect(self.remove_image)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 2, 0, 2)
        row.addWidget(self.text, 1)
        row.addWidget(self.remove_button)
        self.reset()

    def reset(self) -> None:
        """A new build starts: nothing to say."""
        self.cause = self.dangling = ""
        self._update()

    def show_failure(self, outcome, log, last_layer: str) -> None:
        """Say why (the log's telling line, marked and scrolled to), then look for what it left."""
        cause, i = failure_cause(log.texts, outcome.error)
        where = f"Step {outcome.step} failed: " if outcome.step else "The build failed: "
        self.cause = cause
        self.text.setText(f"<b>{where}</b>{cause}")
        self.text.setToolTip(outcome.error)
        if i >= 0:
            log.mark_cause(log.first + i)
        self._update()
        if last_layer:
            engine = self.page.session.engine
            Op(self, lambda: dangling_image(engine, last_layer), "Cannot read the images") \
                .success(self._offer_removal).failure(lambda _exc: None).run()

    def forget_cause(self) -> None:
        """The form changed: the cause no longer applies (the history keeps it); the offer stays."""
        if self.cause:
            self.cause = ""
            self._update()

    def _offer_removal(self, row: dict | None) -> None:
        if row is None or self.page.runner is not None:
            return
        self.dangling = row["Id"]
        short = self.dangling.split(":", 1)[-1][:12]
        self.remove_button.setText(f"Remove the unfinished image ({short}, {human_size(row.get('Size') or 0)})")
        self.remove_button.setToolTip("The failed build left this untagged image (its last finished step). "
                                      "Nothing uses it; removing it frees the space.")
        self.remove_button.setEnabled(True)
        self._update()

    def remove_image(self) -> None:
        image = self.dangling
        if not image:
            return
        session = self.page.session
        engine = session.engine
        self.remove_button.setEnabled(False)

        def removed(_result) -> None:
            self.dangling = ""
            self._update()
            self.statusMessage.emit(f"Removed the unfinished image {image.split(':', 1)[-1][:12]}", "")

        def failed(exc: BaseException) -> None:
            self.remove_button.setEnabled(True)
            self.statusMessage.emit(f"Cannot remove the unfinished image: {exc}", "failed")

        Op(self, lambda: remove_image(engine, image), "Cannot remove the image").success(removed) \
            .failure(failed).run(session.changes)

    def _update(self) -> None:
        self.text.setVisible(bool(self.cause))
        self.remove_button.setVisible(bool(self.dangling))
        self.setVisible(bool(self.cause or self.dangling))
