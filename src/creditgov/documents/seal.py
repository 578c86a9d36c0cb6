"""The office's seal image on printed documents.

A deployment names its own seal scan (a PNG) with `CREDITGOV_SEAL_IMAGE`. Without one,
documents carry a neutral placeholder drawn here in code — a red ring with a star and
the words 样章 / SPECIMEN — so nobody mistakes a test print for an official one."""

from __future__ import annotations

import io
import os
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from creditgov.core.errors import ConfigError
from creditgov.reports.pdftext import FONT_FILES

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_BYTES = 5 << 20


def seal_png() -> tuple[bytes, bool]:
    """(PNG bytes, is the placeholder)."""
    configured = (os.environ.get("CREDITGOV_SEAL_IMAGE") or "").strip()
    if not configured:
        return placeholder(), True
    path = Path(configured)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"CREDITGOV_SEAL_IMAGE {path}: {exc.strerror or exc}") from None
    if not data.startswith(PNG_MAGIC) or len(data) > MAX_BYTES:
        raise ConfigError(f"CREDITGOV_SEAL_IMAGE {path} is not a PNG image of at most {MAX_BYTES >> 20} MB")
    return data, False


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for f in FONT_FILES:
        if Path(f).exists():
            return ImageFont.truetype(f, size)
    return ImageFont.load_default()


@lru_cache(maxsize=1)
def placeholder() -> bytes:
    """The specimen seal: 400×400 transparent PNG, red ring, five-pointed star, 样章 SPECIMEN."""
    import math

    size, red = 400, (200, 30, 30, 255)
    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    d.ellipse((12, 12, size - 12, size - 12), outline=red, width=14)
    cx, cy, r_out, r_in = size / 2, size / 2 - 20, 70, 28
    pts = []
    for i in range(10):
        r = r_out if i % 2 == 0 else r_in
        a = -math.pi / 2 + i * math.pi / 5
        pts.append((cx + r * math.cos(a), cy + r * math.sin(a)))
    d.polygon(pts, fill=red)
    for text, y, fs in (("样章", 250, 64), ("SPECIMEN", 325, 34)):
        font = _font(fs)
        w = d.textlength(text, font=font)
        d.text(((size - w) / 2, y), text, fill=red, font=font)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()
