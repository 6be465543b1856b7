"""PredictionCard: one picture's thumbnail, its top labels as score bars, the round trip, or what failed."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QFont, QImage, QPainter, QPixmap
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from gui.predict import Prediction
from gui.qt.common import style

CARD_WIDTH = 212
THUMB_HEIGHT = 132
CARD_HEIGHT = THUMB_HEIGHT + 170
BARS_SHOWN = 3
UNSURE_BELOW = 0.6  # a best score under this, or two best scores this close, is no answer to trust
CLOSE_MARGIN = 0.1

# The cards are styled by objectName in the application stylesheet (style.py): no style sheet per card,
# which would cost 200 parses per batch. The bars are painted in these roles, best label first.
BAR_ROLES = ("chart-1", "chart-2", "chart-3")
MUTED_BAR_ROLES = ("chart-muted-1", "chart-muted-2", "chart-muted-3")


def doubt(prediction: Prediction) -> str:
    """Why the answer should not be trusted, in words, or "": the server's reason (studio-v1 ``unsure``)
    when it gives one, else a best score that is low or hardly above the second (probabilities only)."""
    if prediction.unsure:
        return prediction.unsure
    scores = [s for s in prediction.scores if s is not None]
    if not scores or not all(0.0 <= s <= 1.0 for s in scores):
        return ""  # no scores, or not probabilities (logits, a regression's value)
    if scores[0] < UNSURE_BELOW:
        return f"the best score is only {scores[0] * 100:.0f} %"
    if len(scores) > 1 and scores[0] - scores[1] < CLOSE_MARGIN:
        return f"the two best labels score almost the same ({scores[0] * 100:.0f} % and {scores[1] * 100:.0f} %)"
    return ""


class ScoreBars(QWidget):
    """The best labels, each as a name, a bar as long as its score and the score in percent."""

    painted = Signal(float)  # perf_counter() of the first paint that showed labels

    ROW = 19

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("cardScores")
        self.rows: list[tuple[str, float | None]] = []
        self.muted = False  # grey bars: the answer is unsure
        self.painted_at: float | None = None
        self._dark: bool | None = None  # style.is_dark, read again after a palette change
        self.setFixedHeight(self.ROW * BARS_SHOWN)

    def changeEvent(self, event) -> None:
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            self._dark = None
        super().changeEvent(event)

    def set_rows(self, rows: list[tuple[str, float | None]]) -> None:
        self.rows = rows[:BARS_SHOWN]
        self.painted_at = None
        self.update()

    def paintEvent(self, event) -> None:
        if not self.rows:
            return
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        if self._dark is None:
            self._dark = style.is_dark(self)
        dark = self._dark
        text_color = self.palette().windowText().color()
        fm = p.fontMetrics()
        w = self.width()
        name_w = 62
        pct_w = fm.horizontalAdvance("100.0%") + 6  # a fixed 44 px let "100.0%" run into its bar
        for i, (label, score) in enumerate(self.rows):
            y = i * self.ROW
            p.setPen(text_color)
            p.drawText(QRectF(0, y, name_w - 4, self.ROW), Qt.AlignmentFlag.AlignVCenter,
                       fm.elidedText(label, Qt.TextElideMode.ElideRight, name_w - 6))
            track = QRectF(name_w, y + 5, w - name_w - pct_w, self.ROW - 10)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(style.themed_color("chart-track", dark))
            p.drawRoundedRect(track, 3, 3)
            if score is not None:
                fill = QRectF(track.x(), track.y(), track.width() * max(0.0, min(1.0, score)), track.height())
                roles = MUTED_BAR_ROLES if self.muted else BAR_ROLES
                p.setBrush(style.themed_color(roles[min(i, len(roles) - 1)], dark))
                p.drawRoundedRect(fill, 3, 3)
            p.setPen(style.themed_color("muted", dark))
            text = "" if score is None else f"{score * 100:.1f}%" if score <= 1.0 else f"{score:.3g}"
            p.drawText(QRectF(w - pct_w, y, pct_w, self.ROW),
                       Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, text)
        p.end()
        if self.painted_at is None:
            self.painted_at = time.perf_counter()
            self.painted.emit(self.painted_at)


class PredictionCard(QFrame):
    """A card for one picture. States: ``waiting``, ``done``, ``failed`` (property ``state``).

    Children: ``cardThumb``, ``cardName``, ``cardTopLabel`` (the best label; also property ``topLabel``),
    ``cardUnsure`` (shown when the answer is not to be trusted; its reason is property ``unsure``),
    ``cardScores`` (bars) and ``cardStatus`` (round trip, or what went wrong).
    """

    def __init__(self, name: str, parent=None, on_state: Callable[[str, str], None] | None = None):
        """``on_state(old, new)`` is called on each change of state (the page keeps its counts with it)."""
        super().__init__(parent)
        self.setObjectName("predictionCard")
        self._state = "waiting"  # also the Qt property "state" (for the stylesheet); this is read often
        self._on_state = on_state
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.name = name
        self.prediction: Prediction | None = None
        self.error = ""
        self.error_kind = ""
        self.setProperty("state", "waiting")
        self.setProperty("topLabel", "")
        self.setProperty("unsure", "")

        self.thumb = QLabel("…", self)
        self.thumb.setObjectName("cardThumb")
        self.thumb.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.thumb.setFixedSize(CARD_WIDTH - 20, THUMB_HEIGHT)
        self.name_label = QLabel(self)
        self.name_label.setObjectName("cardName")
        self.name_label.setToolTip(name)
        self.name_label.setText(self.name_label.fontMetrics().elidedText(
            name, Qt.TextElideMode.ElideMiddle, CARD_WIDTH - 24))
        self.top_label = QLabel(self)
        self.top_label.setObjectName("cardTopLabel")
        self.unsure = QLabel("unsure", self)
        self.unsure.setObjectName("cardUnsure")
        self.unsure.hide()
        self.bars = ScoreBars(self)
        self.status = QLabel("Waiting…", self)
        self.status.setObjectName("cardStatus")
        self.status.setWordWrap(True)
        self.status.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = QFont(self.status.font())
        font.setPointSizeF(max(7.0, font.pointSizeF() - 1))
        self.status.setFont(font)

        head = QHBoxLayout()
        head.setContentsMargins(0, 0, 0, 0)
        head.addWidget(self.top_label, 1)
        head.addWidget(self.unsure, 0, Qt.AlignmentFlag.AlignVCenter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 10, 10, 8)
        layout.setSpacing(4)
        layout.addWidget(self.thumb)
        layout.addWidget(self.name_label)
        layout.addLayout(head)
        layout.addWidget(self.bars)
        layout.addWidget(self.status, 1)
        self.setFixedSize(self.sizeHint())

    def sizeHint(self) -> QSize:
        return QSize(CARD_WIDTH, CARD_HEIGHT)

    @property
    def state(self) -> str:
        return self._state

    @property
    def top(self) -> str:
        return self.property("topLabel")

    def set_thumbnail(self, image: QImage | None, note: str = "") -> None:
        if image is None or image.isNull():
            self.thumb.setText(note or "no preview")
            return
        pix = QPixmap.fromImage(image)
        if pix.width() > self.thumb.width() or pix.height() > self.thumb.height():
            pix = pix.scaled(self.thumb.size(), Qt.AspectRatioMode.KeepAspectRatio,
                             Qt.TransformationMode.SmoothTransformation)
        self.thumb.setPixmap(pix)

    def set_prediction(self, prediction: Prediction) -> None:
        self.prediction = prediction
        top = prediction.top_label or "(no label)"
        self.setProperty("topLabel", top)
        self.top_label.setText(top)
        reason = doubt(prediction)
        self.setProperty("unsure", reason)
        self.unsure.setVisible(bool(reason))
        self.unsure.setToolTip(f"Unsure: {reason}" if reason else "")
        self.bars.muted = bool(reason)
        self.bars.set_rows(list(zip(prediction.labels, prediction.scores, strict=True)))
        text = f"{prediction.round_trip_ms:.0f} ms round trip"
        if prediction.server_ms is not None:
            text += f" · model {prediction.server_ms:.1f} ms"
        if prediction.served_by:
            text += f" · {prediction.served_by}"
        if reason:
            text = f"Unsure: {reason}. {text}"
        self.status.setText(text)
        self.status.setToolTip("\n".join(filter(None, [text, prediction.note])))
        self._set_state("done")

    def set_waiting(self, message: str) -> None:
        """Still waiting, and why (its model's container stopped)."""
        self.status.setText(message)
        self.status.setToolTip(message)

    def set_failed(self, message: str, kind: str = "") -> None:
        self.error, self.error_kind = message, kind
        self.top_label.setText("Not a picture" if kind == "picture" else "Failed" if kind else "Cancelled")
        self.status.setText(message)
        self.status.setToolTip(message)
        self._set_state("failed" if kind else "cancelled")

    def _set_state(self, state: str) -> None:
        old, self._state = self._state, state
        self.setProperty("state", state)
        if self._on_state is not None and old != state:
            self._on_state(old, state)
        self.status.setProperty("state", state)
        if state != "failed":
            return  # only failed cards look different: skip the costly re-polish of 200 answered cards
        for w in (self, self.status):
            w.style().unpolish(w)
            w.style().polish(w)
