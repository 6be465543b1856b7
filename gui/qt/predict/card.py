"""PredictionCard: one picture's thumbnail, its top labels as score bars, the round trip, or what failed."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import NamedTuple

from PySide6.QtCore import QEvent, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QFont, QImage, QPainter, QPixmap
from PySide6.QtWidgets import QApplication, QFrame, QLabel, QSizePolicy, QWidget

from gui.predict import Prediction
from gui.qt.common import style

CARD_WIDTH = 212
THUMB_HEIGHT = 132
CARD_HEIGHT = THUMB_HEIGHT + 170
THUMB_BOX = QSize(CARD_WIDTH - 20, THUMB_HEIGHT)  # thumbnails are made to fit it (on the workers)
BARS_SHOWN = 3
UNSURE_BELOW = 0.6  # a best score under this, or two best scores this close, is no answer to trust
CLOSE_MARGIN = 0.1

_MARGINS = (10, 10, 10, 8)  # left, top, right, bottom
_SPACING = 4
_HEAD_SPACING = 6  # between the best label and the unsure badge


class _Rows(NamedTuple):
    name: int
    head: int


_row_cache: dict[str, _Rows] = {}


def _rows(card: PredictionCard) -> _Rows:
    """The heights of the name and best-label rows, the same for every card in a given app font and
    stylesheet (asked of the first card shown, once its labels are polished)."""
    app = QApplication.instance()
    key = f"{app.font().toString()}|{hash(app.styleSheet())}" if app is not None else ""
    rows = _row_cache.get(key)
    if rows is None:
        def line(label: QLabel) -> int:  # one line of the label's text, with its stylesheet's box
            m = label.contentsMargins()
            return label.fontMetrics().height() + m.top() + m.bottom()

        head = max(line(card.top_label), card.unsure.sizeHint().height())
        rows = _row_cache[key] = _Rows(line(card.name_label), head)
    return rows


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
        self.thumb.setFixedSize(THUMB_BOX)
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
        font = QFont(self.status.font())
        font.setPointSizeF(max(7.0, font.pointSizeF() - 1))
        self.status.setFont(font)
        self._placed = False
        self.setFixedSize(self.sizeHint())

    def sizeHint(self) -> QSize:
        return QSize(CARD_WIDTH, CARD_HEIGHT)

    def showEvent(self, event) -> None:
        if not self._placed:
            self._placed = True
            self._place()
        super().showEvent(event)

    def _place(self) -> None:
        """Give the children their places: a column of thumbnail, name, best label (with the unsure badge at
        its right), bars and status, which takes the rest. Placed by hand, not by a layout: a card's size
        never changes, and activating a layout of six widgets (asking each label its size) was most of the
        2.7 ms of UI time a card cost to show, 200 times per dropped batch."""
        rows = _rows(self)
        inside = self.contentsRect()  # inside the card's border (stylesheet)
        x, width = inside.x() + _MARGINS[0], inside.width() - _MARGINS[0] - _MARGINS[2]
        y = inside.y() + _MARGINS[1]
        self.thumb.move(x, y)
        y += THUMB_HEIGHT + _SPACING
        self.name_label.setGeometry(x, y, width, rows.name)
        y += rows.name + _SPACING
        self._head = (x, y, width, rows.head)
        self._place_head()
        y += rows.head + _SPACING
        self.bars.setGeometry(x, y, width, self.bars.height())
        y += self.bars.height() + _SPACING
        self.status.setGeometry(x, y, width, inside.bottom() + 1 - _MARGINS[3] - y)

    def _place_head(self) -> None:
        if not self._placed:
            return
        x, y, width, height = self._head
        if self.unsure.isHidden():
            self.top_label.setGeometry(x, y, width, height)
            return
        hint = self.unsure.sizeHint()
        self.unsure.setGeometry(x + width - hint.width(), y + (height - hint.height()) // 2, hint.width(), hint.height())
        self.top_label.setGeometry(x, y, max(0, width - hint.width() - _HEAD_SPACING), height)

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
        self._place_head()
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
        self._selectable(False)
        self.status.setText(message)
        self.status.setToolTip(message)

    def set_failed(self, message: str, kind: str = "") -> None:
        self.error, self.error_kind = message, kind
        self.top_label.setText("Not a picture" if kind == "picture" else "Failed" if kind else "Cancelled")
        self._selectable(True)  # what went wrong can be copied
        self.status.setText(message)
        self.status.setToolTip(message)
        self._set_state("failed" if kind else "cancelled")

    def _selectable(self, on: bool) -> None:
        """The status text selectable with the mouse, or not: only a failure's words are worth copying, and a
        selectable label keeps a text document of its own (a third of what a card cost to make)."""
        flags = Qt.TextInteractionFlag.TextSelectableByMouse if on else Qt.TextInteractionFlag.NoTextInteraction
        if self.status.textInteractionFlags() != flags:
            self.status.setTextInteractionFlags(flags)

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
