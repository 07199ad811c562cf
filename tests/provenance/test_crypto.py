"""SUN verification and key diversification against NXP's published vectors (AN12196, AN10922)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.provenance import simulator
from tests.provenance.simulator import SimulatedTag
from vitrina.provenance import crypto

ZERO = bytes(16)


def test_an12196_plain_picc_example() -> None:
    picc = crypto.decrypt_picc_data(ZERO, bytes.fromhex("EF963FF7828658A599F3041510671E88"))
    assert picc is not None
    assert picc.uid.hex().upper() == "04DE5F1EACC040"
    assert picc.counter == 61
    assert crypto.sdm_mac(ZERO, picc.uid, picc.counter).hex().upper() == "94EED9EE65337086"
    # The note's intermediate values: SV2 and the session MAC key it derives.
    assert crypto.session_mac_key(ZERO, picc.uid, picc.counter).hex().upper() == "3FB5F6E3A807A03D5E3570ACE393776F"
    full = crypto.aes_cmac(crypto.session_mac_key(ZERO, picc.uid, picc.counter), b"")
    assert full[1::2] == bytes.fromhex("94EED9EE65337086")  # bytes 1, 3, ..., 15 of the 16-byte CMAC


def test_an12196_encrypted_file_data_example() -> None:
    picc = crypto.decrypt_picc_data(ZERO, bytes.fromhex("FD91EC264309878BE6345CBE53BADF40"))
    assert picc is not None and picc.uid.hex().upper() == "04958CAA5C5E80" and picc.counter == 8
    enc = "CEE9A53E3E463EF1F459635736738962"
    assert crypto.decrypt_file_data(ZERO, picc.uid, picc.counter, bytes.fromhex(enc)) == b"xxxxxxxxxxxxxxxx"
    mac = crypto.sdm_mac(ZERO, picc.uid, picc.counter, crypto.enc_mac_input(enc))
    assert mac.hex().upper() == "ECC1E7F6C6C73BF6"


def test_custom_keys_vector_without_mac_parameter() -> None:
    meta, file = bytes.fromhex("42aff114f2cb3b6141be6dc95dfc5416"), bytes.fromhex("b62a9baf092439bd43c62aee96b970c5")
    picc = crypto.decrypt_picc_data(meta, bytes.fromhex("8ACADDEF0A9B62CDAE39A16B83FC14DE"))
    assert picc is not None and picc.uid.hex() == "041d3c8a2d6b80" and picc.counter == 291
    enc = "B8436E11F627BB7F543FCC0C1E0D1A89"
    assert crypto.decrypt_file_data(file, picc.uid, picc.counter, bytes.fromhex(enc)).hex() == \
        "4e545858716e6f5f6f42467077792d56"
    assert crypto.sdm_mac(file, picc.uid, picc.counter, crypto.enc_mac_input(enc, "")).hex().upper() == \
        "238B2543A8DEBAD8"


def test_plain_uid_and_counter_mac_vector() -> None:
    assert crypto.sdm_mac(ZERO, bytes.fromhex("041E3C8A2D6B80"), 6).hex().upper() == "4B00064004B0B3D3"
    assert crypto.sdm_mac(ZERO, bytes.fromhex("041E3C8A2D6B80"), 7).hex().upper() != "4B00064004B0B3D3"


def test_wrong_key_or_tampered_picc_is_rejected() -> None:
    assert crypto.decrypt_picc_data(bytes(15) + b"\x01", bytes.fromhex("EF963FF7828658A599F3041510671E88")) is None
    assert crypto.decrypt_picc_data(ZERO, bytes.fromhex("EF963FF7828658A599F3041510671E89")) is None


def test_an10922_aes128_diversification_example() -> None:
    master = bytes.fromhex("00112233445566778899AABBCCDDEEFF")
    diversified = crypto.an10922_diversify(master, bytes.fromhex("04782E21801D803042F54E585020416275"))
    assert diversified.hex().upper() == "A8DD63A3B89D54B37CA802473FDA9175"


def test_an10922_unpadded_input_uses_k1_and_differs_per_uid() -> None:
    master = bytes.fromhex("00112233445566778899AABBCCDDEEFF")
    full = crypto.an10922_diversify(master, bytes(31))  # 0x01 || 31 bytes = exactly two blocks: no padding
    assert len(full) == 16 and full != crypto.an10922_diversify(master, bytes(30))
    assert crypto.file_read_key(master, bytes(7)) != crypto.file_read_key(master, b"\x00" * 6 + b"\x01")
    with pytest.raises(ValueError):
        crypto.an10922_diversify(master, bytes(32))


def test_independent_simulator_reproduces_the_an12196_example() -> None:
    """The test encoder (written from the note, not from our code) makes the note's CMAC for UID/counter 61."""
    tag = SimulatedTag(meta_key=ZERO, file_key=ZERO, uid=bytes.fromhex("04DE5F1EACC040"), counter=60)
    assert tag.tap()["cmac"] == "94EED9EE65337086"
    enc_tag = SimulatedTag(meta_key=ZERO, file_key=ZERO, uid=bytes.fromhex("04958CAA5C5E80"), counter=7)
    tap = enc_tag.tap(file_data=b"xxxxxxxxxxxxxxxx")
    assert (tap["enc"], tap["cmac"]) == ("CEE9A53E3E463EF1F459635736738962", "ECC1E7F6C6C73BF6")


