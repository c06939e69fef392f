import io

import numpy as np
import pytest
from PIL import Image

from fmnist_core.uploads import ImageInputError, prepare_upload


def encode(image: Image.Image, fmt: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def dark_shirt_on_white(size=(300, 200), mode="RGB") -> Image.Image:
    image = Image.new("RGB", size, (255, 255, 255))
    pixels = np.asarray(image).copy()
    pixels[40:160, 100:200] = (30, 30, 90)  # a dark garment in the middle
    return Image.fromarray(pixels).convert(mode)


def test_light_background_is_inverted_and_centred():
    tensor, _ = prepare_upload(encode(dark_shirt_on_white()))
    assert tensor.shape == (28, 28) and str(tensor.dtype) == "torch.uint8"
    assert tensor[0, 0] < 30 and tensor[14, 14] > 200  # background dark, garment bright


def test_exif_orientation_is_applied():
    image = dark_shirt_on_white(size=(300, 100))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° on display
    upright, _ = prepare_upload(encode(image, "JPEG", exif=exif.tobytes()))
    plain, _ = prepare_upload(encode(image, "JPEG"))
    assert not np.array_equal(upright.numpy(), plain.numpy())


@pytest.mark.parametrize("mode", ["RGBA", "P", "L", "I;16", "LA", "CMYK"])
def test_unusual_modes_are_converted(mode):
    image = dark_shirt_on_white()
    if mode == "I;16":
        image = Image.fromarray(np.asarray(image.convert("L"), dtype=np.uint16) * 257)
    else:
        image = image.convert(mode)
    fmt = "JPEG" if mode == "CMYK" else "PNG"
    tensor, _ = prepare_upload(encode(image, fmt))
    assert tensor[14, 14] > 150


def test_animated_gif_uses_the_first_frame():
    frames = [dark_shirt_on_white().convert("P"), Image.new("P", (300, 200), 0)]
    raw = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    tensor, _ = prepare_upload(raw)
    assert tensor[14, 14] > 150


@pytest.mark.parametrize("raw, message", [
    (b"", "empty"),
    (b"just some text, not a picture", "not an image"),
    (encode(Image.new("L", (1, 1))), "at least 8×8"),
    (encode(dark_shirt_on_white())[:300], "damaged or truncated"),
])
def test_bad_uploads_get_a_clear_message(raw, message):
    with pytest.raises(ImageInputError, match=message):
        prepare_upload(raw)


def test_huge_image_is_refused_before_decoding():
    raw = encode(Image.new("L", (8000, 8000), 255))
    with pytest.raises(ImageInputError, match="8000×8000 pixels"):
        prepare_upload(raw)


def test_oversized_file_is_refused():
    with pytest.raises(ImageInputError, match="MB"):
        prepare_upload(b"\x89PNG" + bytes(6 * 1024 * 1024))
