"""Product images and configurator layers: content checks, limits, and the composed configuration picture."""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

from fastapi.testclient import TestClient
from PIL import Image

from tests.catalog.conftest import CONFIGS, PRODUCTS, quote
from tests.support import OrgContext
from vitrina.catalog import demo


def _png(color: tuple[int, int, int, int], size: tuple[int, int] = (64, 64), fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    image = Image.new("RGBA", size, color)
    (image.convert("RGB") if fmt == "JPEG" else image).save(out, format=fmt)
    return out.getvalue()


def _bomb() -> bytes:
    """A tiny PNG whose header claims 100 000 x 100 000 pixels."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 100)) + \
        chunk(b"IEND", b"")


def test_upload_product_image(client: TestClient, org: OrgContext, catalog: dict[str, Any]) -> None:
    url = f"{PRODUCTS}/RPD104/images"
    # named .txt on purpose: the content decides
    response = client.post(url, files={"file": ("photo.txt", _png((200, 0, 0, 255), fmt="JPEG"), "text/plain")},
                           headers=org.headers)
    assert response.status_code == 201, response.text
    image_url = response.json()["data"]["image_url"]
    assert "/api/v1/products/" in image_url
    served = client.get(image_url.split("testserver")[-1], headers=org.headers)
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    webp = client.post(url, files={"file": ("a.webp", _png((0, 0, 0, 255), fmt="WEBP"), "image/webp")},
                       headers=org.headers)
    assert webp.status_code == 201


def test_bad_uploads_are_refused(client: TestClient, org: OrgContext, catalog: dict[str, Any]) -> None:
    url = f"{PRODUCTS}/RPD104/images"
    before = client.get(f"{PRODUCTS}/RPD104", headers=org.headers).json()["data"]
    not_image = client.post(url, files={"file": ("x.png", b"GIF89a not really", "image/png")}, headers=org.headers)
    assert not_image.status_code == 422 and not_image.json()["error"]["code"] == "INVALID_IMAGE"
    gif = io.BytesIO()
    Image.new("RGB", (4, 4)).save(gif, format="GIF")
    assert client.post(url, files={"file": ("x.gif", gif.getvalue(), "image/gif")},
                       headers=org.headers).status_code == 422
    bomb = client.post(url, files={"file": ("bomb.png", _bomb(), "image/png")}, headers=org.headers)
    assert bomb.status_code == 422
    huge = b"\x89PNG" + b"0" * (10 * 1024 * 1024 + 10)
    too_big = client.post(url, files={"file": ("big.png", huge, "image/png")}, headers=org.headers)
    assert too_big.status_code == 413
    assert client.post(url, headers=org.headers).status_code == 422
    assert client.post(f"{PRODUCTS}/NOPE/images", files={"file": ("a.png", _png((0, 0, 0, 255)), "image/png")},
                       headers=org.headers).status_code == 404
    assert client.get(f"{PRODUCTS}/RPD104", headers=org.headers).json()["data"] == before


def test_layers_compose_bottom_to_top(client: TestClient, org: OrgContext, catalog: dict[str, Any]) -> None:
    url = f"{PRODUCTS}/RPD104/layers"
    red = {"file": ("base.png", _png((255, 0, 0, 255)), "image/png")}
    assert client.post(url, files=red, data={"layer": "0", "view": "v1", "size": "x1"},
                       headers=org.headers).status_code == 201
    # a half-transparent yellow-gold layer, only for a yellow pendant
    top = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    top.paste((0, 0, 255, 255), (0, 0, 32, 64))
    out = io.BytesIO()
    top.save(out, format="PNG")
    layer = client.post(url, files={"file": ("top.png", out.getvalue(), "image/png")},
                        data={"layer": "1", "view": "v1", "size": "x1", "match": '{"pendant.metal.color": "Y"}'},
                        headers=org.headers)
    assert layer.status_code == 201, layer.text
    bad_match = client.post(url, files=red, data={"layer": "2", "match": "[1]"}, headers=org.headers)
    assert bad_match.status_code == 422
    model, configuration = demo.EXAMPLES["pendant"]
    data = quote(client, org.headers, model, configuration).json()["data"]
    assert [x["layer"] for x in data["layers"]] == [0, 1]
    picture = client.get(f"{CONFIGS}/{data['ci']}/image.png", params={"view": "v1", "size": "x1"}, headers=org.headers)
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(picture.content)).convert("RGBA")

    def rgb(x: int, y: int) -> tuple[int, ...]:
        pixel = image.getpixel((x, y))
        assert isinstance(pixel, tuple)
        return pixel[:3]

    assert image.size == (512, 512)
    assert rgb(10, 10) == (0, 0, 255) and rgb(500, 10) == (255, 0, 0)
    # the engraving text is drawn near the bottom: some pixels there are neither red nor blue
    bottom = {rgb(x, y) for x in range(200, 312) for y in range(430, 460)}
    assert any(c not in ((255, 0, 0), (0, 0, 255)) for c in bottom)
    white = dict(configuration, pendant={**configuration["pendant"], "metal": {"sku": "f", "color": "W"}})
    other = quote(client, org.headers, model, white).json()["data"]
    assert [x["layer"] for x in other["layers"]] == [0]
    wrong_size = client.get(f"{CONFIGS}/{data['ci']}/image.png", params={"size": "x9"}, headers=org.headers)
    assert wrong_size.status_code == 422
    assert client.get(f"{CONFIGS}/NOPE-1/image.png", headers=org.headers).status_code == 404


def test_engraving_is_drawn_in_the_chosen_font(client: TestClient, org: OrgContext, catalog: dict[str, Any]) -> None:
    model, configuration = demo.EXAMPLES["ring"]
    pictures = []
    for font in ("satisfy", "charm"):
        chosen = dict(configuration, engraving={"e0": {"font": font, "text": "Forever"}})
        ci = quote(client, org.headers, model, chosen).json()["data"]["ci"]
        picture = client.get(f"{CONFIGS}/{ci}/image.png", params={"size": "x2"}, headers=org.headers)
        assert picture.status_code == 200 and Image.open(io.BytesIO(picture.content)).size == (1024, 1024)
        pictures.append(picture.content)
    assert pictures[0] != pictures[1]
