"""Picture checks and preparation on the client: decode safely, convert, scale down, build tensors.

Pillow only, no Qt and no numpy. Every problem becomes a ``PredictError(kind="picture")`` that says what is
wrong with the file, so one bad file never stops a batch.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from gui.predict import helper
from gui.predict.errors import PredictError
from gui.predict.models import ModelMetadata

# Pictures with more pixels than this are never decoded at full size: JPEGs are decoded scaled down by the
# decoder itself (cheap), other formats are refused. 24 MP covers a 6000x4000 camera photo.
MAX_PIXELS = 24_000_000

# A picture sent to a studio-v1 server is scaled down to cover the model's input, but its longer side is
# kept at least this long: the server scales it again as its own preprocessing needs.
KEEP_SIDE = 256
MODES = {1: "L", 3: "RGB", 4: "RGBA"}
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
SCALINGS = ("0..1", "-1..1", "0..255", "imagenet")
LAYOUTS = ("NHWC", "NCHW", "NHW", "NF")


@dataclass(frozen=True)
class Upload:
    """The bytes to send for one picture, with their content type and what the client did to them."""

    data: bytes
    content_type: str
    note: str = ""


@dataclass(frozen=True)
class PictureTensor:
    """One picture as flat float values in ``layout`` order, with the per-picture ``shape``."""

    values: list[float]
    shape: tuple[int, ...]
    note: str = ""

    def nested(self) -> list:
        """The values nested as ``shape`` says (what TensorFlow Serving's row format wants)."""
        return _nest(self.values, self.shape)


def _nest(flat: list, shape: tuple[int, ...]) -> list:
    if len(shape) == 1:
        return list(flat)
    step = len(flat) // shape[0]
    return [_nest(flat[i * step : (i + 1) * step], shape[1:]) for i in range(shape[0])]


def _megapixels(w: int, h: int) -> str:
    return f"{w}×{h} pixels ({w * h / 1e6:.0f} megapixels)"


def open_picture(data: bytes, wanted: tuple[int, int] | None = None, max_pixels: int = MAX_PIXELS):
    """Decode ``data`` safely; returns ``(image, note, original size)``.

    ``wanted`` (width, height) lets a JPEG decode straight to a smaller size that still covers it.
    Pictures over ``max_pixels`` are decoded scaled down (JPEG) or refused (other formats), and Pillow's
    decompression-bomb check is never bypassed.
    """
    if not data:
        raise PredictError("empty file (0 bytes): not a picture", kind="picture")
    try:
        img = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        head = data[:24].decode("utf-8", "replace").replace("\n", " ")
        raise PredictError(
            f"not a picture: the contents are no image format Pillow reads (it starts with {head!r})",
            kind="picture",
        ) from None
    except Image.DecompressionBombError as exc:
        raise PredictError(f"picture too large to open safely: {exc}", kind="picture") from None
    except (OSError, ValueError) as exc:
        raise PredictError(f"not a readable picture: {exc}", kind="picture") from None
    w, h = img.size
    note = ""
    if w * h > max_pixels:
        if img.format != "JPEG":
            raise PredictError(
                f"picture too large: {_megapixels(w, h)} is over the {max_pixels / 1e6:.0f}-megapixel "
                f"limit for {img.format or 'this format'} pictures; scale it down or save it as JPEG",
                kind="picture",
            )
        factor = math.sqrt(max_pixels / (w * h))
        request = (max(1, int(w * factor)), max(1, int(h * factor)))
        if wanted:
            request = (min(request[0], max(wanted[0], 1)), min(request[1], max(wanted[1], 1)))
        img.draft(img.mode, request)
        note = f"{_megapixels(w, h)} decoded scaled down to {img.size[0]}×{img.size[1]}"
    elif wanted and img.format == "JPEG":
        img.draft(img.mode, wanted)
    try:
        img.load()
    except Image.DecompressionBombError as exc:
        raise PredictError(f"picture too large to open safely: {exc}", kind="picture") from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise PredictError(f"damaged picture: {exc}", kind="picture") from None
    if img.size[0] * img.size[1] > max_pixels:
        raise PredictError(f"picture too large: {_megapixels(*img.size)}", kind="picture")
    return img, note, (w, h)


def to_channels(img: Image.Image, channels: int | None) -> Image.Image:
    """Convert to the model's channel count (1, 3 or 4); ``None`` keeps 1 or 3 channels as they are."""
    if channels is None:
        return img if img.mode in ("L", "RGB") else img.convert("RGB")
    try:
        mode = MODES[channels]
    except KeyError:
        raise PredictError(
            f"the model wants {channels} channels; only 1, 3 or 4 are supported", kind="input"
        ) from None
    return img if img.mode == mode else img.convert(mode)


def prepare_upload(data: bytes, meta: ModelMetadata | None = None, max_pixels: int = MAX_PIXELS,
                   keep_side: int = 0) -> Upload:
    """The bytes to POST for a studio-v1 server.

    A picture bigger than the model's input is scaled down (keeping its aspect, still covering the input,
    its longer side at least ``keep_side``) and sent as a small PNG; otherwise the original bytes go
    unchanged. studio-v1 servers preprocess pictures themselves: their client keeps KEEP_SIDE. (In a helper process when the app
    enabled them and Pillow would hold Python's lock to decode it: gui.predict.helper.)
    """
    return helper.run(_prepare_upload, data, meta, max_pixels, keep_side)


def _prepare_upload(data: bytes, meta: ModelMetadata | None, max_pixels: int, keep_side: int) -> Upload:
    wanted = (meta.width, meta.height) if meta and meta.width and meta.height else None
    # Never below keep_side on the longer side: the server's own preprocessing may need more than the
    # model's input (the demo digit models crop to the ink first: a typed 4 in the corner of an 800x600
    # picture, shrunk to 11x8 for their 8x8 input, was 2 pixels of ink and answered "1").
    draft = (max(wanted[0], keep_side), max(wanted[1], keep_side)) if wanted else None
    img, note, (w, h) = open_picture(data, draft, max_pixels)
    shrink = max(wanted[0] / w, wanted[1] / h, keep_side / max(w, h)) if wanted else 1.0
    if not note and shrink >= 1.0:
        return Upload(data, Image.MIME.get(img.format or "", "application/octet-stream"))
    # A server that preprocesses pictures itself (keep_side) gets their colours too: the demo digit
    # servers tell a photo from a drawn digit by its colours, which a grey copy does not have.
    convert = _keep_colours if keep_side else (lambda im: to_channels(im, meta.channels if meta else None))
    if shrink < 1.0:
        size = (max(1, math.ceil(w * shrink - 1e-6)), max(1, math.ceil(h * shrink - 1e-6)))
        img = convert(img)
        if img.size != size:
            img = img.resize(size, Image.Resampling.BOX)
        note = "; ".join(
            filter(None, [note, f"scaled down from {w}×{h} to {size[0]}×{size[1]} before sending"])
        )
    else:
        img = convert(img)
    out = io.BytesIO()
    img.save(out, format="PNG")
    return Upload(out.getvalue(), "image/png", note)


def _keep_colours(img: Image.Image) -> Image.Image:
    """``img`` in a mode PNG keeps and BOX scaling handles, its colours and transparency as they are."""
    if img.mode in ("L", "LA", "RGB", "RGBA"):
        return img
    if img.mode in ("P", "PA"):
        return img.convert("RGBA" if img.mode == "PA" or "transparency" in img.info else "RGB")
    return img.convert("L" if img.mode in ("1", "I", "I;16", "F") else "RGB")


def _luts(scaling: str, channels: int) -> list[list[float]]:
    """One 256-entry table per channel mapping a pixel byte to its tensor value."""
    if scaling == "0..1":
        table = [[v / 255.0 for v in range(256)]]
    elif scaling == "-1..1":
        table = [[v / 127.5 - 1.0 for v in range(256)]]
    elif scaling == "0..255":
        table = [[float(v) for v in range(256)]]
    elif scaling == "imagenet":
        if channels != 3:
            raise PredictError("'imagenet' scaling needs a 3-channel (RGB) input", kind="input")
        return [
            [(v / 255.0 - m) / s for v in range(256)]
            for m, s in zip(IMAGENET_MEAN, IMAGENET_STD, strict=True)
        ]
    else:
        raise PredictError(f"unknown scaling {scaling!r}: use one of {', '.join(SCALINGS)}", kind="input")
    return table * channels


def tensor_shape(meta: ModelMetadata) -> tuple[int, ...]:
    """The per-picture tensor shape for the model's layout."""
    if not meta.has_input_size:
        raise PredictError(
            "the server does not say the model's input size: fill in width, height and channels",
            kind="input",
        )
    h, w, c = meta.height, meta.width, meta.channels
    if meta.layout == "NHWC":
        return (h, w, c)
    if meta.layout == "NCHW":
        return (c, h, w)
    if meta.layout == "NHW":
        if c != 1:
            raise PredictError(
                f"layout NHW has no channel axis but the model wants {c} channels", kind="input"
            )
        return (h, w)
    if meta.layout == "NF":
        return (h * w * c,)
    raise PredictError(
        f"unknown tensor layout {meta.layout!r}: use one of {', '.join(LAYOUTS)}", kind="input"
    )


def picture_tensor(data: bytes, meta: ModelMetadata, max_pixels: int = MAX_PIXELS) -> PictureTensor:
    """Decode, convert to the model's channels, resize to its input and scale as its metadata says (in a
    helper process, as ``prepare_upload``)."""
    return helper.run(_picture_tensor, data, meta, max_pixels)


def _picture_tensor(data: bytes, meta: ModelMetadata, max_pixels: int) -> PictureTensor:
    shape = tensor_shape(meta)
    luts = _luts(meta.scaling, meta.channels)
    img, note, _ = open_picture(data, (meta.width, meta.height), max_pixels)
    size = (meta.width, meta.height)
    if img.size != size:
        shrinking = img.size[0] >= size[0] and img.size[1] >= size[1]
        resample = Image.Resampling.BOX if shrinking else Image.Resampling.BILINEAR
        img = to_channels(img, meta.channels).resize(size, resample)
    else:
        img = to_channels(img, meta.channels)
    c = meta.channels
    if meta.layout == "NCHW":
        values = [luts[i][b] for i, band in enumerate(img.split()) for b in band.tobytes()]
    elif c == 1 or all(t is luts[0] for t in luts):
        lut = luts[0]
        values = [lut[b] for b in img.tobytes()]
    else:
        raw = img.tobytes()
        values = [luts[i % c][b] for i, b in enumerate(raw)]
    return PictureTensor(values, shape, note)
