"""The code as a QR symbol and back: `segno` draws it (SVG, alphanumeric mode since
base45 stays inside the QR alphanumeric alphabet), `zxing-cpp` reads it from a photo
or a screenshot."""

from __future__ import annotations

import io
from pathlib import Path

import segno

from creditgov.core.errors import InvalidInput


def svg(text: str, *, scale: int = 3) -> str:
    """An inline SVG of the code (our own alphabet: no markup from outside)."""
    return str(segno.make_qr(text, error="m").svg_inline(scale=scale, dark="#111827"))


def png(text: str, *, scale: int = 4) -> bytes:
    out = io.BytesIO()
    segno.make_qr(text, error="m").save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


def read_image(path: Path) -> str:
    """The text of the first QR symbol in an image file."""
    import zxingcpp
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            found = zxingcpp.read_barcodes(img.convert("L"))
    except (OSError, UnidentifiedImageError) as exc:
        raise InvalidInput(f"cannot read the image {path}: {exc}") from None
    if not found:
        raise InvalidInput(f"no QR code found in {path}")
    return str(found[0].text)
