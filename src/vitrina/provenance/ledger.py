"""The append-only, verifiable ledger: one RFC 9162 Merkle tree per organization.

Appending locks the organization's head row (``SELECT ... FOR UPDATE``; SQLite writers already hold the database
write lock), writes the leaf and the subtree nodes it completes, and advances the size. Checkpoints are signed
on demand with the organization's Ed25519 key over the C2SP tlog-checkpoint text; the signature is
deterministic (Ed25519), so the same tree size always yields the same checkpoint.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from vitrina.core.errors import ValidationFailed
from vitrina.core.time import to_rfc3339, utcnow
from vitrina.provenance import crypto, merkle
from vitrina.provenance.models import LedgerCheckpoint, LedgerHead, LedgerLeaf, LedgerNode

ORIGIN_PREFIX = "vitrina/"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def canonical_json(value: dict[str, Any]) -> bytes:
    """Sorted keys, no whitespace, UTF-8: the exact leaf bytes (values are strings, integers and nulls only)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


@dataclass(frozen=True, slots=True)
class Appended:
    leaf_index: int
    leaf_hash: bytes


def _lock_head(session: Session, organization_id: str) -> LedgerHead:
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(LedgerHead).values(organization_id=organization_id, tree_size=0, updated_at=utcnow())
                    .on_conflict_do_nothing(index_elements=["organization_id"]))
    head = session.execute(select(LedgerHead).where(LedgerHead.organization_id == organization_id)
                           .with_for_update().execution_options(populate_existing=True)).scalar_one()
    return head


def append(session: Session, *, organization_id: str, event_type: str, passport_id: str | None,
           data: dict[str, Any], at: datetime | None = None) -> Appended:
    """Add one leaf. Its data names the previous leaf's hash, so the entries also form a hash chain."""
    head = _lock_head(session, organization_id)
    index = head.tree_size
    moment = at or utcnow()
    entry = {"v": 1, "organization_id": organization_id, "leaf_index": index, "type": event_type,
             "passport_id": passport_id, "at": to_rfc3339(moment), "prev": head.last_leaf_hash, "data": data}
    leaf_data = canonical_json(entry)
    leaf = merkle.leaf_hash(leaf_data)
    session.add(LedgerLeaf(organization_id=organization_id, leaf_index=index, passport_id=passport_id,
                           event_type=event_type, leaf_data=leaf_data, leaf_hash=leaf, created_at=moment))
    get = _node_getter(session, organization_id,
                       merkle.needed_nodes(lambda g: merkle.parents_after_append(g, index, leaf)))
    for level, node_index, value in merkle.parents_after_append(get, index, leaf):
        session.add(LedgerNode(organization_id=organization_id, level=level, node_index=node_index, hash=value))
    head.tree_size = index + 1
    head.last_leaf_hash = b64(leaf)
    head.updated_at = moment
    session.flush()
    return Appended(leaf_index=index, leaf_hash=leaf)


def _node_getter(session: Session, organization_id: str, keys: set[tuple[int, int]]) -> merkle.Getter:
    """Fetch ``keys`` in one query and serve them; the getter raises on anything it was not told about."""
    found: dict[tuple[int, int], bytes] = {}
    wanted = sorted(keys)
    for chunk_start in range(0, len(wanted), 500):
        chunk = wanted[chunk_start:chunk_start + 500]
        rows = session.execute(
            select(LedgerNode.level, LedgerNode.node_index, LedgerNode.hash).where(
                LedgerNode.organization_id == organization_id,
                tuple_(LedgerNode.level, LedgerNode.node_index).in_(chunk)))
        found.update({(level, index): bytes(value) for level, index, value in rows})

    def get(level: int, index: int) -> bytes:
        return found[(level, index)]

    return get


def _run(session: Session, organization_id: str, compute: Any) -> Any:
    keys = merkle.needed_nodes(compute)
    return compute(_node_getter(session, organization_id, keys))


def tree_size(session: Session, organization_id: str) -> int:
    size = session.execute(select(LedgerHead.tree_size)
                           .where(LedgerHead.organization_id == organization_id)).scalar_one_or_none()
    return size or 0


def root_hash(session: Session, organization_id: str, size: int) -> bytes:
    return bytes(_run(session, organization_id, lambda g: merkle.root(g, size)))


def _checked_size(value: int | None, current: int, name: str) -> int:
    if value is None:
        return current
    if value < 1 or value > current:
        raise ValidationFailed.field(f"$.{name}", f"must be between 1 and the ledger size ({current})")
    return value


