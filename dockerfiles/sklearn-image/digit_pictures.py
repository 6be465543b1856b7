"""Training pictures for the demo digit models, made at build time with nothing downloaded.

Three kinds, all as Pillow pictures a user might drop (either polarity, any size, off-centre):
- load_digits rows (8x8 handwriting) enlarged, thickened or thinned, shifted, with margins;
- digits typed with the font Pillow ships (Aileron, via ImageFont.load_default(size=...)) and Pillow's
  small bitmap font, bold or thin, slanted, narrow or wide, slightly turned;
- digits drawn with a pen: hand-made stroke outlines per digit, jittered, in several widths.
train_demo.py passes every one of them through the serving code's ink.fit_ink, as the server does.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont


def _arc(cx, cy, rx, ry, a0, a1, n=14):
    return [
        (cx + rx * math.cos(math.radians(a)), cy + ry * math.sin(math.radians(a)))
        for a in np.linspace(a0, a1, n)
    ]


# Stroke outlines in a unit box (x right, y down); several ways of writing some digits.
STROKES: dict[int, list[list[list[tuple[float, float]]]]] = {
    0: [
        [_arc(0.5, 0.5, 0.3, 0.45, 0, 360, 24)],
        [_arc(0.5, 0.5, 0.22, 0.45, -90, 275, 24)],
        [_arc(0.5, 0.5, 0.3, 0.45, 0, 360, 24), _arc(0.5, 0.5, 0.04, 0.05, 0, 360, 8)],  # dotted zero
    ],
    1: [
        [[(0.5, 0.05), (0.5, 0.95)]],
        [[(0.28, 0.28), (0.55, 0.05), (0.55, 0.95)]],
        [[(0.3, 0.25), (0.55, 0.05), (0.55, 0.95)], [(0.3, 0.95), (0.8, 0.95)]],
    ],
    2: [
        [_arc(0.5, 0.3, 0.3, 0.25, 200, 400) + [(0.18, 0.95), (0.85, 0.95)]],
        [_arc(0.5, 0.3, 0.28, 0.25, 190, 380) + [(0.2, 0.92), (0.3, 0.85), (0.45, 0.95), (0.85, 0.93)]],
    ],
    3: [
        [_arc(0.5, 0.28, 0.28, 0.22, 200, 450), _arc(0.5, 0.72, 0.32, 0.23, 270, 520)],
        [[(0.2, 0.05), (0.8, 0.05), (0.45, 0.42)] + _arc(0.5, 0.7, 0.32, 0.25, 270, 520)],
    ],
    4: [
        [[(0.6, 0.05), (0.12, 0.66), (0.88, 0.66)], [(0.65, 0.35), (0.65, 0.95)]],
        [[(0.25, 0.05), (0.2, 0.6), (0.85, 0.6)], [(0.7, 0.05), (0.7, 0.95)]],
        [[(0.65, 0.95), (0.65, 0.05), (0.12, 0.68), (0.88, 0.68)]],
        [[(0.65, 0.95), (0.65, 0.05), (0.12, 0.68), (0.88, 0.68)], [(0.45, 0.95), (0.85, 0.95)]],  # serif foot
    ],
    5: [
        [[(0.8, 0.05), (0.3, 0.05), (0.25, 0.45)], _arc(0.5, 0.68, 0.3, 0.27, 220, 510)],
        [[(0.3, 0.05), (0.25, 0.45)] + _arc(0.5, 0.68, 0.3, 0.27, 220, 510), [(0.3, 0.05), (0.8, 0.05)]],
    ],
    6: [
        [_arc(0.75, 0.6, 0.55, 0.55, 250, 180) + _arc(0.5, 0.7, 0.3, 0.25, 180, 540)],
        [[(0.7, 0.05), (0.25, 0.6)] + _arc(0.5, 0.7, 0.27, 0.25, 200, 560)],
    ],
    7: [
        [[(0.15, 0.05), (0.85, 0.05), (0.4, 0.95)]],
        [[(0.15, 0.05), (0.85, 0.05), (0.4, 0.95)], [(0.35, 0.5), (0.75, 0.5)]],
        [[(0.15, 0.2), (0.15, 0.05), (0.85, 0.05), (0.55, 0.95)]],
    ],
    8: [
        [_arc(0.5, 0.27, 0.25, 0.22, 0, 360), _arc(0.5, 0.72, 0.3, 0.24, 0, 360)],
        [_arc(0.5, 0.27, 0.22, 0.22, 90, 450) + _arc(0.5, 0.72, 0.3, 0.24, -90, 270)],
    ],
    9: [
        [_arc(0.5, 0.3, 0.3, 0.25, 0, 360), [(0.8, 0.3), (0.75, 0.95)]],
        [_arc(0.5, 0.3, 0.3, 0.25, 0, 360) + _arc(0.2, 0.3, 0.6, 0.65, 0, 80)],
        [_arc(0.45, 0.3, 0.28, 0.25, 0, 360), [(0.73, 0.3), (0.45, 0.95)]],
    ],
}


def _finish(ink: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Ink on black (L) -> a picture as a user drops it: some polarity, contrast, blur and noise."""
    if rng.random() < 0.3:
        ink = ink.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.5)))
    a = np.asarray(ink, dtype=np.float32) / 255.0
    paper, pen = rng.uniform(0.0, 0.15), rng.uniform(0.75, 1.0)
    a = paper + a * (pen - paper)
    if rng.random() < 0.3:
        a = a + rng.normal(0.0, rng.uniform(0.01, 0.05), a.shape)
    if rng.random() < 0.5:
        a = 1.0 - a
    return Image.fromarray(np.clip(a * 255.0, 0, 255).astype(np.uint8), "L")


