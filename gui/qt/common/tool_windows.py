"""Tool windows (logs, inspect, copy files …): one per (tool, object), brought to the front when opened again."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget


class ToolWindows:
    """One window per (tool, object): opening it again brings the open one to the front."""

    def __init__(self, parent: QWidget):
        self.parent = parent
        self.open: dict[tuple[str, str], QWidget] = {}

    def show(self, tool: str, key: str, title: str, make) -> QWidget:
        existing = self.open.get((tool, key))
        if existing is not None:
            existing.show()
            existing.raise_()
            existing.activateWindow()
            return existing
        widget = make()
        widget.setParent(self.parent, Qt.WindowType.Window)
        widget.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        widget.setWindowTitle(title)
        widget.resize(900, 600)
        widget.destroyed.connect(lambda _=None, k=(tool, key): self.open.pop(k, None))
        self.open[(tool, key)] = widget
        widget.show()
        return widget

    def close_all(self) -> None:
        for widget in list(self.open.values()):
            widget.close()
