"""Picture checks and preparation on the client (Pillow only, no server)."""

from __future__ import annotations

import io
import time

import pytest
from PIL import Image

from gui.predict import ModelMetadata, PredictError, open_picture, picture_tensor, prepare_upload
from gui.predict.pictures import KEEP_SIDE, MAX_PIXELS, PictureTensor, tensor_shape

SIDE_60MP = 7746  # 7746 x 7746 = 60.0 megapixels


def encode(img: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    out = io.BytesIO()
    img.save(out, format=fmt, **kw)
    return out.getvalue()


def meta(**kw) -> ModelMetadata:
    return ModelMetadata(name="m", **{"width": 2, "height": 2, "channels": 3, **kw})


@pytest.fixture(scope="module")
def rgb_2x2() -> bytes:
    img = Image.new("RGB", (2, 2))
    img.putdata([(0, 51, 255), (255, 0, 0), (10, 20, 30), (128, 128, 128)])
    return encode(img)


@pytest.fixture(scope="module")
def huge_png() -> bytes:
    return encode(Image.new("L", (SIDE_60MP, SIDE_60MP), 200), compress_level=1)


@pytest.fixture(scope="module")
def huge_jpeg() -> bytes:
    img = Image.new("L", (SIDE_60MP, SIDE_60MP), 0)
    img.paste(255, (0, 0, SIDE_60MP // 2, SIDE_60MP))  # left half white
    return encode(img, "JPEG", quality=50)


def test_empty_file_is_not_a_picture():
    with pytest.raises(PredictError) as err:
        open_picture(b"")
    assert err.value.kind == "picture" and str(err.value) == "empty file (0 bytes): not a picture"


def test_text_renamed_png_is_not_a_picture():
    with pytest.raises(PredictError) as err:
        prepare_upload(b"hello, this is a text file\nnot a png\n")
    assert err.value.kind == "picture"
    assert str(err.value).startswith("not a picture: ") and "'hello, this is a text f" in str(err.value)


def test_truncated_picture_is_damaged():
    data = encode(Image.effect_noise((64, 64), 50))
    with pytest.raises(PredictError) as err:
        picture_tensor(data[: len(data) // 2], meta(width=8, height=8, channels=1))
    assert err.value.kind == "picture" and str(err.value).startswith("damaged picture: ")


def test_60_megapixel_png_is_refused_without_decoding(huge_png):
    start = time.perf_counter()
    with pytest.raises(PredictError) as err:
        prepare_upload(huge_png, meta(width=28, height=28, channels=1))
    assert time.perf_counter() - start < 0.5  # only the header was read
    assert err.value.kind == "picture"
    assert str(err.value).startswith(
        "picture too large: 7746×7746 pixels (60 megapixels) is over the 24-megapixel"
    )


def test_60_megapixel_jpeg_is_decoded_scaled_down_and_says_so(huge_jpeg):
    img, note, original = open_picture(huge_jpeg, (28, 28))
    assert original == (SIDE_60MP, SIDE_60MP)
    assert img.size[0] * img.size[1] <= MAX_PIXELS and img.size[0] < SIDE_60MP
    assert note.startswith("7746×7746 pixels (60 megapixels) decoded scaled down to ")
    pic = picture_tensor(huge_jpeg, meta(width=4, height=2, channels=1))
    assert pic.shape == (2, 4, 1) and pic.note == note
    assert [round(v) for v in pic.values] == [1, 1, 0, 0, 1, 1, 0, 0]  # white left half, black right half
    upload = prepare_upload(huge_jpeg, meta(width=28, height=28, channels=1))
    assert upload.content_type == "image/png" and "scaled down from" in upload.note
    assert Image.open(io.BytesIO(upload.data)).size == (28, 28)


def test_small_picture_is_sent_unchanged(rgb_2x2):
    upload = prepare_upload(rgb_2x2, meta(width=224, height=224))
    assert upload.data == rgb_2x2 and upload.content_type == "image/png" and upload.note == ""
    jpeg = encode(Image.new("RGB", (10, 10)), "JPEG")
    assert prepare_upload(jpeg).content_type == "image/jpeg"


def test_big_picture_is_scaled_down_keeping_its_aspect_before_sending():
    photo = encode(Image.effect_noise((1280, 960), 40).convert("RGB"), "JPEG")
    assert Image.open(io.BytesIO(prepare_upload(photo, meta(width=28, height=28)).data)).size == (38, 28)
    upload = prepare_upload(photo, meta(width=28, height=28, channels=1), keep_side=KEEP_SIDE)  # studio-v1
    small = Image.open(io.BytesIO(upload.data))
    assert small.format == "PNG" and small.mode == "RGB"  # its colours kept: the server preprocesses it
    assert small.size == (256, 192)  # keeps 4:3, its longer side KEEP_SIDE (the server scales it again)
    assert upload.note == "scaled down from 1280×960 to 256×192 before sending"
    assert len(upload.data) < len(photo)
    wide = prepare_upload(encode(Image.new("RGB", (4000, 400), "white"), "PNG"), meta(width=224, height=224),
                          keep_side=KEEP_SIDE)
    assert Image.open(io.BytesIO(wide.data)).size == (2240, 224)  # covers the model's input


def test_a_small_mark_in_a_big_picture_keeps_enough_pixels_for_the_server():
    """The demo digit servers crop to the ink before scaling to 8x8: shrunk to 11x8 on the client, a typed
    4 in the corner of an 800x600 picture was 2 pixels of ink, the server said "almost no ink" and 1."""
    from gui.resources import sample_pictures

    corner = next(p for p in sample_pictures("digits") if "corner" in p.name)
    upload = prepare_upload(corner.read_bytes(), meta(width=8, height=8, channels=1), keep_side=KEEP_SIDE)
    small = Image.open(io.BytesIO(upload.data))
    assert small.size == (256, 192) and small.mode == "RGB"  # the paper's colour too
    small = small.convert("L")
    ink = sum(1 for v in small.tobytes() if v < 128)  # one byte per pixel in mode L
    assert ink > 300  # the 4's strokes, not a speck


def test_tensor_nhwc_zero_to_one(rgb_2x2):
    pic = picture_tensor(rgb_2x2, meta())
    assert pic.shape == (2, 2, 3)
    expected = [0, 51, 255, 255, 0, 0, 10, 20, 30, 128, 128, 128]
    assert pic.values == pytest.approx([v / 255 for v in expected])
    assert pic.nested()[0][1] == pytest.approx([1.0, 0.0, 0.0])


def test_tensor_nchw_and_other_scalings(rgb_2x2):
    pic = picture_tensor(rgb_2x2, meta(layout="NCHW", scaling="0..255"))
    assert pic.shape == (3, 2, 2)
    assert pic.values == [0, 255, 10, 128, 51, 0, 20, 128, 255, 0, 30, 128]
    assert pic.nested()[2] == [[255, 0], [30, 128]]
    pm1 = picture_tensor(rgb_2x2, meta(scaling="-1..1"))
    assert pm1.values[:3] == pytest.approx([-1.0, 51 / 127.5 - 1, 1.0])
    imagenet = picture_tensor(rgb_2x2, meta(scaling="imagenet"))
    assert imagenet.values[:3] == pytest.approx(
        [(0 - 0.485) / 0.229, (0.2 - 0.456) / 0.224, (1 - 0.406) / 0.225]
    )


def test_tensor_converts_channels_and_resizes(rgb_2x2):
    gray = picture_tensor(rgb_2x2, meta(width=1, height=1, channels=1, layout="NHW", scaling="0..255"))
    assert gray.shape == (1, 1) and len(gray.values) == 1
    flat = picture_tensor(rgb_2x2, meta(width=4, height=4, channels=1, layout="NF"))
    assert flat.shape == (16,) and len(flat.values) == 16
    rgba = encode(Image.new("RGBA", (3, 3), (10, 20, 30, 0)))
    assert picture_tensor(rgba, meta(scaling="0..255")).values[:3] == [10, 20, 30]


def test_box_downscale_of_an_exact_enlargement_gives_the_original_back():
    small = Image.new("L", (8, 8))
    small.putdata(list(range(0, 256, 4)))
    big = small.resize((64, 64), Image.Resampling.NEAREST)
    pic = picture_tensor(encode(big), meta(width=8, height=8, channels=1, scaling="0..255"))
    assert pic.values == [float(v) for v in range(0, 256, 4)]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"width": None},
            "the server does not say the model's input size: fill in width, height and channels",
        ),
        ({"scaling": "0..2"}, "unknown scaling '0..2': use one of 0..1, -1..1, 0..255, imagenet"),
        ({"layout": "NHW"}, "layout NHW has no channel axis but the model wants 3 channels"),
        ({"channels": 1, "scaling": "imagenet"}, "'imagenet' scaling needs a 3-channel (RGB) input"),
        ({"channels": 2}, "the model wants 2 channels; only 1, 3 or 4 are supported"),
    ],
)
def test_bad_model_settings_are_said_plainly(rgb_2x2, fields, message):
    with pytest.raises(PredictError) as err:
        picture_tensor(rgb_2x2, meta(**fields))
    assert err.value.kind == "input" and str(err.value) == message


def test_nested_follows_the_shape():
    assert PictureTensor(list(range(12)), (2, 3, 2)).nested() == [
        [[0, 1], [2, 3], [4, 5]],
        [[6, 7], [8, 9], [10, 11]],
    ]
    assert tensor_shape(meta(layout="NF")) == (12,)


def test_a_studio_upload_keeps_colours_and_transparency():
    """studio-v1 servers preprocess pictures themselves (the demo tells a photo from a digit by its colours):
    the client scales down but keeps the picture's colours and transparency, whatever the model's channels."""
    rgba = Image.new("RGBA", (1000, 500), (255, 0, 0, 0))
    up = prepare_upload(encode(rgba, "PNG"), meta(width=8, height=8, channels=1), keep_side=KEEP_SIDE)
    assert Image.open(io.BytesIO(up.data)).mode == "RGBA"
    pal = Image.new("P", (1000, 500))
    pal.putpalette([0, 0, 0, 200, 30, 40] + [0] * 762)
    pal.info["transparency"] = 0
    up = prepare_upload(encode(pal, "PNG"), meta(width=8, height=8, channels=1), keep_side=KEEP_SIDE)
    assert Image.open(io.BytesIO(up.data)).mode == "RGBA"
    cmyk = encode(Image.new("CMYK", (1000, 500), (0, 255, 255, 0)), "JPEG")
    up = prepare_upload(cmyk, meta(width=8, height=8, channels=1), keep_side=KEEP_SIDE)
    assert Image.open(io.BytesIO(up.data)).mode == "RGB"
    grey = prepare_upload(encode(rgba.convert("RGB"), "PNG"), meta(width=8, height=8, channels=1))
    assert Image.open(io.BytesIO(grey.data)).mode == "L"  # v2 / TF Serving: the model's channels, as before
