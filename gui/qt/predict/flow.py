"""FlowLayout: widgets placed left to right and wrapped into rows, like words in a paragraph.

Qt asks a layout for its height at a width several times per event-loop turn, and re-lays it out after
every added widget: the heights are remembered until the layout changes, and a pass moves only the items
whose place changed (200 cards added a few per turn made each pass cost as much as the first).

``reserve()`` keeps room for items still to come: the height then stays the same while they are added a
few per event-loop turn. A height that grew each turn made the scroll area resize the whole grid, and Qt
repaints every visible card on a resize: a 200-picture drop repainted the grid ~100 times, 10-15 ms of
the UI thread's CPU each, and on a loaded machine one such paint took 100-240 ms of wall time."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import QLayout, QLayoutItem, QWidget


class FlowLayout(QLayout):
    """Items of any size in rows that wrap at the layout's width; ``heightForWidth`` makes scrolling work."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 10, margin: int = 12):
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._spacing = spacing
        self._heights: dict[int, int] = {}  # width -> heightForWidth, until invalidate()
        self._minimum: QSize | None = None  # minimumSize(), until invalidate()
        self._placed: dict[int, QRect] = {}  # id(item) -> the geometry last given to it
        self._reserved = (0, QSize())  # room kept for items to come: how many, each of this size
        self.setContentsMargins(margin, margin, margin, margin)

    def addItem(self, item: QLayoutItem) -> None:
        self._items.append(item)
        self.invalidate()

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:
        if not 0 <= index < len(self._items):
            return None
        item = self._items.pop(index)
        self._placed.pop(id(item), None)
        self.invalidate()
        return item

    def reserve(self, count: int, size: QSize) -> None:
        """Keep room for ``count`` more items of ``size`` after the present ones (0 to keep none)."""
        reserved = (max(0, count), QSize(size) if count > 0 else QSize())
        if reserved != self._reserved:
            self._reserved = reserved
            self.invalidate()

    def invalidate(self) -> None:
        self._heights.clear()
        self._minimum = None
        super().invalidate()

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        height = self._heights.get(width)
        if height is None:
            height = self._heights[width] = self._arrange(QRect(0, 0, width, 0), move=False)
        return height

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._arrange(rect, move=True)

    def sizeHint(self) -> QSize:
        return self.minimumSize()

    def minimumSize(self) -> QSize:
        # Remembered like the heights: Qt asks for it on every layout request, and asking 200 cards each
        # time held the UI thread for 30 ms at the end of a 200-picture batch.
        if self._minimum is None:
            size = QSize()
            for item in self._items:
                size = size.expandedTo(item.minimumSize())
            m = self.contentsMargins()
            self._minimum = size + QSize(m.left() + m.right(), m.top() + m.bottom())
        return QSize(self._minimum)

    def _arrange(self, rect: QRect, move: bool) -> int:
        m = self.contentsMargins()
        area = rect.adjusted(m.left(), m.top(), -m.right(), -m.bottom())
        x, y, row_height = area.x(), area.y(), 0
        for item in self._items:
            if item.isEmpty():
                continue
            hint = item.sizeHint()
            if x > area.x() and x + hint.width() > area.right() + 1:
                x = area.x()
                y += row_height + self._spacing
                row_height = 0
            if move:
                place = QRect(QPoint(x, y), hint)
                if self._placed.get(id(item)) != place:
                    self._placed[id(item)] = place
                    item.setGeometry(place)
            x += hint.width() + self._spacing
            row_height = max(row_height, hint.height())
        count, hint = self._reserved
        for _ in range(count):  # the room the reserved items will take, counted as above, nothing placed
            if x > area.x() and x + hint.width() > area.right() + 1:
                x, y, row_height = area.x(), y + row_height + self._spacing, 0
            x += hint.width() + self._spacing
            row_height = max(row_height, hint.height())
        return y + row_height - rect.y() + m.bottom()
