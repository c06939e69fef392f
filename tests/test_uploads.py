import io
from pathlib import Path

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
    # Orientation 6 shows the stored picture turned 90° clockwise: the upload must look like that turn.
    turned = np.rot90(plain.numpy(), k=-1).astype(int)
    distance = np.abs(upright.numpy().astype(int) - turned).mean()
    assert distance < 0.25 * np.abs(plain.numpy().astype(int) - turned).mean()


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


# Issue 14: a picture is untrusted bytes. Its declared size is measured before anything is decoded.
import struct  # noqa: E402
import zlib  # noqa: E402

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from fmnist_core.uploads import MAX_DECODED_BYTES  # noqa: E402


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_declaring(width: int, height: int, bit_depth: int = 8, colour_type: int = 6) -> bytes:
    """A PNG header that declares a size; its pixel data is a few zero rows (never reached when refused)."""
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", zlib.compress(bytes(4096)))
            + png_chunk(b"IEND", b""))


def with_declared_size(fmt: str, width: int, height: int) -> bytes:
    """A real small picture whose header is rewritten to declare `width`×`height`."""
    raw = bytearray(encode(dark_shirt_on_white(), fmt))
    if fmt == "GIF":
        raw[6:10] = struct.pack("<HH", width, height)
        descriptor = raw.index(b",", 13)
        raw[descriptor + 5:descriptor + 9] = struct.pack("<HH", width, height)
    elif fmt == "BMP":
        raw[18:26] = struct.pack("<ii", width, height)
    elif fmt == "JPEG":
        frame = raw.index(b"\xff\xc0")
        raw[frame + 5:frame + 9] = struct.pack(">HH", height, width)
    return bytes(raw)


@pytest.mark.parametrize("raw", [
    with_declared_size("GIF", 65535, 65535), with_declared_size("BMP", 30000, 30000),
    with_declared_size("JPEG", 65000, 65000), png_declaring(100_000, 100_000),
    png_declaring(6300, 6300, bit_depth=16),  # 16-bit RGBA: 630 MB to decode before
    png_declaring(6000, 1000, bit_depth=16, colour_type=0),  # 16-bit gray: its float copy is 48 MB alone
], ids=["gif", "bmp", "jpeg", "png", "png-16bit-rgba", "png-16bit-gray"])
def test_a_huge_declared_size_is_refused_before_decoding(raw):
    with pytest.raises(ImageInputError) as refused:
        prepare_upload(raw)
    assert refused.value.code in ("too_large", "declared_too_large")


@pytest.mark.slow
def test_the_largest_accepted_picture_costs_bounded_memory(tmp_path):
    import subprocess
    import sys

    side = int((MAX_DECODED_BYTES / 4) ** 0.5) - 8  # RGBA just within the budget: about 12 megapixels
    picture = Image.new("RGBA", (side, side), (255, 255, 255, 255))
    picture.paste((20, 20, 20, 255), (side // 4, side // 4, 3 * side // 4, 3 * side // 4))
    path = tmp_path / "big.png"
    picture.save(path)
    assert path.stat().st_size < 5 * 2**20

    def peak(script: str) -> float:
        report = "\nimport resource; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"
        prelude = f"from fmnist_core.uploads import prepare_upload\nraw = open({str(path)!r}, 'rb').read()\n"
        done = subprocess.run([sys.executable, "-c", prelude + script + report], capture_output=True, text=True,
                              check=True, timeout=120, cwd=str(Path(__file__).resolve().parents[1]))
        return float(done.stdout.split()[-1])

    tensor_line = "tensor, _ = prepare_upload(raw)\nassert tensor[14, 14] > 200"
    assert peak(tensor_line) - peak("") < 100


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2048) | st.builds(
    lambda base, position, value: base[:position] + bytes([value]) + base[position + 1:],
    st.sampled_from([encode(dark_shirt_on_white(size=(40, 30)), fmt) for fmt in ("PNG", "JPEG", "GIF", "BMP",
                                                                                  "WEBP")]),
    st.integers(0, 400), st.integers(0, 255)))
def test_any_bytes_are_a_picture_or_the_apps_own_refusal(raw):
    try:
        tensor, _ = prepare_upload(raw)
    except ImageInputError as error:
        assert error.code in ("empty", "file_size", "not_image", "format", "too_large", "declared_too_large",
                              "too_small", "damaged")
        return
    assert tuple(tensor.shape) == (28, 28)
