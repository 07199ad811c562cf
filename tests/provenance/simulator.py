"""A simulated NTAG 424 DNA written from NXP AN12196 alone: it builds SUN URLs the way the chip does, with a rising
read counter. It shares no code with ``vitrina.provenance.crypto`` so a mistake there cannot cancel itself out.

The chip's side of Secure Dynamic Messaging (AN12196 §3.3, §3.4):
- PICCData = AES-128-CBC(K_SDMMetaRead, IV 0, PICCDataTag 0xC7 || UID (7) || SDMReadCtr (3, LSB first) || random 5);
- SV1 = C3 3C 00 01 00 80 || UID || SDMReadCtr, SV2 = 3C C3 00 01 00 80 || UID || SDMReadCtr;
  KSesSDMFileReadENC = CMAC(K_SDMFileRead, SV1), KSesSDMFileReadMAC = CMAC(K_SDMFileRead, SV2);
- SDMENCFileData = AES-128-CBC(KSesENC, IV = AES-ECB(KSesENC, SDMReadCtr || 13 zero bytes), file data);
- SDMMAC = the odd-numbered bytes (1, 3, ..., 15) of CMAC(KSesMAC, MAC input); the input is empty when the MAC
  input offset equals the MAC offset, or the ASCII of the ``enc`` hex followed by ``&cmac=`` in our URL layout.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.cmac import CMAC


def cmac(key: bytes, data: bytes) -> bytes:
    mac = CMAC(algorithms.AES(key))
    mac.update(data)
    return mac.finalize()


def _cbc_encrypt(key: bytes, iv: bytes, data: bytes) -> bytes:
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return encryptor.update(data) + encryptor.finalize()


def diversify(master: bytes, diversification_input: bytes) -> bytes:
    """AN10922 AES-128 diversification for inputs of 16 to 31 bytes, where its padding (to two blocks, last
    block XORed with K1/K2) is exactly AES-CMAC's: CMAC(master, 0x01 || M)."""
    assert 16 <= len(diversification_input) <= 31
    return cmac(master, b"\x01" + diversification_input)


def vitrina_file_read_key(master: bytes, uid: bytes) -> bytes:
    """The documented per-tag scheme (docs/provenance.md): M = UID || "SDMFileRead"."""
    return diversify(master, uid + b"SDMFileRead")


def vitrina_meta_read_key(master: bytes) -> bytes:
    """The documented organization-wide scheme: M = "VitrinaSDMMetaRead"."""
    return diversify(master, b"VitrinaSDMMetaRead")


@dataclass
class SimulatedTag:
    meta_key: bytes
    file_key: bytes
    uid: bytes = field(default_factory=lambda: b"\x04" + os.urandom(6))
    counter: int = 0

    def _session_key(self, prefix: str) -> bytes:
        return cmac(self.file_key, bytes.fromhex(prefix) + self.uid + self.counter.to_bytes(3, "little"))

    def _picc_data(self) -> str:
        plain = b"\xc7" + self.uid + self.counter.to_bytes(3, "little") + os.urandom(5)
        return _cbc_encrypt(self.meta_key, bytes(16), plain).hex().upper()

    def _mac(self, mac_input: bytes) -> str:
        return cmac(self._session_key("3CC300010080"), mac_input)[1::2].hex().upper()

    def _enc(self, file_data: bytes) -> str:
        key = self._session_key("C33C00010080")
        iv = _cbc_encrypt(key, bytes(16), self.counter.to_bytes(3, "little") + bytes(13))  # one block: ECB
        return _cbc_encrypt(key, iv, file_data).hex().upper()

    def tap(self, *, file_data: bytes | None = None, mac_name: str = "cmac") -> dict[str, str]:
        """The query parameters of the next tap (picc_data, cmac and, with file data, enc). ``mac_name`` is the
        URL's name for the MAC parameter right after ``enc``, which the MAC input then ends with."""
        self.counter += 1
        if file_data is None:
            return {"picc_data": self._picc_data(), "cmac": self._mac(b"")}
        enc = self._enc(file_data)
        return {"picc_data": self._picc_data(), "enc": enc, "cmac": self._mac(f"{enc}&{mac_name}=".encode("ascii"))}