def test_independent_an10922_agrees_with_ours_and_the_published_vector() -> None:
    master = bytes.fromhex("00112233445566778899AABBCCDDEEFF")
    assert simulator.diversify(master, bytes.fromhex("04782E21801D803042F54E585020416275")).hex().upper() == \
        "A8DD63A3B89D54B37CA802473FDA9175"
    for length in range(16, 32):
        data = bytes(range(length))
        assert simulator.diversify(master, data) == crypto.an10922_diversify(master, data), length
    uid = bytes.fromhex("04DE5F1EACC040")
    assert simulator.vitrina_file_read_key(master, uid) == crypto.file_read_key(master, uid)
    assert simulator.vitrina_meta_read_key(master) == crypto.meta_read_key(master)


def test_simulated_tag_round_trip() -> None:
    tag = SimulatedTag(meta_key=b"m" * 16, file_key=b"f" * 16)
    first, second = tag.tap(), tag.tap(file_data=b"0123456789abcdef")
    for params, counter in ((first, 1), (second, 2)):
        picc = crypto.decrypt_picc_data(tag.meta_key, bytes.fromhex(params["picc_data"]))
        assert picc is not None and picc.uid == tag.uid and picc.counter == counter
    assert crypto.sdm_mac(tag.file_key, tag.uid, 1).hex().upper() == first["cmac"]
    mac_input = crypto.enc_mac_input(second["enc"])
    assert crypto.sdm_mac(tag.file_key, tag.uid, 2, mac_input).hex().upper() == second["cmac"]
    assert crypto.decrypt_file_data(tag.file_key, tag.uid, 2, bytes.fromhex(second["enc"])) == b"0123456789abcdef"


def test_counter_is_three_bytes_little_endian() -> None:
    tag = SimulatedTag(meta_key=ZERO, file_key=ZERO, counter=0x0102FF)
    picc = crypto.decrypt_picc_data(ZERO, bytes.fromhex(tag.tap()["picc_data"]))
    assert picc is not None and picc.counter == 0x010300


def test_sealed_keys_open_only_with_the_same_secret_and_context() -> None:
    sealed = crypto.seal("secret-a", b"k" * 16, context="file|psp_1")
    assert crypto.unseal("secret-a", sealed, context="file|psp_1") == b"k" * 16
    for secret, context in (("secret-b", "file|psp_1"), ("secret-a", "file|psp_2")):
        with pytest.raises(ValueError):
            crypto.unseal(secret, sealed, context=context)


def test_ed25519_helpers() -> None:
    key = Ed25519PrivateKey.generate()
    public = crypto.raw_public_key(key)
    assert crypto.ed25519_verify(public, key.sign(b"tag|1"), b"tag|1")
    assert not crypto.ed25519_verify(public, key.sign(b"tag|1"), b"tag|2")
    assert not crypto.ed25519_verify(b"short", key.sign(b"tag|1"), b"tag|1")
