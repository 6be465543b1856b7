"""Render the app icon's PNG sizes and the Windows .ico from the canonical SVG in resources/.

Run after editing the SVG, then `python packaging/sync_resources.py`, and commit the results:
    .venv/bin/python packaging/render_icons.py
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ICONS = ROOT / "resources" / "icons"
SVG = ICONS / "hicolor" / "scalable" / "apps" / "ai-container-studio.svg"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)


def render_png(svg: Path, size: int, out: Path) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"{svg}: not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    out.parent.mkdir(parents=True, exist_ok=True)
    if not image.save(str(out), "PNG"):
        raise SystemExit(f"could not write {out}")


def write_ico(pngs: dict[int, Path], out: Path) -> None:
    from PIL import Image

    biggest = Image.open(pngs[max(ICO_SIZES)])
    biggest.save(out, format="ICO", sizes=[(s, s) for s in ICO_SIZES],
                 append_images=[Image.open(pngs[s]) for s in ICO_SIZES if s != max(ICO_SIZES)])


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 (keeps it alive)
    pngs = {}
    for size in SIZES:
        out = ICONS / "hicolor" / f"{size}x{size}" / "apps" / "ai-container-studio.png"
        render_png(SVG, size, out)
        pngs[size] = out
        print(f"wrote {out.relative_to(ROOT)}")
    ico = ICONS / "ai-container-studio.ico"
    write_ico(pngs, ico)
    print(f"wrote {ico.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
