"""Picture decoding for the serving images: size checks before decoding, then scaling to the model input."""

from __future__ import annotations

import io
import os

import numpy as np
from PIL import Image, UnidentifiedImageError

# At Pillow's own limit (89 megapixels) an 85 KB palette PNG took 1.1-1.5 GiB to decode and four at once
# killed a 2 GB container. 16 megapixels (a 12 MP phone photo fits) costs at most ~100 MB, see `shrink`.
MAX_PIXELS = int(os.environ.get("MAX_IMAGE_PIXELS") or 16_000_000)
# open_picture checks the size itself (with a message that says it); Pillow's check would refuse at 2x.
Image.MAX_IMAGE_PIXELS = None
# Only these decoders ever see the bytes (env PICTURE_FORMATS, Pillow format names, comma-separated).
FORMATS = tuple(
    f.strip().upper()
    for f in os.environ.get("PICTURE_FORMATS", "PNG,JPEG,GIF,BMP,WEBP,TIFF").split(",")
    if f.strip()
)
SHRINK_TO = 512  # decoded pictures are reduced to about this many pixels on the longer side first
_REDUCIBLE = ("L", "LA", "La", "RGB", "RGBA", "RGBa", "I", "F", "CMYK", "YCbCr")


class BadPicture(ValueError):
    """The bytes are not a picture this server will decode (answered with 400)."""


def open_picture(data: bytes) -> Image.Image:
    """Open picture bytes, refusing empty data, non-pictures and decompression bombs before decoding."""
    if not data:
        raise BadPicture("the picture is empty (0 bytes)")
    try:
        img = Image.open(io.BytesIO(data), formats=FORMATS)
    except Image.DecompressionBombError as exc:
        raise BadPicture(f"the picture is too large to decode safely: {exc}") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise BadPicture(f"the data is not a picture this server reads ({', '.join(FORMATS)})") from None
    width, height = img.size
    if width <= 0 or height <= 0:
        raise BadPicture("the picture has no pixels")
    if width * height > MAX_PIXELS:
        raise BadPicture(
            f"the picture has {width}x{height} pixels, more than the {MAX_PIXELS} this server decodes"
        )
    return img


def to_array(img: Image.Image, spec: dict, notes: dict | None = None) -> np.ndarray:
    """Decode and scale one picture to a float32 array [height, width, channels] as `spec` says.

    spec: width, height, channels (1 or 3), range [lo, hi] of the model's input,
    polarity "light-on-dark" (like load_digits) or "dark-on-light" or "any", and
    invert "auto" (flip pictures whose mean brightness is on the wrong side), "never" or "always",
    fit "ink" (demo digit models: crop to the ink and centre it, see ink.py; `notes["doubt"]` then
    says why the answer may be unreliable, or is "").
    """
    width, height, channels = int(spec["width"]), int(spec["height"]), int(spec.get("channels", 1))
    mode = "L" if channels == 1 else "RGB"
    try:
        if spec.get("fit") == "ink":  # one drawn or typed mark: ink.py crops to it, then scales
            from ink import fit_ink

            fitted = fit_ink(img, spec)
            if notes is not None:
                notes["doubt"] = fitted.doubt
            return fitted.array
        if img.format == "JPEG":
            img.draft(mode, (width * 2, height * 2))  # decode big JPEGs at a reduced scale
        if getattr(img, "n_frames", 1) > 1:
            img.seek(0)
        img = shrink(img, width, height, channels)
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


def shrink(img: Image.Image, width: int, height: int, channels: int) -> Image.Image:
    """Reduce a decoded picture by a whole factor, before any other conversion, to no less than
    SHRINK_TO pixels (and twice the model input) on its longer side.

    A big picture then never exists at full size in RGBA, let alone twice (alpha_composite): only its
    decoded form (at most MAX_PIXELS x 4 bytes) and, for palette and 16-bit pictures, one grey or colour
    copy with the fewest channels that keep its transparency."""
    factor = max(img.size) // max(SHRINK_TO, 2 * width, 2 * height)
    if factor < 2:
        return img
    if img.mode == "P":
        return _reduce_palette(img, factor, channels)
    if img.mode not in _REDUCIBLE:
        alpha = img.mode in ("PA", "LA") or "transparency" in img.info
        img = img.convert(("LA" if alpha else "L") if channels == 1 else ("RGBA" if alpha else "RGB"))
    return img.reduce(factor)


def _reduce_palette(img: Image.Image, factor: int, channels: int) -> Image.Image:
    """A palette picture reduced band by band: each band (grey or R, G, B, and alpha) is one table
    look-up of the palette indices (1 byte a pixel), so no RGBA copy (4 bytes a pixel) is ever made."""
    palette = (img.getpalette("RGB") or []) + [0] * 768
    red, green, blue = palette[0:768:3], palette[1:768:3], palette[2:768:3]
    if channels == 1:  # ITU-R 601-2 luma, as Pillow's own conversion to "L"
        tables = [
            [(r * 299 + g * 587 + b * 114 + 500) // 1000 for r, g, b in zip(red, green, blue, strict=True)]
        ]
    else:
        tables = [red, green, blue]
    alpha = _palette_alpha(img)
    if alpha is not None:
        tables.append(alpha)
    mode = ("L" if channels == 1 else "RGB") + ("A" if alpha is not None else "")
    return Image.merge(mode, [img.point(table, "L").reduce(factor) for table in tables])


def _palette_alpha(img: Image.Image) -> list[int] | None:
    transparency = img.info.get("transparency")
    if isinstance(transparency, int) and 0 <= transparency < 256:
        alpha = [255] * 256
        alpha[transparency] = 0
        return alpha
    if isinstance(transparency, bytes):
        return list(transparency[:256]) + [255] * (256 - len(transparency[:256]))
    if img.palette is not None and img.palette.mode == "RGBA":
        return ((img.getpalette("RGBA") or [])[3::4] + [255] * 256)[:256]
    return None


def _shrinks(img: Image.Image, width: int, height: int) -> bool:
    return img.size[0] >= width and img.size[1] >= height
