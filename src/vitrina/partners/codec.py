"""WJ Partners wire format: request ``{"data": "<base64 of JSON>"}`` (a plain JSON object also accepted), and
every response body the base64 of ``{"status", "error_code", "error_message", "data"}``."""

from __future__ import annotations

import base64
import binascii
import json
from decimal import Decimal
from typing import Any

from fastapi import Response

from vitrina.core.schemas import unstorable

# WJ's internal error table, verbatim from the seed (code: message).
ERROR_MESSAGES: dict[int, str] = {
    0: "no errors", 1: "Params error", 2: "Incorrect token", 3: "Incorrect authkey", 4: "Incorrect data",
    5: "Can not logout", 6: "Incorrect Role", 7: "Failed to save data. Try later", 8: "Incorrect Email format",
    9: "Incorrect Password format", 10: "Phone is required", 11: "Email is required", 12: "First Name is required",
    13: "Last Name is required", 14: "Country is required", 15: "City is required", 16: "Password is required",
    17: "Role required", 20: "User is waiting to approve", 21: "User is disable", 22: "User not deleted",
    23: "User not found", 24: "This email address has been registered", 25: "User email is not verified",
    30: "Multipart form-data and POST required", 31: "File format is not allowed", 32: "File not recognized",
    33: "No such file or directory", 34: "File not found", 35: "Can't save file", 40: "Server Side Exception",
    41: "Error Email Sending", 50: "This user already have store company", 51: "Sub domain already exist",
    70: "WorkBag not found", 71: "Purchase Order not found", 72: "Product not found",
    73: "Products configuration not found", 74: "POS not found", 75: "Order product not found", 76: "Order not found",
    77: "Company not found", 78: "Customer not found", 80: "Error during save", 81: "Error during getting results",
    82: "Cannot save order products", 83: "Cannot save order", 84: "Cannot save customer", 90: "Validate error(s)",
    91: "Limit is too long", 92: "Offset is too long", 93: "Empty required params", 100: "Vendor model is empty",
    101: "No data to update", 102: "Empty configuration id value", 103: "Cannot get id", 104: "Cannot get customer",
}


class WJError(Exception):
    """An error answered in WJ's envelope: HTTP 200 with ``status: error`` unless the seed uses another status."""

    def __init__(self, code: int, *, http_status: int = 200, data: Any = None, message: str | None = None) -> None:
        self.code = code
        self.http_status = http_status
        self.data = data if data is not None else {}
        self.message = message or ERROR_MESSAGES.get(code, "Server Side Exception")
        super().__init__(self.message)


def decode_request(raw: bytes) -> dict[str, Any]:
    """The ``data`` object of a request body, whether base64-encoded (WJ's form) or plain JSON."""
    if not raw.strip():
        raise WJError(93)
    try:
        envelope = json.loads(raw)
    except ValueError:
        raise WJError(4) from None
    if not isinstance(envelope, dict) or "data" not in envelope:
        raise WJError(93)
    data = envelope["data"]
    if data is None or (isinstance(data, str) and not data.strip()):
        raise WJError(93)
    if isinstance(data, str):
        # Clients that wrap base64 at 76 columns (MIME style, e.g. PHP's chunk_split) or drop its padding are
        # still sending WJ's encoding: ignore the whitespace and restore the padding before the strict decode.
        compact = "".join(data.split())
        try:
            data = json.loads(base64.b64decode(compact + "=" * (-len(compact) % 4), validate=True))
        except (binascii.Error, ValueError):
            raise WJError(4, message="data is not base64 of a JSON object") from None
    if not isinstance(data, dict):
        raise WJError(4, message="data must be an object")
    problem = unstorable(data, "$")
    if problem is not None:
        # NUL characters, non-finite numbers, huge integers or deep nesting: refused before any service sees them.
        raise WJError(4, message=problem)
    return data


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        # WJ clients read prices as JSON numbers (``"retail": 4000``, ``"cost": 18.52``); amounts rounded at the
        # currency's exponent survive the float round trip exactly.
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def encode(data: Any = None, *, code: int = 0, message: str | None = None, http_status: int = 200) -> Response:
    body = {"status": "success" if code == 0 else "error", "error_code": code,
            "error_message": message if message is not None else ("" if code == 0 else ERROR_MESSAGES.get(code, "")),
            "data": _plain(data if data is not None else {})}
    payload = base64.b64encode(json.dumps(body, separators=(",", ":")).encode())
    return Response(payload, status_code=http_status, media_type="text/plain")


def encode_error(error: WJError) -> Response:
    return encode(error.data, code=error.code, message=error.message, http_status=error.http_status)
