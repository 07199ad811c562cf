"""The Merkle ledger: inclusion and consistency proofs for trees of 1 to 1,000 leaves checked by an independent
RFC 9162 verifier; tampering fails them; ``run_checks`` recomputes the tree."""

from __future__ import annotations

import base64
import random

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from tests.provenance.rfc9162 import verify_consistency, verify_inclusion
from vitrina.core.errors import ValidationFailed
from vitrina.core.ids import new_id
from vitrina.provenance import checks, ledger, merkle
from vitrina.provenance.models import LedgerLeaf

LEAVES = 1000


def _b(value: str) -> bytes:
    return base64.b64decode(value)


@pytest.fixture
def big_ledger(db: Session) -> str:
    org = new_id("org")
    for index in range(LEAVES):
        ledger.append(db, organization_id=org, event_type="test.event", passport_id=None, data={"n": index})
    return org


def test_inclusion_and_consistency_for_every_size_up_to_1000(db: Session, big_ledger: str) -> None:
    org, rng = big_ledger, random.Random(7)
    assert ledger.tree_size(db, org) == LEAVES
    for size in range(1, LEAVES + 1):
        # Small trees exhaustively; larger ones at the edges and a few random leaves.
        indexes = range(size) if size <= 40 else {0, size - 1, size // 2, *rng.sample(range(size), 3)}
        for index in indexes:
            proof = ledger.inclusion(db, organization_id=org, leaf_index=index, size=size)
            assert verify_inclusion(_b(proof["leaf_data"]), index, size, [_b(h) for h in proof["audit_path"]],
                                    _b(proof["root_hash"])), (index, size)
        firsts = range(1, size + 1) if size <= 40 else {1, size, size // 2, rng.randint(1, size)}
        for first in firsts:
            result = ledger.consistency(db, organization_id=org, first=first, second=size)
            assert verify_consistency(first, size, [_b(h) for h in result["proof"]], _b(result["first_root"]),
                                      _b(result["second_root"])), (first, size)


def test_roots_match_a_from_scratch_computation(db: Session) -> None:
    org = new_id("org")
    datas = []
    for index in range(37):
        ledger.append(db, organization_id=org, event_type="t", passport_id=None, data={"i": index})
        datas.append(bytes(db.get(LedgerLeaf, (org, index)).leaf_data))  # type: ignore[union-attr]

    def mth(items: list[bytes]) -> bytes:
        if len(items) == 1:
            return merkle.leaf_hash(items[0])
        k = 1 << ((len(items) - 1).bit_length() - 1)
        return merkle.node_hash(mth(items[:k]), mth(items[k:]))

    for size in range(1, 38):
        assert ledger.root_hash(db, org, size) == mth(datas[:size])


def test_tampered_leaf_or_root_fails_verification(db: Session) -> None:
    org = new_id("org")
    for index in range(13):
        ledger.append(db, organization_id=org, event_type="t", passport_id=None, data={"i": index})
    proof = ledger.inclusion(db, organization_id=org, leaf_index=5, size=13)
    path, root, data = [_b(h) for h in proof["audit_path"]], _b(proof["root_hash"]), _b(proof["leaf_data"])
    assert verify_inclusion(data, 5, 13, path, root)
    assert not verify_inclusion(data.replace(b'"i":5', b'"i":6'), 5, 13, path, root)
    assert not verify_inclusion(data, 5, 13, path, bytes(32))
    assert not verify_inclusion(data, 4, 13, path, root)
    assert not verify_inclusion(data, 5, 13, path[:-1], root)
    consistency = ledger.consistency(db, organization_id=org, first=6, second=13)
    hashes = [_b(h) for h in consistency["proof"]]
    first_root, second_root = _b(consistency["first_root"]), _b(consistency["second_root"])
    assert verify_consistency(6, 13, hashes, first_root, second_root)
    assert not verify_consistency(6, 13, hashes, first_root, bytes(32))
    assert not verify_consistency(6, 13, [bytes(32), *hashes[1:]], first_root, second_root)


def test_leaves_chain_to_their_predecessor(db: Session) -> None:
    org = new_id("org")
    first = ledger.append(db, organization_id=org, event_type="t", passport_id=None, data={})
    ledger.append(db, organization_id=org, event_type="t", passport_id=None, data={})
    second_data = bytes(db.get(LedgerLeaf, (org, 1)).leaf_data)  # type: ignore[union-attr]
    assert f'"prev":"{ledger.b64(first.leaf_hash)}"'.encode() in second_data


def test_checks_pass_then_catch_a_tampered_leaf(db: Session) -> None:
    org = new_id("org")
    for index in range(9):
        ledger.append(db, organization_id=org, event_type="t", passport_id=None, data={"i": index})
    assert checks.run_checks(db, organization_id=org, server_secret="s") == []
    forged = bytes(db.get(LedgerLeaf, (org, 3)).leaf_data).replace(b'"i":3', b'"i":4')  # type: ignore[union-attr]
    db.execute(update(LedgerLeaf).where(LedgerLeaf.organization_id == org, LedgerLeaf.leaf_index == 3)
               .values(leaf_data=forged))
    problems = checks.run_checks(db, organization_id=org)
    assert any("leaf 3 hash" in line for line in problems), problems


def test_checks_catch_a_rewritten_leaf_with_a_matching_hash(db: Session) -> None:
    """Rewriting a leaf and its hash consistently still breaks the chain and the checkpointed root."""
    org = new_id("org")
    for index in range(6):
        ledger.append(db, organization_id=org, event_type="t", passport_id=None, data={"i": index})
    forged = bytes(db.get(LedgerLeaf, (org, 2)).leaf_data).replace(b'"i":2', b'"i":9')  # type: ignore[union-attr]
    db.execute(update(LedgerLeaf).where(LedgerLeaf.organization_id == org, LedgerLeaf.leaf_index == 2)
               .values(leaf_data=forged, leaf_hash=merkle.leaf_hash(forged)))
    problems = checks.run_checks(db, organization_id=org)
    assert any("does not chain" in line for line in problems), problems
    assert any("root recomputed" in line for line in problems), problems


def test_out_of_range_proof_requests_are_422(db: Session) -> None:
    org = new_id("org")
    ledger.append(db, organization_id=org, event_type="t", passport_id=None, data={})
    for call in (lambda: ledger.inclusion(db, organization_id=org, leaf_index=1, size=None),
                 lambda: ledger.inclusion(db, organization_id=org, leaf_index=0, size=2),
                 lambda: ledger.consistency(db, organization_id=org, first=2, second=None)):
        with pytest.raises(ValidationFailed):
            call()
