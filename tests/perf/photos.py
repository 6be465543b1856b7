"""Photo-like pictures of real sizes, made here (no downloads): 1-12 megapixel JPEG, PNG and WebP.

Each picture is its own: a sky-to-ground gradient, soft shapes (sun, hills, buildings, blobs) drawn at
a quarter of the size and scaled up (so edges are soft, as in a photo), then sensor-like noise at full
size. JPEG and WebP come in every size; PNG up to 5 MP (a 12 MP photo as PNG is over 20 MB, more than
a serving image accepts in one request, and nobody sends one).

The set is cached in a folder keyed by its parameters, so a second run does not make it again.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

# (width, height): 1, 2, 3, 5, 8 and 12 megapixels, landscape and portrait like cameras and phones.
SIZES = ((1152, 864), (1600, 1200), (1536, 2048), (2592, 1944), (3264, 2448), (3000, 4000))
FORMATS = ("JPEG", "JPEG", "JPEG", "JPEG", "PNG", "WEBP", "JPEG", "WEBP")  # mostly JPEG, as photos are
PNG_MAX_PIXELS = 5_100_000
SUFFIX = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp"}


def _picture(seed: int, size: tuple[int, int]) -> Image.Image:
    rng = np.random.default_rng(seed)
    w, h = size
    sw, sh = max(64, w // 4), max(64, h // 4)
    top, bottom = rng.integers(40, 230, 3), rng.integers(20, 200, 3)
    t = np.linspace(0, 1, sh)[:, None, None]
    base = (top * (1 - t) + bottom * t).astype(np.float32) * np.ones((1, sw, 1), np.float32)
    img = Image.fromarray(base.clip(0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(img)
    horizon = int(sh * rng.uniform(0.45, 0.75))
    for _ in range(rng.integers(2, 5)):  # hills
        pts = [(0, sh)] + [(x, horizon + int(rng.normal(0, sh * 0.08))) for x in np.linspace(0, sw, 9)] + [(sw, sh)]
        draw.polygon(pts, fill=tuple(int(c) for c in rng.integers(10, 160, 3)))
    for _ in range(rng.integers(3, 12)):  # buildings, boxes
        x, y = int(rng.integers(0, sw)), int(rng.integers(sh // 4, sh))
        bw, bh = int(rng.integers(sw // 30, sw // 6)), int(rng.integers(sh // 20, sh // 3))
        draw.rectangle((x, y - bh, x + bw, y), fill=tuple(int(c) for c in rng.integers(0, 255, 3)))
    for _ in range(rng.integers(2, 8)):  # sun, balls, faces
        r = int(rng.integers(min(sw, sh) // 30, min(sw, sh) // 6))
        x, y = int(rng.integers(0, sw)), int(rng.integers(0, sh))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(int(c) for c in rng.integers(0, 255, 3)))
    texture = rng.normal(0, 14, (sh, sw, 1))  # grass, walls, clouds: detail a camera would catch
    img = Image.fromarray((np.asarray(img, np.float32) + texture).clip(0, 255).astype(np.uint8), "RGB")
    img = img.filter(ImageFilter.GaussianBlur(1.2)).resize((w, h), Image.Resampling.BICUBIC)
    noise = rng.integers(-12, 13, (h, w, 1), dtype=np.int16)  # sensor noise, grey
    pixels = np.asarray(img, dtype=np.int16) + noise
    return Image.fromarray(pixels.clip(0, 255).astype(np.uint8), "RGB")


def _make(job: tuple[int, int, str, str]) -> str:
    seed, size_index, fmt, path = job
    size = SIZES[size_index]
    if fmt == "PNG" and size[0] * size[1] > PNG_MAX_PIXELS:
        size = SIZES[min(size_index, 3)]
    img = _picture(seed, size)
    options = {"JPEG": {"quality": 88}, "PNG": {"compress_level": 3}, "WEBP": {"quality": 80, "method": 2}}[fmt]
    img.save(path + ".part", fmt, **options)
    os.replace(path + ".part", path)  # whole files only: the set is reused by later runs
    return path


def plan(count: int, seed: int = 7) -> list[tuple[int, int, str]]:
    """(seed, size index, format) of each picture: sizes and formats spread over the set."""
    rng = np.random.default_rng(seed)
    return [(seed * 100_003 + i, int(rng.integers(0, len(SIZES))), FORMATS[i % len(FORMATS)]) for i in range(count)]


def photo_set(count: int, folder: str | None = None, seed: int = 7, workers: int | None = None) -> list[Path]:
    """``count`` different pictures, made once (in parallel) and kept in a cache folder."""
    jobs = plan(count, seed)
    key = hashlib.sha1(repr((jobs, SIZES, 1)).encode()).hexdigest()[:12]
    root = Path(folder or os.path.join(tempfile.gettempdir(), "aics-bench-photos")) / key
    root.mkdir(parents=True, exist_ok=True)
    paths = [root / f"photo-{i:03d}{SUFFIX[fmt]}" for i, (_s, _z, fmt) in enumerate(jobs)]
    todo = [(s, z, fmt, str(p)) for (s, z, fmt), p in zip(jobs, paths, strict=True) if not p.exists()]
    if todo:
        with ProcessPoolExecutor(workers or os.cpu_count() or 1) as pool:
            list(pool.map(_make, todo))
    return paths


def describe(paths: list[Path]) -> dict:
    """Counts by format, megapixels and bytes of a set."""
    fmts: dict[str, int] = {}
    mps, sizes = [], []
    for p in paths:
        with Image.open(p) as img:
            fmts[img.format] = fmts.get(img.format, 0) + 1
            mps.append(img.width * img.height / 1e6)
        sizes.append(p.stat().st_size)
    return {"pictures": len(paths), "formats": fmts, "megapixels": {"min": round(min(mps), 1), "max": round(max(mps), 1),
            "mean": round(sum(mps) / len(mps), 1)}, "mb": {"max": round(max(sizes) / 1e6, 1),
            "total": round(sum(sizes) / 1e6, 1)}}