def checkpoint_text(organization_id: str, size: int, root: bytes) -> str:
    """The C2SP tlog-checkpoint body the signature covers."""
    return f"{ORIGIN_PREFIX}{organization_id}\n{size}\n{b64(root)}\n"


def checkpoint(session: Session, *, organization_id: str, server_secret: str) -> dict[str, Any]:
    """The signed checkpoint of the current tree (read only; ``issue_checkpoint`` also keeps it)."""
    return _signed_checkpoint(session, organization_id, server_secret)[0]


def _signed_checkpoint(session: Session, organization_id: str, server_secret: str) -> tuple[dict[str, Any], datetime]:
    size = tree_size(session, organization_id)
    root = root_hash(session, organization_id, size)
    text = checkpoint_text(organization_id, size, root)
    key = crypto.ledger_signing_key(server_secret, organization_id)
    last = session.execute(select(LedgerLeaf.created_at).where(
        LedgerLeaf.organization_id == organization_id, LedgerLeaf.leaf_index == size - 1)).scalar_one_or_none()
    moment = last or utcnow()
    return {"tree_size": size, "root_hash": b64(root), "timestamp": to_rfc3339(moment),
            "checkpoint": text, "signature": b64(key.sign(text.encode("utf-8"))),
            "key_id": crypto.key_id(crypto.raw_public_key(key))}, moment


def issue_checkpoint(session: Session, *, organization_id: str, server_secret: str) -> dict[str, Any]:
    """The signed checkpoint of the current tree, recorded (once per tree size) so ``vitrina check`` can later
    prove that the tree recomputed from the leaves still has the root that was signed and handed out."""
    signed, moment = _signed_checkpoint(session, organization_id, server_secret)
    if signed["tree_size"] == 0:
        return signed  # the empty tree commits to nothing worth keeping
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(LedgerCheckpoint).values(
        organization_id=organization_id, tree_size=signed["tree_size"],
        root_hash=base64.b64decode(signed["root_hash"]), signature=base64.b64decode(signed["signature"]),
        key_id=signed["key_id"], timestamp=moment, issued_at=utcnow(),
    ).on_conflict_do_nothing(index_elements=["organization_id", "tree_size"]))
    return signed


def inclusion(session: Session, *, organization_id: str, leaf_index: int, size: int | None) -> dict[str, Any]:
    current = tree_size(session, organization_id)
    resolved = _checked_size(size, current, "tree_size")
    if leaf_index < 0 or leaf_index >= resolved:
        raise ValidationFailed.field("$.leaf_index", f"must be below tree_size ({resolved})")
    leaf = session.execute(select(LedgerLeaf).where(LedgerLeaf.organization_id == organization_id,
                                                    LedgerLeaf.leaf_index == leaf_index)).scalar_one()

    def compute(g: merkle.Getter) -> tuple[list[bytes], bytes]:
        return merkle.inclusion_path(g, leaf_index, resolved), merkle.root(g, resolved)

    path, root = _run(session, organization_id, compute)
    return {"leaf_index": leaf_index, "tree_size": resolved, "leaf_data": b64(bytes(leaf.leaf_data)),
            "leaf_hash": b64(bytes(leaf.leaf_hash)), "audit_path": [b64(h) for h in path], "root_hash": b64(root)}


def consistency(session: Session, *, organization_id: str, first: int, second: int | None) -> dict[str, Any]:
    current = tree_size(session, organization_id)
    resolved = _checked_size(second, current, "second")
    if first < 1 or first > resolved:
        raise ValidationFailed.field("$.first", f"must be between 1 and second ({resolved})")

    def compute(g: merkle.Getter) -> tuple[list[bytes], bytes, bytes]:
        return merkle.consistency_proof(g, first, resolved), merkle.root(g, first), merkle.root(g, resolved)

    proof, first_root, second_root = _run(session, organization_id, compute)
    return {"first": first, "second": resolved, "proof": [b64(h) for h in proof],
            "first_root": b64(first_root), "second_root": b64(second_root)}


def public_keys(session: Session, *, server_secret: str, organization_id: str | None = None) -> list[dict[str, str]]:
    query = select(LedgerHead.organization_id).order_by(LedgerHead.organization_id)
    if organization_id is not None:
        query = query.where(LedgerHead.organization_id == organization_id)
    keys = []
    for org in session.execute(query).scalars():
        public = crypto.raw_public_key(crypto.ledger_signing_key(server_secret, org))
        keys.append({"key_id": crypto.key_id(public), "organization_id": org, "algorithm": "Ed25519",
                     "public_key": b64(public), "origin": f"{ORIGIN_PREFIX}{org}"})
    return keys
