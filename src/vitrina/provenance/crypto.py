"""The cryptography of provenance: NTAG 424 DNA SUN messages (NXP AN12196), AN10922 key diversification,
Ed25519 tag signatures and ledger keys, and encryption of tag keys at rest.

Everything here is pure (bytes in, bytes out) so it can be checked against published test vectors.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import cmac, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_BYTES = 16
UID_BYTES = 7
ZERO_IV = bytes(16)
# PICCDataTag: bit 7 = UID mirrored, bit 6 = read counter mirrored, bits 0-3 = UID length (7 for NTAG 424 DNA).
PICC_DATA_TAG = 0xC7
# Diversification inputs (AN10922 "M"): appended to the UID so the two keys of one tag differ.
FILE_READ_DIVERSIFIER = b"SDMFileRead"
# The organization-wide SDM meta-read key: the PICCData must be decrypted before the UID is known, so this key
# is diversified per organization, not per tag (AN12196 allows a shared K_SDMMetaRead).
META_READ_DIVERSIFIER = b"VitrinaSDMMetaRead"


def _aes_ecb_encrypt(key: bytes, block: bytes) -> bytes:
    encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()  # one block at a time, by design
    return encryptor.update(block) + encryptor.finalize()


def _aes_cbc(key: bytes, iv: bytes, data: bytes, *, encrypt: bool) -> bytes:
    cipher = Cipher(algorithms.AES(key), modes.CBC(iv))
    worker = cipher.encryptor() if encrypt else cipher.decryptor()
    return worker.update(data) + worker.finalize()


def aes_cmac(key: bytes, data: bytes) -> bytes:
    mac = cmac.CMAC(algorithms.AES(key))
    mac.update(data)
    return mac.finalize()


def _shift_left(block: bytes) -> bytes:
    value = (int.from_bytes(block, "big") << 1) & ((1 << 128) - 1)
    return value.to_bytes(16, "big")


def _cmac_subkeys(key: bytes) -> tuple[bytes, bytes]:
    zero = _aes_ecb_encrypt(key, bytes(16))
    k1 = _shift_left(zero)
    if zero[0] & 0x80:
        k1 = k1[:15] + bytes([k1[15] ^ 0x87])
    k2 = _shift_left(k1)
    if k1[0] & 0x80:
        k2 = k2[:15] + bytes([k2[15] ^ 0x87])
    return k1, k2


def an10922_diversify(master_key: bytes, diversification_input: bytes) -> bytes:
    """NXP AN10922 §2.2 AES-128 key diversification.

    D = 0x01 || M, padded (0x80 00..) to 32 bytes when shorter; the last block is XORed with K2 when padded,
    K1 otherwise; the diversified key is the last block of AES-CBC(master, zero IV, D). This is CMAC except
    that the input is always two blocks, which is why it is written out here instead of calling ``aes_cmac``.
    """
    if len(master_key) != KEY_BYTES:
        raise ValueError("the master key must be 16 bytes")
    if not 1 <= len(diversification_input) <= 31:
        raise ValueError("the diversification input must be 1 to 31 bytes")
    data = b"\x01" + diversification_input
    k1, k2 = _cmac_subkeys(master_key)
    padded = len(data) < 32
    if padded:
        data = data + b"\x80" + bytes(31 - len(data))
    last = bytes(a ^ b for a, b in zip(data[16:], k2 if padded else k1, strict=True))
    return _aes_cbc(master_key, ZERO_IV, data[:16] + last, encrypt=True)[16:]


def file_read_key(master_key: bytes, uid: bytes) -> bytes:
    return an10922_diversify(master_key, uid + FILE_READ_DIVERSIFIER)


def meta_read_key(master_key: bytes) -> bytes:
    return an10922_diversify(master_key, META_READ_DIVERSIFIER)


# --- SUN messages (AN12196) -------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class PiccData:
    uid: bytes
    counter: int


def decrypt_picc_data(meta_key: bytes, picc_data: bytes) -> PiccData | None:
    """AES-128-CBC (zero IV) decryption of the 16-byte PICCData; None when the PICCDataTag is not ours."""
    if len(picc_data) != 16:
        return None
    plain = _aes_cbc(meta_key, ZERO_IV, picc_data, encrypt=False)
    if plain[0] != PICC_DATA_TAG:
        return None
    uid = plain[1:1 + UID_BYTES]
    counter = int.from_bytes(plain[1 + UID_BYTES:4 + UID_BYTES], "little")
    return PiccData(uid=uid, counter=counter)


def _session_vector(prefix: bytes, uid: bytes, counter: int) -> bytes:
    return prefix + uid + counter.to_bytes(3, "little")


def session_mac_key(file_key: bytes, uid: bytes, counter: int) -> bytes:
    """KSesSDMFileReadMAC = CMAC(K_SDMFileRead, SV2), SV2 = 3CC3 0001 0080 || UID || SDMReadCtr."""
    return aes_cmac(file_key, _session_vector(bytes.fromhex("3CC300010080"), uid, counter))


def session_enc_key(file_key: bytes, uid: bytes, counter: int) -> bytes:
    """KSesSDMFileReadENC = CMAC(K_SDMFileRead, SV1), SV1 = C33C 0001 0080 || UID || SDMReadCtr."""
    return aes_cmac(file_key, _session_vector(bytes.fromhex("C33C00010080"), uid, counter))


def truncated_mac(session_key: bytes, mac_input: bytes) -> bytes:
    """The 8-byte SDMMAC: bytes 1, 3, 5, ..., 15 of the 16-byte CMAC (AN12196 §3.4)."""
    return aes_cmac(session_key, mac_input)[1::2]


def enc_mac_input(enc_hex: str, mac_param: str = "cmac") -> bytes:
    """What the tag MACs when it mirrors encrypted file data: the ASCII of the ``enc`` hex up to the MAC value,
    i.e. followed by ``&cmac=`` in the URL layout this service documents."""
    suffix = f"&{mac_param}=" if mac_param else ""
    return (enc_hex.upper() + suffix).encode("ascii")


def sdm_mac(file_key: bytes, uid: bytes, counter: int, mac_input: bytes = b"") -> bytes:
    return truncated_mac(session_mac_key(file_key, uid, counter), mac_input)


def decrypt_file_data(file_key: bytes, uid: bytes, counter: int, enc: bytes) -> bytes:
    """SDMENCFileData: AES-128-CBC under the session ENC key, IV = E(KSesENC, SDMReadCtr || 13 zero bytes)."""
    key = session_enc_key(file_key, uid, counter)
    iv = _aes_ecb_encrypt(key, counter.to_bytes(3, "little") + bytes(13))
    return _aes_cbc(key, iv, enc, encrypt=False)


def encrypt_file_data(file_key: bytes, uid: bytes, counter: int, plain: bytes) -> bytes:
    """The tag's side of ``decrypt_file_data`` (used by the simulator in tests and the demo)."""
    key = session_enc_key(file_key, uid, counter)
    iv = _aes_ecb_encrypt(key, counter.to_bytes(3, "little") + bytes(13))
    return _aes_cbc(key, iv, plain, encrypt=True)


