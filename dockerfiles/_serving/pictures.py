"""Picture decoding for the serving images: size checks before decoding, then scaling to the model input."""

from __future__ import annotations

import io
import os

import numpy as np
from PIL import Image, UnidentifiedImageError

# Pillow's own limit (about 89 megapixels) unless the image sets another one.
MAX_PIXELS = int(os.environ.get("MAX_IMAGE_PIXELS", Image.MAX_IMAGE_PIXELS or 89_478_485))
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


class BadPicture(ValueError):
    """The bytes are not a picture this server will decode (answered with 400)."""


def open_picture(data: bytes) -> Image.Image:
    """Open picture bytes, refusing empty data, non-pictures and decompression bombs before decoding."""
    if not data:
        raise BadPicture("the picture is empty (0 bytes)")
    try:
        img = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise BadPicture(f"the picture is too large to decode safely: {exc}") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise BadPicture("the data is not a picture this server can read") from None
    width, height = img.size
    if width <= 0 or height <= 0:
        raise BadPicture("the picture has no pixels")
    if width * height > MAX_PIXELS:
        raise BadPicture(
            f"the picture has {width}x{height} pixels, more than the {MAX_PIXELS} this server decodes"
        )
    return img


def to_array(img: Image.Image, spec: dict) -> np.ndarray:
    """Decode and scale one picture to a float32 array [height, width, channels] as `spec` says.

    spec: width, height, channels (1 or 3), range [lo, hi] of the model's input,
    polarity "light-on-dark" (like load_digits) or "dark-on-light" or "any", and
    invert "auto" (flip pictures whose mean brightness is on the wrong side), "never" or "always".
    """
    width, height, channels = int(spec["width"]), int(spec["height"]), int(spec.get("channels", 1))
    mode = "L" if channels == 1 else "RGB"
    try:
        if img.format == "JPEG":
            img.draft(mode, (width * 2, height * 2))  # decode big JPEGs at a reduced scale
        if getattr(img, "n_frames", 1) > 1:
            img.seek(0)
        if img.mode in ("RGBA", "LA", "P", "PA"):
            img = img.convert("RGBA")
            background = Image.new("RGBA", img.size, (255, 255, 255, 255))
            if spec.get("polarity") == "light-on-dark":
                background = Image.new("RGBA", img.size, (0, 0, 0, 255))
            img = Image.alpha_composite(background, img)
        img = img.convert(mode)
        if img.size != (width, height):
            img = img.resize(
                (width, height),
                Image.Resampling.BOX if _shrinks(img, width, height) else Image.Resampling.BILINEAR,
            )
    except Image.DecompressionBombError as exc:
        raise BadPicture(f"the picture is too large to decode safely: {exc}") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise BadPicture(f"the picture could not be decoded: {exc}") from None
    arr = np.asarray(img, dtype=np.float32) / 255.0
    if arr.ndim == 2:
        arr = arr[:, :, None]
    invert = spec.get("invert", "auto")
    polarity = spec.get("polarity", "any")
    if invert == "always" or (
        invert == "auto"
        and (
            (polarity == "light-on-dark" and arr.mean() > 0.5)
            or (polarity == "dark-on-light" and arr.mean() < 0.5)
        )
    ):
        arr = 1.0 - arr
    lo, hi = spec.get("range", [0.0, 1.0])
    return (arr * (float(hi) - float(lo)) + float(lo)).astype(np.float32)


def _shrinks(img: Image.Image, width: int, height: int) -> bool:
    return img.size[0] >= width and img.size[1] >= height
