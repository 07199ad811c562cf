"""Printable tag labels: a PNG with the QR code of the piece's verify URL, its SKU, name and price.

Sized for a 2 by 1 inch thermal label at 300 dpi (600 by 300 px); the PNG carries that resolution so printing
at "actual size" gives the right dimensions. The QR code uses error correction level M and a quiet zone of
two modules, enough for a phone to read it from a printed jewelry tag.
"""

from __future__ import annotations

import io

import segno
from PIL import Image, ImageDraw, ImageFont

DPI = 300
WIDTH, HEIGHT = 600, 300
MARGIN = 16


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _fit(draw: ImageDraw.ImageDraw, text: str, size: int, max_width: int) -> tuple[str, ImageFont.FreeTypeFont |
                                                                                   ImageFont.ImageFont]:
    """The text in the largest font (down to 14 px) that fits, shortened with an ellipsis if it still does not."""
    font = _font(size)
    while size > 14 and draw.textlength(text, font=font) > max_width:
        size -= 2
        font = _font(size)
    while len(text) > 1 and draw.textlength(text, font=font) > max_width:
        text = text[:-2] + "…"
    return text, font


def qr_image(url: str, size: int) -> Image.Image:
    """The QR code at the largest whole-pixel module size that fits in ``size`` (scaling by a fraction would
    make modules of unequal widths, which scanners misread)."""
    qr = segno.make(url, error="m", micro=False)
    buffer = io.BytesIO()
    qr.save(buffer, kind="png", scale=max(size // qr.symbol_size(border=2)[0], 1), border=2)
    buffer.seek(0)
    return Image.open(buffer).convert("L")


def tag_label(*, url: str, sku: str, name: str, price: str, footer: str = "", kind: str = "png") -> bytes:
    """The label as PNG bytes, or (``kind="pdf"``) as a one-page PDF of the label's exact size for label printers."""
    image = Image.new("L", (WIDTH, HEIGHT), 255)
    qr_size = HEIGHT - 2 * MARGIN
    code = qr_image(url, qr_size)
    offset = (qr_size - code.width) // 2
    image.paste(code, (MARGIN + offset, MARGIN + offset))
    draw = ImageDraw.Draw(image)
    left = MARGIN * 2 + qr_size
    width = WIDTH - left - MARGIN
    y = MARGIN + 4
    for text, size, gap in ((sku, 34, 12), (name, 24, 18), (price, 44, 12)):
        shown, font = _fit(draw, text, size, width)
        draw.text((left, y), shown, fill=0, font=font)
        y += int(getattr(font, "size", size)) + gap
    if footer:
        shown, font = _fit(draw, footer, 16, width)
        draw.text((left, HEIGHT - MARGIN - 18), shown, fill=0, font=font)
    output = io.BytesIO()
    if kind == "pdf":
        image.save(output, format="PDF", resolution=DPI)  # 300 dpi: the page is exactly 2 x 1 in
    else:
        image.save(output, format="PNG", dpi=(DPI, DPI), optimize=True)
    return output.getvalue()
