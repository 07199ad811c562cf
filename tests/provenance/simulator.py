"""A simulated NTAG 424 DNA: it produces SUN URLs the way the chip does (AN12196), with a rising counter."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from vitrina.provenance import crypto


@dataclass
class SimulatedTag:
    meta_key: bytes
    file_key: bytes
    uid: bytes = field(default_factory=lambda: b"\x04" + os.urandom(6))
    counter: int = 0

    def tap(self, *, file_data: bytes | None = None) -> dict[str, str]:
        """The query parameters of the next tap (picc_data, cmac and, with file data, enc)."""
        self.counter += 1
        picc = crypto.encrypt_picc_data(self.meta_key, self.uid, self.counter).hex().upper()
        if file_data is None:
            mac = crypto.sdm_mac(self.file_key, self.uid, self.counter)
            return {"picc_data": picc, "cmac": mac.hex().upper()}
        enc = crypto.encrypt_file_data(self.file_key, self.uid, self.counter, file_data).hex().upper()
        mac = crypto.sdm_mac(self.file_key, self.uid, self.counter, crypto.enc_mac_input(enc))
        return {"picc_data": picc, "enc": enc, "cmac": mac.hex().upper()}
