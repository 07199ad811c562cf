"""A tiny NTAG 424 DNA SUN encoder for tests (NXP AN12196): what a genuine tag puts in the URL on a tap.

Written from the application note, independently of the provenance domain's decoder, so the verify page is
tested against taps the way a phone would bring them.
"""

from __future__ import annotations

import os

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.cmac import CMAC

# AN12196's published example: all-zero keys, and the URL parameters of a tap with read counter 61.
EXAMPLE_KEY = bytes(16)
EXAMPLE_UID = "04DE5F1EACC040"
EXAMPLE_COUNTER = 61
EXAMPLE_E = "EF963FF7828658A599F3041510671E88"
EXAMPLE_C = "94EED9EE65337086"


def _cmac(key: bytes, data: bytes) -> bytes:
    mac = CMAC(algorithms.AES(key))
    mac.update(data)
    return mac.finalize()


def _cbc(key: bytes, data: bytes, *, decrypt: bool = False) -> bytes:
    cipher = Cipher(algorithms.AES(key), modes.CBC(bytes(16)))
    worker = cipher.decryptor() if decrypt else cipher.encryptor()
    return worker.update(data) + worker.finalize()


def sun_mac(file_read_key: bytes, uid: bytes, counter: int) -> str:
    """The truncated CMAC of a tap without encrypted file data: session key from SV2, odd bytes of CMAC('')."""
    sv2 = bytes.fromhex("3CC300010080") + uid + counter.to_bytes(3, "little")
    session_key = _cmac(file_read_key, sv2)
    return _cmac(session_key, b"")[1::2].hex().upper()


def tap(uid_hex: str, counter: int, *, meta_read_key: bytes = EXAMPLE_KEY,
        file_read_key: bytes = EXAMPLE_KEY) -> dict[str, str]:
    """The ``e`` and ``c`` query parameters of one tap."""
    uid = bytes.fromhex(uid_hex)
    plain = b"\xc7" + uid + counter.to_bytes(3, "little") + os.urandom(5)
    return {"e": _cbc(meta_read_key, plain).hex().upper(), "c": sun_mac(file_read_key, uid, counter)}


def decode(e: str, meta_read_key: bytes = EXAMPLE_KEY) -> tuple[str, int]:
    plain = _cbc(meta_read_key, bytes.fromhex(e), decrypt=True)
    return plain[1:8].hex().upper(), int.from_bytes(plain[8:11], "little")
