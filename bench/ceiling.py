"""The HTTP ceiling: a bare ASGI app served by the same uvicorn, loop and workers as Vitrina, returning a JSON
document about the size of one inventory item. Every scenario is reported as a fraction of this."""

from __future__ import annotations

from typing import Any

import orjson

BODY = orjson.dumps({"success": True, "data": {
    "id": "itm_01JD3Z8Q0000000000000000", "external_id": "JWL-12345", "sku": "DIA-001",
    "name": "Solitaire ring", "category": "rings", "tracking": "serialized", "status": "active", "quantity": 1,
    "reserved_quantity": 0, "available_quantity": 1, "price": "12499.99", "cost": "6200.00", "currency": "USD",
    "certification": "GIA", "cert_number": "GIA-123456789", "created_at": "2026-01-15T10:30:00Z",
}})
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
