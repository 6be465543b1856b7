"""Digit pictures for prediction tests: scikit-learn's 8x8 digits rows as picture files, and their names."""

from __future__ import annotations

import io

from PIL import Image

WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def digit_picture(pixels: list[list[int]], size: int, fmt: str) -> bytes:
    """An 8x8 digits row (values 0..16) as a picture file, enlarged to ``size`` pixels square."""
    img = Image.new("L", (8, 8))
    img.putdata([round(v * 255 / 16) for row in pixels for v in row])
    if fmt == "JPEG":
        img = img.convert("RGB")
    img = img.resize((size, size), Image.Resampling.NEAREST)
    out = io.BytesIO()
    img.save(out, format=fmt, **({"quality": 95} if fmt == "JPEG" else {}))
    return out.getvalue()


def holdout_pictures(holdout: dict) -> list[tuple[bytes, int]]:
    """Even rows as 64x64 grayscale PNGs, odd rows as 40x40 RGB JPEGs (the client scales both down)."""
    return [
        (digit_picture(img, 64, "PNG") if i % 2 == 0 else digit_picture(img, 40, "JPEG"), target)
        for i, (img, target) in enumerate(zip(holdout["images"], holdout["targets"], strict=True))
    ]
