"""RFC 9162 (Certificate Transparency v2) Merkle tree hashing and proofs, over stored subtree hashes.

A tree is read through ``get(level, index)``: the hash of the perfect subtree covering leaves
``[index·2^level, (index+1)·2^level)``. Every range the RFC's recursion visits splits into such subtrees, so
roots and proofs need O(log n) stored nodes and no rebuild. ``needed_nodes`` runs the same recursion with a
recording getter so a caller can fetch every node in one query first.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

Getter = Callable[[int, int], bytes]
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1): the RFC's k."""
    return 1 << ((n - 1).bit_length() - 1)


def subtree_hash(get: Getter, start: int, end: int) -> bytes:
    """MTH(D[start:end]) for the ranges the RFC recursion produces."""
    size = end - start
    if size == 0:
        return EMPTY_ROOT
    if size & (size - 1) == 0 and start % size == 0:
        return get(size.bit_length() - 1, start // size)
    k = _split(size)
    return node_hash(subtree_hash(get, start, start + k), subtree_hash(get, start + k, end))


def root(get: Getter, tree_size: int) -> bytes:
    return subtree_hash(get, 0, tree_size)


def inclusion_path(get: Getter, leaf_index: int, tree_size: int) -> list[bytes]:
    """PATH(m, D[n]) of RFC 9162 §2.1.3.1, leaf to root."""
    if not 0 <= leaf_index < tree_size:
        raise ValueError("leaf_index must be below tree_size")
    path: list[bytes] = []
    start, end = 0, tree_size
    # Walk down from the root, collecting siblings; reversed at the end so the path starts at the leaf.
    while end - start > 1:
        k = _split(end - start)
        if leaf_index < start + k:
            path.append(subtree_hash(get, start + k, end))
            end = start + k
        else:
            path.append(subtree_hash(get, start, start + k))
            start = start + k
    path.reverse()
    return path


def consistency_proof(get: Getter, first: int, second: int) -> list[bytes]:
    """PROOF(m, D[n]) of RFC 9162 §2.1.4.1 (SUBPROOF with b = true)."""
    if not 0 < first <= second:
        raise ValueError("need 0 < first <= second")
    proof: list[bytes] = []
    start, end, m, complete = 0, second, first, True
    while True:
        size = end - start
        if m == size:
            if not complete:
                proof.append(subtree_hash(get, start, end))
            break
        k = _split(size)
        if m <= k:
            proof.append(subtree_hash(get, start + k, end))
            end = start + k
        else:
            proof.append(subtree_hash(get, start, start + k))
            start, m, complete = start + k, m - k, False
    proof.reverse()
    return proof


def needed_nodes(compute: Callable[[Getter], object]) -> set[tuple[int, int]]:
    """The (level, index) nodes ``compute`` reads (hash values do not steer the recursion)."""
    seen: set[tuple[int, int]] = set()

    def record(level: int, index: int) -> bytes:
        seen.add((level, index))
        return EMPTY_ROOT

    compute(record)
    return seen


def parents_after_append(get: Getter, leaf_index: int, leaf: bytes) -> list[tuple[int, int, bytes]]:
    """The nodes completed by appending leaf ``leaf_index``: the leaf itself and each perfect subtree it closes."""
    nodes = [(0, leaf_index, leaf)]
    level, index, current = 0, leaf_index, leaf
    while index % 2 == 1:
        current = node_hash(get(level, index - 1), current)
        level, index = level + 1, index // 2
        nodes.append((level, index, current))
    return nodes
