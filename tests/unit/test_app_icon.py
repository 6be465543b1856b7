"""gui.app.app_icon: the windows' icon, every bundled size up to 128 px, each drawn from its own PNG."""

from __future__ import annotations

from PySide6.QtCore import QSize

from gui.app import app_icon
from gui.resources import ICON_SIZES


def test_window_icon_has_the_small_sizes_and_draws_them(qapp):
    icon = app_icon()
    sizes = sorted(s.width() for s in icon.availableSizes())
    assert sizes == [s for s in ICON_SIZES if s <= 128]
    for size in sizes:
        image = icon.pixmap(QSize(size, size)).toImage()
        assert image.width() == size and not image.isNull()
        # a real picture, not an empty pixmap: some pixel is not transparent
        assert any(image.pixelColor(x, y).alpha() > 0 for x in range(0, size, max(1, size // 8))
                   for y in range(0, size, max(1, size // 8)))
