"""Checking a ledger inclusion proof the way anyone outside would (RFC 9162 §2.1.3.2), so the passport page can
say "this entry is in the signed tree" from the proof itself rather than from our word.

Independent of the provenance domain's Merkle code on purpose: the proof comes from ``provenance.ledger``, the
check is done here from the RFC, and a disagreement between the two shows on the page.
"""

from __future__ import annotations

import base64
import hashlib


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_from_path(leaf_index: int, tree_size: int, leaf_hash: bytes, path: list[bytes]) -> bytes | None:
    """The root the audit path leads to, or None when the path cannot belong to a tree of ``tree_size``."""
    if not 0 <= leaf_index < tree_size:
        return None
    fn, sn, r = leaf_index, tree_size - 1, leaf_hash
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = _node(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = _node(r, p)
        fn, sn = fn >> 1, sn >> 1
    return r if sn == 0 else None


def proof_holds(proof: dict[str, object], root_hash_b64: str) -> bool:
    """True when the API-shaped inclusion proof (base64 hashes) leads from its leaf to ``root_hash_b64``."""
    try:
        leaf_data = base64.b64decode(str(proof["leaf_data"]))
        leaf_hash = base64.b64decode(str(proof["leaf_hash"]))
        path = [base64.b64decode(str(h)) for h in proof["audit_path"]]  # type: ignore[attr-defined]
        root = base64.b64decode(root_hash_b64)
        index, size = int(proof["leaf_index"]), int(proof["tree_size"])  # type: ignore[call-overload]
    except (KeyError, TypeError, ValueError):
        return False
    if hashlib.sha256(b"\x00" + leaf_data).digest() != leaf_hash:  # the entry's bytes are the ones hashed
        return False
    return root_from_path(index, size, leaf_hash, path) == root
