"""Pictures of one drawn or typed mark (a digit) made to look like the demo models' training pictures.

A user drops dark ink on white paper, a white digit on a black screen, a small digit off to one side of a
big picture, thin pen or bold marker. The demo models were trained on pictures that went through this
very module (train_demo.py imports it), so what they learnt and what they get always match:

1. polarity from the background: the median of the border pixels is the paper, the rest is ink;
2. crop to the ink, keep its aspect ratio, leave a margin, centre it by its centre of mass (as MNIST);
3. draw it on a canvas 4 times the model's input, thicken hair-thin strokes, then average 4x4 blocks
   (how the 8x8 load_digits pictures were made from 32x32 bitmaps).

Enabled by `"fit": "ink"` in the input spec (pictures.to_array calls `fit_ink`); user models without it
never come here. `doubt` explains in words why an answer should not be trusted ("unsure" in studio-v1).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

WORK_SIDE = 256  # pictures are looked at with at most this many pixels on their longer side
FINE = 4  # the canvas is FINE times the model's input before block averaging
FILL = 0.875  # the ink's longer side covers this much of the canvas: the rest is margin
INK = 0.35  # ink strength (0..1) from which a pixel counts as ink for the crop
UNSURE_BELOW = 0.6  # a top score under this is reported as unsure
NOTES_FILE = "about.json"
REDUCIBLE = ("L", "LA", "RGB", "RGBA", "I", "F")
SMALL = 24  # pictures smaller than this across are taken as already cut to the digit
PHOTO_COLOURS = 12  # more colours than this cover 90 % of the picture: a photo (see _colours)  # beside the model: how pictures reach it and what it recognises


@dataclass(frozen=True)
class Fitted:
    """One picture ready for the model, and why its answer may be doubtful ("" when it looks fine)."""

    array: np.ndarray  # [height, width, channels] float32, in the spec's range and polarity
    doubt: str = ""


def fit_ink(img: Image.Image, spec: dict) -> Fitted:
    """Crop, centre and scale the ink of `img` to the model input the spec describes."""
    width, height, channels = int(spec["width"]), int(spec["height"]), int(spec.get("channels", 1))
    strength, doubt = ink_strength(img)
    out = place_ink(strength, width, height)
    if spec.get("polarity") == "dark-on-light":
        out = 1.0 - out
    arr = np.repeat(out[:, :, None], channels, axis=2)
    lo, hi = spec.get("range", [0.0, 1.0])
    return Fitted((arr * (float(hi) - float(lo)) + float(lo)).astype(np.float32), doubt)


def greyscale(img: Image.Image) -> tuple[np.ndarray, int]:
    """Brightness 0..1 of a copy at most WORK_SIDE pixels across (transparent parts become paper), and
    how many colours cover most of the picture (a drawing has paper, ink and their blend: a photo more)."""
    if img.format == "JPEG":
        img.draft("L", (WORK_SIDE, WORK_SIDE))  # decode big JPEGs at a reduced scale
    if getattr(img, "n_frames", 1) > 1:
        img.seek(0)
    has_alpha = img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info)
    factor = max(img.size) // WORK_SIDE
    if factor >= 2 and img.mode in REDUCIBLE:
        img = img.reduce(factor)  # before any conversion: a big picture never exists twice
    colours = _colours(img)
    img = img.convert("RGBA" if has_alpha else "L")
    if max(img.size) > WORK_SIDE:
        scale = WORK_SIDE / max(img.size)
        size = (max(1, round(img.size[0] * scale)), max(1, round(img.size[1] * scale)))
        img = img.resize(size, Image.Resampling.BOX)
    if not has_alpha:
        return np.asarray(img, dtype=np.float32) / 255.0, colours
    rgba = np.asarray(img, dtype=np.float32) / 255.0
    lum = rgba[:, :, :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    alpha = rgba[:, :, 3]
    opaque = alpha > 0.5
    if opaque.all() or not opaque.any():
        return lum, colours
    # Strokes on a transparent sheet: the paper is whatever contrasts with the strokes.
    paper = 1.0 if lum[opaque].mean() < 0.5 else 0.0
    return lum * alpha + paper * (1.0 - alpha), colours


def _colours(img: Image.Image) -> int:
    """Colours (8 levels a channel) that cover 90 % of a 64x64 thumbnail: 1-6 for drawn or typed
    digits, even blurred, noisy or in blue ink; 20 and more for photos."""
    small = img.convert("RGB").resize((64, 64), Image.Resampling.BOX)
    _, counts = np.unique(np.asarray(small).reshape(-1, 3) // 32, axis=0, return_counts=True)
    counts = np.sort(counts)[::-1]
    return int(np.searchsorted(np.cumsum(counts), 0.9 * counts.sum()) + 1)


def ink_strength(img: Image.Image) -> tuple[np.ndarray, str]:
    """Per-pixel ink 0..1 (the paper is 0 whatever its colour) and a doubt about the picture."""
    lum, colours = greyscale(img)
    h, w = lum.shape
    ring = max(1, round(0.03 * min(h, w)))
    border = np.concatenate(
        [lum[:ring].ravel(), lum[-ring:].ravel(), lum[:, :ring].ravel(), lum[:, -ring:].ravel()]
    )
    paper = float(np.median(border))
    x = 1.0 - lum if paper > 0.5 else lum
    bg = 1.0 - paper if paper > 0.5 else paper
    peak = float(np.percentile(x, 99.9))
    contrast = peak - bg
    if contrast < 0.12:
        return np.zeros_like(x), "almost no ink: the picture looks blank"
    strength = np.clip((x - bg) / contrast, 0.0, 1.0)
    strength[strength < 0.2] = 0.0  # paper texture, JPEG noise
    ink = strength > INK
    doubt = ""
    if ink.sum() < max(4, 0.0003 * h * w):
        doubt = "almost no ink: the mark is tiny or faint"
    elif min(h, w) < SMALL:
        pass  # already about the model's size (load_digits rows are 8x8 and mostly ink)
    elif colours > PHOTO_COLOURS:
        doubt = "this looks like a photo, not a drawn or typed digit (too many colours and shades)"
    elif ink.mean() > 0.5:
        doubt = "ink covers most of the picture: this does not look like a drawn or typed digit"
    return strength, doubt


def place_ink(strength: np.ndarray, width: int, height: int) -> np.ndarray:
    """The ink cropped, kept in proportion, centred by mass and averaged down to height x width (0..1)."""
    out = np.zeros((height, width), dtype=np.float32)
    ink = strength > INK
    if not ink.any():
        return out
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    crop = strength[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    ch, cw = crop.shape
    fh, fw = height * FINE, width * FINE
    scale = min(fh * FILL / ch, fw * FILL / cw)
    th, tw = max(1, min(fh, round(ch * scale))), max(1, min(fw, round(cw * scale)))
    small = Image.fromarray(crop.astype(np.float32), "F")
    method = Image.Resampling.BOX if th <= ch and tw <= cw else Image.Resampling.BILINEAR
    glyph = np.asarray(small.resize((tw, th), method), dtype=np.float32)
    mass = glyph.sum()
    cy = (glyph.sum(axis=1) @ np.arange(th)) / mass if mass > 0 else th / 2
    cx = (glyph.sum(axis=0) @ np.arange(tw)) / mass if mass > 0 else tw / 2
    top = int(np.clip(round(fh / 2 - cy - 0.5), 0, fh - th))
    left = int(np.clip(round(fw / 2 - cx - 0.5), 0, fw - tw))
    canvas = np.zeros((fh, fw), dtype=np.float32)
    canvas[top : top + th, left : left + tw] = glyph
    canvas = _thicken(canvas)
    out = canvas.reshape(height, FINE, width, FINE).mean(axis=(1, 3))
    peak = out.max()
    return out / peak if peak > 0 else out


def _thicken(canvas: np.ndarray) -> np.ndarray:
    """Widen hair-thin strokes (about 2 canvas pixels or less) by one pixel each side."""
    mask = canvas > 0.3
    area = int(mask.sum())
    if area == 0:
        return canvas
    inner = mask.copy()
    inner[1:] &= mask[:-1]
    inner[:-1] &= mask[1:]
    inner[:, 1:] &= mask[:, :-1]
    inner[:, :-1] &= mask[:, 1:]
    edge = area - int(inner.sum())
    if 2 * area / max(edge, 1) >= 3.0:
        return canvas
    padded = np.pad(canvas, 1)
    h, w = canvas.shape
    return np.max([padded[dy : dy + h, dx : dx + w] for dy in range(3) for dx in range(3)], axis=0)


def doubt(scores: np.ndarray, fitted_doubt: str, labels: list[str], spec: dict) -> str:
    """Why the answer should not be trusted, in words, or "" when it looks trustworthy."""
    if fitted_doubt:
        return fitted_doubt
    s = np.asarray(scores, dtype=np.float64).ravel()
    if s.size < 2 or s.min() < -1e-6 or s.max() > 1 + 1e-6 or abs(s.sum() - 1.0) > 0.02:
        return ""  # not probabilities: a low number means nothing on its own
    limit = float(spec.get("unsure_below", UNSURE_BELOW))
    best = int(s.argmax())
    if s[best] < limit:
        name = labels[best] if best < len(labels) else str(best)
        return f"low confidence: the best guess, {name}, has only {s[best]:.0%}"
    return ""


def with_model_notes(config: dict) -> dict:
    """The serving config plus what the model's about.json says (demo models write one when trained):
    {"description": "...", "input": {"fit": "ink", ...}}. Unchanged when there is none."""
    model = config.get("model")
    if not model:
        return config
    path = Path(model).parent / NOTES_FILE
    try:
        notes = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return config
    merged = dict(config)
    if isinstance(notes.get("description"), str):
        merged["description"] = notes["description"]
    if isinstance(notes.get("input"), dict):
        merged["input"] = {**config.get("input", {}), **notes["input"]}
    return merged
