"""Digit pictures the demo models never saw while training: typed with the DejaVu fonts of this computer
(the build only has Pillow's Aileron) and drawn by a pen model written separately from the training one
(dockerfiles/sklearn-image/digit_pictures.py), with their own seeds, at the sizes people drop (200-800 px).

Used by tests/perf/bench_demo_accuracy.py and tests/engine/test_demo_model.py.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts")
FONT_NAMES = (
    "DejaVuSans.ttf",
    "DejaVuSans-Bold.ttf",
    "DejaVuSans-ExtraLight.ttf",
    "DejaVuSans-Oblique.ttf",
    "DejaVuSansCondensed.ttf",
    "DejaVuSansMono.ttf",
    "DejaVuSansMono-Bold.ttf",
    "DejaVuSerif.ttf",
    "DejaVuSerif-Bold.ttf",
    "DejaVuSerif-Italic.ttf",
    "DejaVuSerifCondensed.ttf",
)


def fonts() -> list[Path]:
    """The held-back fonts found here (none of them is in the image the model is trained in)."""
    found = {}
    for root in FONT_DIRS:
        if root.is_dir():
            for path in root.rglob("*.ttf"):
                if path.name in FONT_NAMES:
                    found.setdefault(path.name, path)
    return [found[n] for n in FONT_NAMES if n in found]


def _spline(points, n=12):
    """Catmull-Rom through `points` (a smooth pen path)."""
    p = [points[0], *points, points[-1]]
    out = []
    for i in range(1, len(p) - 2):
        p0, p1, p2, p3 = (np.asarray(q, dtype=float) for q in p[i - 1 : i + 3])
        for t in np.linspace(0, 1, n, endpoint=False):
            out.append(
                0.5
                * (
                    2 * p1
                    + (-p0 + p2) * t
                    + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t * t
                    + (-p0 + 3 * p1 - 3 * p2 + p3) * t**3
                )
            )
    out.append(np.asarray(points[-1], dtype=float))
    return [tuple(q) for q in out]


def _ring(cx, cy, rx, ry, start=-90.0, turn=360.0, k=9):
    return [
        (cx + rx * math.cos(math.radians(start + turn * i / k)), cy + ry * math.sin(math.radians(start + turn * i / k)))
        for i in range(k + 1)
    ]


# How a person draws each digit with a mouse or a finger: smooth paths through a few points (0..1 box).
PATHS = {
    0: [[_ring(0.5, 0.5, 0.34, 0.46, -100, 370)]],
    1: [[[(0.35, 0.2), (0.6, 0.02), (0.6, 0.98)]], [[(0.52, 0.02), (0.48, 0.98)]]],
    2: [[[(0.2, 0.25), (0.45, 0.03), (0.78, 0.15), (0.75, 0.42), (0.2, 0.97), (0.85, 0.97)]]],
    3: [[[(0.2, 0.1), (0.55, 0.02), (0.78, 0.22), (0.45, 0.47), (0.82, 0.7), (0.55, 0.97), (0.18, 0.88)]]],
    4: [[[(0.55, 0.02), (0.15, 0.65), (0.9, 0.65)], [(0.68, 0.3), (0.68, 0.98)]]],
    5: [[[(0.82, 0.03), (0.32, 0.03), (0.27, 0.44), (0.62, 0.4), (0.82, 0.68), (0.6, 0.95), (0.2, 0.9)]]],
    6: [[[(0.72, 0.03), (0.35, 0.3), (0.22, 0.7), (0.5, 0.97), (0.78, 0.72), (0.5, 0.5), (0.24, 0.68)]]],
    7: [[[(0.12, 0.04), (0.88, 0.04), (0.6, 0.5), (0.42, 0.98)]]],
    8: [[[(0.72, 0.2), (0.5, 0.02), (0.28, 0.2), (0.72, 0.72), (0.5, 0.98), (0.26, 0.72), (0.72, 0.22)]]],
    9: [[[(0.76, 0.3), (0.5, 0.05), (0.24, 0.28), (0.5, 0.52), (0.76, 0.3), (0.74, 0.98)]]],
}


def _to_png(img: Image.Image, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **({"quality": 85} if fmt == "JPEG" else {}))
    return buf.getvalue()


def _colours(rng):
    """(paper, pen) in RGB: dark-on-light or light-on-dark, sometimes coloured."""
    light = tuple(int(v) for v in rng.integers(215, 256, 3))
    dark = tuple(int(v) for v in rng.integers(0, 50, 3))
    if rng.random() < 0.2:
        dark = (20, 40, 170)  # blue ball-point
    return (light, dark) if rng.random() < 0.5 else (dark, light)


def _place(glyph_mask: Image.Image, rng, side_range=(200, 800)) -> Image.Image:
    """A canvas of a realistic size with the glyph (an L mask) somewhere on it, in some colours."""
    gw, gh = glyph_mask.size
    side = int(rng.integers(*side_range))
    scale = side * rng.uniform(0.25, 0.8) / max(gw, gh)
    glyph_mask = glyph_mask.resize((max(1, int(gw * scale)), max(1, int(gh * scale))), Image.Resampling.LANCZOS)
    gw, gh = glyph_mask.size
    cw, ch = max(side, gw + 4), max(int(side * rng.uniform(0.7, 1.4)), gh + 4)
    paper, pen = _colours(rng)
    canvas = Image.new("RGB", (cw, ch), paper)
    canvas.paste(Image.new("RGB", (gw, gh), pen), (int(rng.integers(0, cw - gw)), int(rng.integers(0, ch - gh))), glyph_mask)
    return canvas


def typed_picture(digit: int, font: Path, rng) -> bytes:
    size = int(rng.integers(60, 300))
    face = ImageFont.truetype(str(font), size)
    mask = Image.new("L", (size * 2, size * 2), 0)
    stroke = int(rng.integers(0, max(1, size // 25) + 1)) if rng.random() < 0.3 else 0
    ImageDraw.Draw(mask).text((size // 2, size // 4), str(digit), fill=255, font=face, stroke_width=stroke, stroke_fill=255)
    mask = mask.crop(mask.getbbox())
    img = _place(mask, rng)
    return _to_png(img, "JPEG" if rng.random() < 0.3 else "PNG")


def drawn_picture(digit: int, rng) -> bytes:
    paths = PATHS[digit][int(rng.integers(len(PATHS[digit])))]
    h = 400
    w = int(h * rng.uniform(0.6, 0.95))
    width = int(rng.integers(3, 60))
    mask = Image.new("L", (w + 2 * width, h + 2 * width), 0)
    draw = ImageDraw.Draw(mask)
    for path in paths:
        pts = np.asarray(path) + rng.normal(0, 0.02, (len(path), 2))
        xy = [(width + x * w, width + y * h) for x, y in _spline([tuple(p) for p in pts])]
        draw.line(xy, fill=255, width=width, joint="curve")
        for x, y in (xy[0], xy[-1]):
            draw.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill=255)
    mask = mask.rotate(rng.uniform(-8, 8), Image.Resampling.BICUBIC, expand=True)
    if rng.random() < 0.3:
        mask = mask.filter(ImageFilter.GaussianBlur(2))
    mask = mask.crop(mask.getbbox())
    return _to_png(_place(mask, rng), "JPEG" if rng.random() < 0.2 else "PNG")


def held_back_set(n: int, seed: int = 20240917) -> list[tuple[str, int, bytes]]:
    """n pictures (kind, digit, bytes): typed with every held-back font and drawn, both polarities."""
    rng = np.random.default_rng(seed)
    found = fonts()
    out = []
    for i in range(n):
        digit = i % 10
        if found and i % 2 == 0:
            out.append(("typed", digit, typed_picture(digit, found[(i // 2) % len(found)], rng)))
        else:
            out.append(("drawn", digit, drawn_picture(digit, rng)))
    return out


def load_digits_png(row: np.ndarray) -> bytes:
    """A load_digits row (0..16) as the 8x8 PNG it is."""
    return _to_png(Image.fromarray(np.round(row.reshape(8, 8) * 255 / 16).astype(np.uint8), "L"))
