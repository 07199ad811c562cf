"""The Merkle ledger: inclusion and consistency proofs for trees of 1 to 1,000 leaves checked by an independent
RFC 9162 verifier; tampering fails them; ``run_checks`` recomputes the tree."""

from __future__ import annotations

import base64
import functools
import hashlib
import random
from typing import Any

import pytest
from sqlalchemy import delete, event, select, update
from sqlalchemy.orm import Session

from tests.provenance.rfc9162 import (
    ReferenceTree,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
    verify_inclusion_of_hash,
)
from vitrina.core.errors import ValidationFailed
from vitrina.core.ids import new_id
from vitrina.db.session import Database
from vitrina.provenance import checks, ledger, merkle
from vitrina.provenance.models import LedgerCheckpoint, LedgerHead, LedgerLeaf, LedgerNode

LEAVES = 1000
SMALL = 64  # trees up to this size are checked exhaustively (every leaf, every first size)


def _b(value: str) -> bytes:
    return base64.b64decode(value)


@pytest.fixture(scope="module")
def big_ledger(database: Database) -> tuple[str, ReferenceTree]:
    """An organization ledger of 1,000 leaves (built and committed once for the module's read-only tests; its
    organization id is fresh, so no other test sees it) and the RFC's reference tree over the same leaf data."""
    org = new_id("org")
    with database.unit_of_work(organization_id=org) as session:
        for index in range(LEAVES):
            ledger.append(session, organization_id=org, event_type="test.event", passport_id=None, data={"n": index})
        datas = session.execute(select(LedgerLeaf.leaf_data).where(LedgerLeaf.organization_id == org)
                                .order_by(LedgerLeaf.leaf_index)).scalars().all()
        leaves = [leaf_hash(bytes(data)) for data in datas]
    return org, ReferenceTree(leaves)


def _stored_nodes(db: Session, org: str) -> merkle.Getter:
    """Every stored subtree hash of ``org``, served from memory (the proofs below then cost no query each)."""
    rows = db.execute(select(LedgerNode.level, LedgerNode.node_index, LedgerNode.hash)
                      .where(LedgerNode.organization_id == org))
    nodes = {(level, index): bytes(value) for level, index, value in rows}
    return lambda level, index: nodes[(level, index)]


