"""Product photos and configurator layers: checked by content (Pillow), stored in the database, and composed
bottom to top for a configuration, with the engraving text drawn on top."""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import select
from sqlalchemy.orm import Session

from vitrina.catalog.errors import ImageRejected, ImageTooLarge
from vitrina.catalog.models import Configuration, Product, ProductImage
from vitrina.core.ids import new_id
from vitrina.core.outbox import emit

MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000  # decompression-bomb guard: refuse before decoding more than this
MAX_SIDE = 8000
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
SIZES = {"x1": 512, "x2": 1024}


def inspect(data: bytes) -> tuple[str, int, int]:
    """(content type, width, height) of an upload, judged by its bytes; anything else is refused."""
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageTooLarge(details={"max_bytes": MAX_IMAGE_BYTES})
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind, (width, height) = image.format, image.size
            if kind not in FORMATS:
                raise ImageRejected([{"path": "$.file", "message": "must be a JPEG, PNG or WebP image"}])
            if width * height > MAX_PIXELS or max(width, height) > MAX_SIDE:
                raise ImageRejected([{"path": "$.file", "message": f"at most {MAX_SIDE} px a side and "
                                                                   f"{MAX_PIXELS} pixels"}])
            image.verify()
    except ImageRejected:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ImageRejected([{"path": "$.file", "message": "not a readable JPEG, PNG or WebP image"}]) from None
    return FORMATS[kind], width, height


def add_image(session: Session, *, organization_id: str, product: Product, data: bytes, base_url: str,
              actor: str | None = None) -> ProductImage:
    content_type, width, height = inspect(data)
    image = ProductImage(id=new_id("img"), organization_id=organization_id, product_id=product.id, kind="image",
                         content_type=content_type, width=width, height=height, match={}, data=data)
    session.add(image)
    session.flush()
    product.image_url = f"{base_url}/api/v1/products/{product.id}/images/{image.id}"
    product.version += 1
    session.flush()
    emit(session, organization_id=organization_id, type="product.updated", actor=actor,
         data={"product_id": product.id, "vendor_model": product.vendor_model, "version": product.version,
               "image_url": product.image_url, "changed": ["image_url"]})
    return image


def add_layer(session: Session, *, organization_id: str, product: Product, data: bytes, layer: int, view: str,
              size: str, match: dict[str, Any]) -> ProductImage:
    content_type, width, height = inspect(data)
    image = ProductImage(id=new_id("lyr"), organization_id=organization_id, product_id=product.id, kind="layer",
                         content_type=content_type, width=width, height=height, layer=layer, view=view, size=size,
                         match=match, data=data)
    session.add(image)
    session.flush()
    return image


def get_image(session: Session, *, organization_id: str, product_id: str, image_id: str) -> ProductImage | None:
    return session.scalar(select(ProductImage).where(ProductImage.organization_id == organization_id,
                                                     ProductImage.product_id == product_id,
                                                     ProductImage.id == image_id))


def _matches(match: dict[str, Any], configuration: dict[str, Any]) -> bool:
    """A layer depicts ``match`` = {"pendant.metal.sku": "f", "pendant.metal.color": "Y"}: every value must hold."""
    for path, wanted in match.items():
        value: Any = configuration
        for step in str(path).split("."):
            value = value.get(step) if isinstance(value, dict) else None
        if value is None or str(value).casefold() != str(wanted).casefold():
            return False
    return True


def _layers_for(session: Session, *, organization_id: str, product_id: str, configuration: dict[str, Any],
                view: str | None = None, size: str | None = None) -> list[ProductImage]:
    statement = select(ProductImage).where(ProductImage.organization_id == organization_id,
                                           ProductImage.product_id == product_id, ProductImage.kind == "layer")
    if view is not None:
        statement = statement.where(ProductImage.view == view)
    if size is not None:
        statement = statement.where(ProductImage.size == size)
    rows = session.scalars(statement.order_by(ProductImage.layer, ProductImage.id))
    return [row for row in rows if _matches(row.match or {}, configuration)]


def layer_refs(session: Session, *, organization_id: str, product: Product, ci: str) -> list[dict[str, Any]]:
    """The layers a configuration shows, per view and size, for the response's ``layers``."""
    configuration = session.scalar(select(Configuration.configuration).where(
        Configuration.organization_id == organization_id, Configuration.ci == ci))
    found = _layers_for(session, organization_id=organization_id, product_id=product.id,
                        configuration=configuration or {})
    return [{"id": row.id, "layer": row.layer, "view": row.view, "size": row.size} for row in found]


# WJ's engraving fonts drawn with the scalable faces the system already has (Debian's fonts-dejavu-core); nothing
# is downloaded at run time, and Pillow's built-in scalable font stands in when a face is missing.
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_FACES = {"satisfy": "DejaVuSerif-Italic.ttf", "handlee": "DejaVuSans-Oblique.ttf",
              "charm": "DejaVuSerif-BoldItalic.ttf"}
DEFAULT_FACE = "DejaVuSans.ttf"


@lru_cache(maxsize=64)
def engraving_font(sku: str, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = FONT_DIR / FONT_FACES.get(sku.casefold(), DEFAULT_FACE)
    try:
        return ImageFont.truetype(str(path), size)
    except OSError:
        return ImageFont.load_default(size=size)


def compose(session: Session, *, organization_id: str, stored: Configuration, view: str, size: str) -> bytes:
    """PNG of the configuration's layers bottom to top, with each engraving slot's text drawn on top."""
    side = SIZES.get(size, SIZES["x1"])
    canvas = Image.new("RGBA", (side, side), (255, 255, 255, 0))
    for row in _layers_for(session, organization_id=organization_id, product_id=stored.product_id,
                           configuration=stored.configuration, view=view, size=size):
        with Image.open(io.BytesIO(row.data)) as layer:
            canvas.alpha_composite(layer.convert("RGBA").resize((side, side)))
    engraving = stored.configuration.get("engraving") or {}
    if isinstance(engraving, dict) and engraving:
        draw = ImageDraw.Draw(canvas)
        for index, slot in enumerate(sorted(engraving)):
            chosen = engraving[slot] or {}
            font = engraving_font(str(chosen.get("font") or ""), max(side // 16, 10))
            draw.text((side // 2, side - side // 8 - index * side // 12), str(chosen.get("text") or ""),
                      fill=(60, 60, 60, 255), font=font, anchor="mm")
    out = io.BytesIO()
    canvas.save(out, format="PNG")
    return out.getvalue()