def encrypt_picc_data(meta_key: bytes, uid: bytes, counter: int, padding: bytes | None = None) -> bytes:
    """The tag's side of ``decrypt_picc_data`` (a simulated tap)."""
    filler = padding if padding is not None else os.urandom(5)
    plain = bytes([PICC_DATA_TAG]) + uid + counter.to_bytes(3, "little") + filler
    return _aes_cbc(meta_key, ZERO_IV, plain, encrypt=True)


def macs_equal(a: bytes, b: bytes) -> bool:
    return hmac.compare_digest(a, b)


# --- keys at rest -----------------------------------------------------------------------------------------------

def _derive(server_secret: str, info: bytes, length: int = 32) -> bytes:
    return HKDF(algorithm=SHA256(), length=length, salt=b"vitrina-provenance", info=info).derive(
        server_secret.encode())


def seal(server_secret: str, plaintext: bytes, *, context: str) -> bytes:
    """AES-256-GCM under a key derived from the server secret; ``context`` (e.g. the passport id) is bound as
    associated data so a sealed key cannot be swapped onto another row."""
    nonce = os.urandom(12)
    return nonce + AESGCM(_derive(server_secret, b"kek")).encrypt(nonce, plaintext, context.encode())


def unseal(server_secret: str, sealed: bytes, *, context: str) -> bytes:
    try:
        return AESGCM(_derive(server_secret, b"kek")).decrypt(sealed[:12], sealed[12:], context.encode())
    except InvalidTag as exc:
        raise ValueError("sealed key does not open with this server secret") from exc


def ledger_signing_key(server_secret: str, organization_id: str) -> Ed25519PrivateKey:
    """The organization's checkpoint key, derived (HKDF) from the server secret: nothing secret is stored."""
    seed = _derive(server_secret, b"ledger-ed25519|" + organization_id.encode())
    return Ed25519PrivateKey.from_private_bytes(seed)


def raw_public_key(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public_key: bytes) -> str:
    return hashlib.sha256(public_key).hexdigest()[:16]


def ed25519_verify(public_key: bytes, signature: bytes, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True