def _leaves_to_check(size: int, rng: random.Random) -> set[int]:
    if size <= SMALL:
        return set(range(size))
    return {0, 1, size // 2, size - 2, size - 1, *rng.sample(range(size), 6)}


def _firsts_to_check(size: int, rng: random.Random) -> set[int]:
    if size <= SMALL:
        return set(range(1, size + 1))
    powers = {1 << p for p in range(size.bit_length()) if 1 << p <= size}
    return {1, 2, size // 2, size - 1, size, *powers, *rng.sample(range(1, size + 1), 8)}


def test_stored_subtrees_give_the_rfc_proofs_for_every_size_up_to_1000(
        db: Session, big_ledger: tuple[str, ReferenceTree]) -> None:
    """For each tree size 1..1,000: the root, inclusion paths and consistency proofs computed from the stored
    subtree hashes are exactly the RFC's PATH and PROOF, and the independent verifier accepts them."""
    org, reference = big_ledger
    get, rng = _stored_nodes(db, org), random.Random(7)
    for size in range(1, LEAVES + 1):
        root = merkle.root(get, size)
        assert root == reference.mth(0, size), size
        for index in _leaves_to_check(size, rng):
            audit_path = merkle.inclusion_path(get, index, size)
            assert audit_path == reference.path(index, size), (index, size)
            assert verify_inclusion_of_hash(reference.leaves[index], index, size, audit_path, root), (index, size)
        for first in _firsts_to_check(size, rng):
            proof = merkle.consistency_proof(get, first, size)
            assert proof == reference.proof(first, size), (first, size)
            assert verify_consistency(first, size, proof, reference.mth(0, first), root), (first, size)


def test_ledger_proofs_verify_for_every_size_up_to_1000(db: Session, big_ledger: tuple[str, ReferenceTree]) -> None:
    """The same through ``ledger.inclusion``/``ledger.consistency`` (the API's functions, one query for the nodes),
    from the served leaf bytes, for one random leaf and one random first size per tree size."""
    org, reference = big_ledger
    rng = random.Random(11)
    assert ledger.tree_size(db, org) == LEAVES
    for size in range(1, LEAVES + 1):
        index = rng.randrange(size)
        served = ledger.inclusion(db, organization_id=org, leaf_index=index, size=size)
        assert _b(served["root_hash"]) == reference.mth(0, size)
        assert verify_inclusion(_b(served["leaf_data"]), index, size, [_b(h) for h in served["audit_path"]],
                                _b(served["root_hash"])), (index, size)
        first = rng.randint(1, size)
        result = ledger.consistency(db, organization_id=org, first=first, second=size)
        assert _b(result["first_root"]) == reference.mth(0, first)
        assert verify_consistency(first, size, [_b(h) for h in result["proof"]], _b(result["first_root"]),
                                  _b(result["second_root"])), (first, size)


def _flip(value: bytes, bit: int = 0) -> bytes:
    return bytes([value[0] ^ (1 << bit)]) + value[1:]


def test_tampered_leaf_root_or_proof_fails_the_independent_verifier(
        db: Session, big_ledger: tuple[str, ReferenceTree]) -> None:
    org, reference = big_ledger
    rng = random.Random(3)
    sizes = [2, 3, 4, 5, 7, 8, 9, 16, 17, 63, 64, 65, 100, 255, 256, 257, 511, 777, 999, 1000]
    for size in sizes:
        root = reference.mth(0, size)
        for index in {0, size - 1, rng.randrange(size)}:
            served = ledger.inclusion(db, organization_id=org, leaf_index=index, size=size)
            data, audit_path = _b(served["leaf_data"]), [_b(h) for h in served["audit_path"]]
            assert verify_inclusion(data, index, size, audit_path, root)
            assert not verify_inclusion(data.replace(b'"n":', b'"n": '), index, size, audit_path, root)
            assert not verify_inclusion(data, index, size, audit_path, _flip(root))
            for position in range(len(audit_path)):
                forged = [*audit_path[:position], _flip(audit_path[position], 7), *audit_path[position + 1:]]
                assert not verify_inclusion(data, index, size, forged, root), (index, size, position)
            assert not verify_inclusion(data, index, size, audit_path[:-1], root)
            assert not verify_inclusion(data, index, size, [*audit_path, root], root)
            assert not verify_inclusion(data, (index + 1) % size, size, audit_path, root)
            if size < LEAVES:
                assert not verify_inclusion(data, index, size + 1, audit_path, reference.mth(0, size + 1))
            assert not verify_inclusion(data, size, size, audit_path, root)  # an index past the tree
        for first in {1, size // 2, size - 1, rng.randint(1, size - 1)} - {0}:
            proof, first_root = merkle.consistency_proof(_stored_nodes(db, org), first, size), reference.mth(0, first)
            assert verify_consistency(first, size, proof, first_root, root)
            assert not verify_consistency(first, size, proof, _flip(first_root), root)
            assert not verify_consistency(first, size, proof, first_root, _flip(root))
            for position in range(len(proof)):
                forged = [*proof[:position], _flip(proof[position], 5), *proof[position + 1:]]
                assert not verify_consistency(first, size, forged, first_root, root), (first, size, position)
            assert not verify_consistency(first, size, proof[:-1], first_root, root)
            assert not verify_consistency(first, size, [*proof, root], first_root, root)
            assert not verify_consistency(first, size, [], first_root, root)
            # A different leaf history gives a different first root that no proof reconciles.
            assert not verify_consistency(first, size, proof, reference.mth(1, first + 1), root)


def _inclusion_reads(index: int, size: int, get: merkle.Getter) -> object:
    return merkle.inclusion_path(get, index, size), merkle.root(get, size)


def _consistency_reads(first: int, size: int, get: merkle.Getter) -> object:
    return merkle.consistency_proof(get, first, size), merkle.root(get, first), merkle.root(get, size)


def test_proofs_read_o_log_n_nodes_in_one_query(db: Session, big_ledger: tuple[str, ReferenceTree]) -> None:
    """No rebuild: a root or a proof reads at most ~2·log2(n) stored subtree hashes, fetched by one query."""
    org, _ = big_ledger
    for size in range(1, LEAVES + 1):
        bound = 2 * max(size - 1, 1).bit_length() + 2
        for index in {0, size // 3, size - 1}:
            read = merkle.needed_nodes(functools.partial(_inclusion_reads, index, size))
            assert len(read) <= bound, (index, size, len(read))
        for first in {1, size // 2 or 1, size}:
            read = merkle.needed_nodes(functools.partial(_consistency_reads, first, size))
            assert len(read) <= bound + max(first - 1, 1).bit_length(), (first, size, len(read))
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    connection = db.connection()
    event.listen(connection, "before_cursor_execute", count)
    try:
        ledger.inclusion(db, organization_id=org, leaf_index=617, size=LEAVES)
        inclusion_statements, statements[:] = list(statements), []
        ledger.consistency(db, organization_id=org, first=500, second=LEAVES)
        consistency_statements = list(statements)
    finally:
        event.remove(connection, "before_cursor_execute", count)
    node_reads = [s for s in inclusion_statements + consistency_statements if "ledger_nodes" in s]
    assert len(inclusion_statements) <= 3 and len(consistency_statements) <= 2, (inclusion_statements,
                                                                                 consistency_statements)
    assert len(node_reads) == 2  # one query for the nodes of each proof, never a scan of the leaves
    assert not any("ledger_leaves" in s and "leaf_index =" not in s for s in inclusion_statements)


def test_roots_match_a_from_scratch_computation(db: Session) -> None:
    org = new_id("org")
    datas = []
    for index in range(37):
        ledger.append(db, organization_id=org, event_type="t", passport_id=None, data={"i": index})
        datas.append(bytes(db.get(LedgerLeaf, (org, index)).leaf_data))  # type: ignore[union-attr]
    reference = ReferenceTree([leaf_hash(data) for data in datas])
    for size in range(1, 38):
        assert ledger.root_hash(db, org, size) == reference.mth(0, size)
    assert ledger.root_hash(db, org, 0) == hashlib.sha256(b"").digest()  # the RFC's empty tree


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


def _rewrite_history(db: Session, org: str, values: list[int]) -> None:
    """What an attacker with database access but without the server secret can do: replace the whole ledger with a
    fully consistent one (hashes, chain, subtree nodes, head all recomputed)."""
    for table in (LedgerLeaf, LedgerNode, LedgerHead):
        db.execute(delete(table).where(table.organization_id == org))
    for value in values:
        ledger.append(db, organization_id=org, event_type="t", passport_id=None, data={"i": value})


def test_check_compares_the_recomputed_tree_with_every_signed_checkpoint(db: Session) -> None:
    org, secret = new_id("org"), "server-secret"
    for index in range(6):
        ledger.append(db, organization_id=org, event_type="t", passport_id=None, data={"i": index})
    first = ledger.issue_checkpoint(db, organization_id=org, server_secret=secret)
    assert ledger.issue_checkpoint(db, organization_id=org, server_secret=secret) == first  # kept once per size
    for index in range(6, 9):
        ledger.append(db, organization_id=org, event_type="t", passport_id=None, data={"i": index})
    ledger.issue_checkpoint(db, organization_id=org, server_secret=secret)
    stored = db.execute(select(LedgerCheckpoint.tree_size).where(LedgerCheckpoint.organization_id == org)
                        .order_by(LedgerCheckpoint.tree_size)).scalars().all()
    assert stored == [6, 9]
    assert checks.run_checks(db, organization_id=org, server_secret=secret) == []

    _rewrite_history(db, org, [0, 1, 99, 3, 4, 5, 6, 7, 8])  # leaf 2 changed, everything else recomputed to match
    problems = checks.run_checks(db, organization_id=org, server_secret=secret)
    assert problems == [f"ledger {org}: tree of size 6 recomputed from the leaves differs from its signed checkpoint",
                        f"ledger {org}: tree of size 9 recomputed from the leaves differs from its signed checkpoint"]


def test_check_catches_a_truncated_ledger_and_a_forged_checkpoint(db: Session) -> None:
    org, secret = new_id("org"), "server-secret"
    for index in range(5):
        ledger.append(db, organization_id=org, event_type="t", passport_id=None, data={"i": index})
    ledger.issue_checkpoint(db, organization_id=org, server_secret=secret)
    _rewrite_history(db, org, [0, 1, 2, 3])  # the last entry dropped (say, an inconvenient transfer)
    problems = checks.run_checks(db, organization_id=org, server_secret=secret)
    assert problems == [f"ledger {org}: a checkpoint of size 5 was signed but the ledger has 4 leaves "
                        f"(history truncated)"]
    org = new_id("org")
    for index in range(5):
        ledger.append(db, organization_id=org, event_type="t", passport_id=None, data={"i": index})
    ledger.issue_checkpoint(db, organization_id=org, server_secret=secret)
    assert checks.run_checks(db, organization_id=org, server_secret=secret) == []
    db.execute(update(LedgerCheckpoint).where(LedgerCheckpoint.organization_id == org)
               .values(signature=bytes(64)))
    problems = checks.run_checks(db, organization_id=org, server_secret=secret)
    assert problems == [f"ledger {org}: stored checkpoint of size 5 has a bad signature"]


def test_out_of_range_proof_requests_are_422(db: Session) -> None:
    org = new_id("org")
    ledger.append(db, organization_id=org, event_type="t", passport_id=None, data={})
    for call in (lambda: ledger.inclusion(db, organization_id=org, leaf_index=1, size=None),
                 lambda: ledger.inclusion(db, organization_id=org, leaf_index=0, size=2),
                 lambda: ledger.consistency(db, organization_id=org, first=2, second=None)):
        with pytest.raises(ValidationFailed):
            call()
