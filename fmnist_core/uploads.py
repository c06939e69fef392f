"""Turn an uploaded photo or drawing into a Fashion-MNIST-like 28×28 input. Untrusted bytes: Pillow only."""
from __future__ import annotations

import io

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000  # refuse before decoding: 40 megapixels is already a large phone photo
# What decoding may cost, from the header's size and mode, before a byte is decoded. A JPEG is decoded at an
# eighth of its size (draft), so a 40-megapixel photo stays small; a PNG or WebP is decoded whole.
MAX_DECODED_BYTES = 48 * 2**20
MIN_SIDE = 8
ACCEPTED = ("PNG", "JPEG", "WEBP", "GIF", "BMP")
# Bytes per pixel of the decoded image and of what turning it gray costs (16- and 32-bit modes go through numpy).
DECODE_COST = {"1": 1, "L": 1, "P": 1, "I;16": 11, "I;16B": 11, "I;16L": 11, "I": 12, "F": 12}
DEFAULT_DECODE_COST = 4
NUMPY_MODES = ("I;16", "I;16B", "I;16L", "I", "F")  # Pillow cannot shrink these: they go through numpy whole


class ImageInputError(ValueError):
    """An upload that cannot become a model input. `code` and `values` let the UI say it in any language."""

    def __init__(self, code: str, message: str, **values):
        super().__init__(message)
        self.code = code
        self.values = values


def _too_large(width: int, height: int, pixel_limit: int) -> ImageInputError:
    limit = max(1, pixel_limit // 1_000_000)
    return ImageInputError("too_large", f"the image is {width}×{height} pixels; at most {limit} megapixels for "
                           "a picture like this", width=width, height=height, limit=limit)


def _open(raw: bytes) -> Image.Image:
    if not raw:
        raise ImageInputError("empty", "the file is empty")
    if len(raw) > MAX_UPLOAD_BYTES:
        megabytes, limit = len(raw) / 1e6, MAX_UPLOAD_BYTES // 1_000_000
        raise ImageInputError("file_size", f"the file is {megabytes:.1f} MB; at most {limit} MB",
                              megabytes=megabytes, limit=limit)
    try:
        image = Image.open(io.BytesIO(raw))
    except Image.DecompressionBombError:  # Pillow's own limit, far above ours: a header that declares gigapixels
        raise ImageInputError("declared_too_large", "the image declares a size far beyond any photo") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
        raise ImageInputError("not_image", "this is not an image we can read (use PNG, JPEG, WebP or GIF)") from None
    if image.format not in ACCEPTED:
        raise ImageInputError("format", f"{image.format} images are not accepted (use PNG, JPEG, WebP or GIF)",
                              format=image.format)
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise _too_large(width, height, MAX_PIXELS)
    try:
        image.draft("L", (256, 256))  # JPEG: decode at reduced size, much faster and smaller for big photos
    except (OSError, ValueError):
        pass
    decoded_width, decoded_height = image.size
    cost = DECODE_COST.get(image.mode, DEFAULT_DECODE_COST)
    if decoded_width * decoded_height * cost > MAX_DECODED_BYTES:
        # the most pixels a picture of this format and mode may have (a JPEG is decoded at an eighth per side)
        scale = (width * height) / (decoded_width * decoded_height)
        raise _too_large(width, height, int(MAX_DECODED_BYTES / cost * scale))
    if min(width, height) < MIN_SIDE:
        raise ImageInputError("too_small", f"the image is only {width}×{height} pixels; at least "
                              f"{MIN_SIDE}×{MIN_SIDE}", width=width, height=height, side=MIN_SIDE)
    return image


def _to_gray(image: Image.Image) -> Image.Image:
    """Any mode (16-bit, palette, transparency, CMYK…) → 8-bit grayscale; transparency becomes white."""
    if image.mode in NUMPY_MODES:
        values = np.asarray(image, dtype=np.float64)
        high = values.max() or 1.0
        return Image.fromarray((values / high * 255).astype(np.uint8), mode="L")
    if image.mode in ("P", "PA", "LA", "RGBA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("L")
    return image.convert("L")


def prepare_upload(raw: bytes) -> tuple[torch.Tensor, Image.Image]:
    """Decode, orient, grayscale, pad to square, resize to 28×28 and invert a light background so the garment
    is bright on dark as in Fashion-MNIST. Return the uint8 (28, 28) tensor and the upright grayscale picture."""
    image = _open(raw)
    try:
        image.seek(0)  # first frame of an animated GIF or WebP
        if image.mode not in NUMPY_MODES:
            image.thumbnail((512, 512))  # shrink before any copy: turning, graying and padding stay small
        image = ImageOps.exif_transpose(image)
        gray = _to_gray(image)
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError) as error:
        raise ImageInputError("damaged", f"the image file is damaged or truncated ({type(error).__name__})") from None
    gray.thumbnail((512, 512))
    as_uploaded = gray.copy()
    pixels = np.asarray(gray, dtype=np.float64)
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    if np.median(border) > 127:  # light background: Fashion-MNIST garments are light on black
        gray = ImageOps.invert(gray)
    side = max(gray.size)
    square = Image.new("L", (side, side), 0)
    square.paste(gray, ((side - gray.width) // 2, (side - gray.height) // 2))
    small = ImageOps.autocontrast(square.resize((28, 28), Image.LANCZOS))
    return torch.from_numpy(np.asarray(small, dtype=np.uint8).copy()), as_uploaded
