"""Make the sample pictures of the Predict page's "Try sample pictures" (resources/samples/digits/).

Digits as people drop them on the demo digit models: typed (DejaVu fonts, which the models never saw in
training) and drawn with a pen, dark on light and light on dark, off-centre, 200-800 px. Run it again to
remake them, then copy them into the package:
    .venv/bin/python tests/perf/make_digit_samples.py && .venv/bin/python packaging/sync_resources.py
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from PIL import Image, ImageDraw, ImageFont  # noqa: E402

from tests.perf.held_back_digits import PATHS, _spline, fonts  # noqa: E402

OUT = ROOT / "resources" / "samples" / "digits"

# name: (digit, how, canvas size, paper, pen, glyph height, top-left of the glyph, font or pen width)
SAMPLES = {
    "3-typed-black-on-white": (3, "typed", (400, 400), "white", "black", 240, (110, 70), "DejaVuSans-Bold.ttf"),
    "7-typed-white-on-black": (7, "typed", (320, 240), "black", "white", 150, (40, 50), "DejaVuSerif.ttf"),
    "4-typed-small-in-a-corner": (4, "typed", (800, 600), "#f2efe6", "#333333", 160, (560, 380),
                                  "DejaVuSansMono.ttf"),
    "9-typed-slanted": (9, "typed", (300, 300), "#fff6c8", "black", 200, (60, 40), "DejaVuSans-Oblique.ttf"),
    "2-drawn-marker": (2, "drawn", (600, 600), "white", "black", 420, (150, 90), 42),
    "5-drawn-blue-pen": (5, "drawn", (500, 400), "white", "#1a2fa8", 260, (90, 70), 7),
    "8-drawn-white-on-dark": (8, "drawn", (256, 256), "#202428", "white", 190, (70, 30), 16),
    "0-drawn-chalk": (0, "drawn", (240, 320), "#0d3b1e", "#e8e8e8", 200, (50, 60), 12),
}


def typed(digit: int, height: int, font_name: str) -> Image.Image:
    """A mask (L, white ink) of the digit typed `height` pixels tall."""
    path = next((f for f in fonts() if f.name == font_name), None)
    if path is None:
        raise SystemExit(f"{font_name} is missing: install the DejaVu fonts (fonts-dejavu-core)")
    face = ImageFont.truetype(str(path), int(height * 1.4))
    mask = Image.new("L", (height * 2, height * 2), 0)
    ImageDraw.Draw(mask).text((height // 3, 0), str(digit), fill=255, font=face)
    mask = mask.crop(mask.getbbox())
    return mask.resize((max(1, round(mask.width * height / mask.height)), height), Image.Resampling.LANCZOS)


def drawn(digit: int, height: int, width: int) -> Image.Image:
    """A mask of the digit drawn with a round pen `width` pixels wide."""
    w = int(height * 0.7)
    mask = Image.new("L", (w + 2 * width, height + 2 * width), 0)
    draw = ImageDraw.Draw(mask)
    for path in PATHS[digit][0]:
        xy = [(width + x * w, width + y * height) for x, y in _spline(path)]
        draw.line(xy, fill=255, width=width, joint="curve")
        for x, y in (xy[0], xy[-1]):
            draw.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill=255)
    return mask.crop(mask.getbbox())


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.png"):
        old.unlink()
    for name, (digit, how, size, paper, pen, height, at, extra) in SAMPLES.items():
        mask = typed(digit, height, extra) if how == "typed" else drawn(digit, height, extra)
        img = Image.new("RGB", size, paper)
        img.paste(Image.new("RGB", mask.size, pen), at, mask)
        img = img.quantize(32)  # line art: a palette keeps the files small
        img.save(OUT / f"digit-{name}.png", optimize=True)
    total = sum(p.stat().st_size for p in OUT.glob("*.png"))
    print(f"{len(SAMPLES)} samples, {total // 1024} KiB, in {os.path.relpath(OUT, ROOT)}")


if __name__ == "__main__":
    main()