def _canvas_for(glyph: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Paste the glyph (ink on black, cropped) off-centre on a bigger canvas with margins."""
    gw, gh = glyph.size
    side = int(max(gw, gh) * rng.uniform(1.1, 2.5))
    cw, ch = max(side, gw + 2), max(int(side * rng.uniform(0.8, 1.25)), gh + 2)
    canvas = Image.new("L", (cw, ch), 0)
    canvas.paste(glyph, (int(rng.integers(0, cw - gw + 1)), int(rng.integers(0, ch - gh + 1))))
    return canvas


def _slant(img: Image.Image, rng: np.random.Generator, shear=0.25, turn=10.0, squash=(0.7, 1.25)):
    """Shear, turn and stretch an ink-on-black picture; the result is cropped to the ink."""
    w, h = img.size
    sx = rng.uniform(*squash)
    img = img.resize((max(1, int(w * sx)), h), Image.Resampling.BILINEAR)
    k = rng.uniform(-shear, shear)
    w = img.size[0]
    pad = int(abs(k) * h) + 2
    img = img.transform(
        (w + 2 * pad, h), Image.Transform.AFFINE, (1, k, -pad - k * h / 2, 0, 1, 0), Image.Resampling.BILINEAR
    )
    img = img.rotate(rng.uniform(-turn, turn), Image.Resampling.BILINEAR, expand=True)
    box = img.getbbox()
    return img.crop(box) if box else img


def _thickness(img: Image.Image, rng: np.random.Generator, most: int) -> Image.Image:
    k = int(rng.integers(-most, most + 1))
    if k > 0:
        return img.filter(ImageFilter.MaxFilter(2 * k + 1))
    if k < 0:
        return img.filter(ImageFilter.MinFilter(2 * -k + 1))
    return img


def from_load_digits(image8: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """One 8x8 load_digits picture (0..16) as something a user could drop."""
    a = Image.fromarray(np.round(image8 * 255.0 / 16.0).astype(np.uint8), "L")
    if rng.random() < 0.25:
        return _finish(a, rng) if rng.random() < 0.5 else a  # as small as it comes
    size = int(rng.choice([16, 24, 32, 48, 64]))
    method = Image.Resampling.NEAREST if rng.random() < 0.3 else Image.Resampling.BILINEAR
    a = a.resize((size, size), method)
    a = _thickness(a, rng, max(1, size // 24))
    if rng.random() < 0.5:
        a = _slant(a, rng, shear=0.15, turn=8.0, squash=(0.8, 1.2))
    return _finish(_canvas_for(a, rng), rng)


def typed(digit: int, rng: np.random.Generator) -> Image.Image:
    """A digit typed with Pillow's own fonts, in some weight, slant and size."""
    if rng.random() < 0.15:
        font = ImageFont.load_default_imagefont()  # Pillow's small bitmap font
        small = Image.new("L", (12, 14), 0)
        ImageDraw.Draw(small).text((2, 1), str(digit), fill=255, font=font)
        box = small.getbbox() or (0, 0, 12, 14)
        glyph = small.crop(box)
        f = int(rng.integers(3, 12))
        glyph = glyph.resize((glyph.size[0] * f, glyph.size[1] * f), Image.Resampling.NEAREST)
    else:
        size = int(rng.integers(24, 120))
        font = ImageFont.load_default(size=size)
        stroke = int(rng.integers(0, max(1, size // 10) + 1)) if rng.random() < 0.6 else 0
        pic = Image.new("L", (size * 2, size * 2), 0)
        ImageDraw.Draw(pic).text((size // 2, size // 4), str(digit), fill=255, font=font,
                                 stroke_width=stroke, stroke_fill=255)
        glyph = _slant(pic, rng)
        glyph = _thickness(glyph, rng, max(1, size // 30))
    box = glyph.getbbox()
    return _finish(_canvas_for(glyph.crop(box) if box else glyph, rng), rng)


def drawn(digit: int, rng: np.random.Generator) -> Image.Image:
    """A digit drawn with a round pen from one of its stroke outlines, jittered."""
    strokes = STROKES[digit][int(rng.integers(len(STROKES[digit])))]
    h = int(rng.integers(40, 200))
    w = int(h * rng.uniform(0.55, 1.0))
    width = max(1, int(h * rng.uniform(0.03, 0.2)))
    pad = width + 4
    pic = Image.new("L", (w + 2 * pad, h + 2 * pad), 0)
    draw = ImageDraw.Draw(pic)
    wobble = rng.uniform(0.0, 0.035)
    for stroke in strokes:
        pts = np.array(stroke) + rng.normal(0.0, wobble, (len(stroke), 2))
        xy = [(pad + x * w, pad + y * h) for x, y in pts]
        draw.line(xy, fill=255, width=width, joint="curve")
        r = width / 2
        for x, y in (xy[0], xy[-1]):
            draw.ellipse((x - r, y - r, x + r, y + r), fill=255)
    glyph = _slant(pic, rng, shear=0.3, turn=12.0, squash=(0.75, 1.2))
    return _finish(_canvas_for(glyph, rng), rng)
