"""Ledger invariants for ``vitrina check``: every organization's Merkle ledger is recomputed from its leaves.

- leaves are numbered 0..n-1 with no gap, n being the head's tree size;
- each stored leaf hash is SHA-256(0x00 || leaf_data), and each leaf's data names its index and the previous
  leaf's hash (the hash chain);
- the root recomputed from the leaves alone equals the root served from the stored subtree nodes, and the
  checkpoint signature verifies with the published key;
- every checkpoint handed out (``ledger_checkpoints``) still holds: the root recomputed from the first
  ``tree_size`` leaves equals its signed root, its signature verifies, and the ledger has not shrunk below it;
- each passport's ``ledger`` pointer names one of its own leaves with the same hash.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from vitrina.provenance import crypto, ledger, merkle, service
from vitrina.provenance.models import LedgerCheckpoint, LedgerHead, LedgerLeaf, Passport

MAX_REPORTED = 1000


def run_checks(session: Session, *, organization_id: str | None = None,
               server_secret: str | None = None) -> list[str]:
    """One line per violation (all organizations unless one is named)."""
    query = select(LedgerHead).order_by(LedgerHead.organization_id)
    if organization_id is not None:
        query = query.where(LedgerHead.organization_id == organization_id)
    violations: list[str] = []
    for head in session.execute(query).scalars().all():
        for line in _check_org(session, head, server_secret):
            if len(violations) >= MAX_REPORTED:
                return [*violations, "... more violations not shown"]
            violations.append(line)
    return violations


class _Frontier:
    """Roots of the perfect subtrees of the leaves seen so far (an RFC 9162 compact range): O(log n) memory."""

    def __init__(self) -> None:
        self.stack: list[tuple[int, bytes]] = []  # (size, hash), sizes strictly decreasing

    def push(self, leaf: bytes) -> None:
        size, value = 1, leaf
        while self.stack and self.stack[-1][0] == size:
            left_size, left = self.stack.pop()
            size, value = left_size + size, merkle.node_hash(left, value)
        self.stack.append((size, value))

    def root(self) -> bytes:
        if not self.stack:
            return merkle.EMPTY_ROOT
        value = self.stack[-1][1]
        for _, left in reversed(self.stack[:-1]):
            value = merkle.node_hash(left, value)
        return value


class _Checkpoints:
    """The organization's issued checkpoints, compared with the recomputed tree as the leaves stream past."""

    def __init__(self, session: Session, org: str, server_secret: str | None) -> None:
        self.org = org
        self.pending = list(session.execute(
            select(LedgerCheckpoint.tree_size, LedgerCheckpoint.root_hash, LedgerCheckpoint.signature,
                   LedgerCheckpoint.key_id).where(LedgerCheckpoint.organization_id == org)
            .order_by(LedgerCheckpoint.tree_size.desc())))  # popped from the end: smallest first
        self.public_key = (crypto.raw_public_key(crypto.ledger_signing_key(server_secret, org))
                           if server_secret else None)

    def at(self, size: int, frontier: _Frontier) -> Iterable[str]:
        while self.pending and self.pending[-1][0] <= size:
            checkpoint_size, root, signature, key_id = self.pending.pop()
            if checkpoint_size != size:
                continue  # sizes below 1 cannot be checkpointed; nothing else is skipped
            if not hmac.compare_digest(frontier.root(), bytes(root)):
                yield f"ledger {self.org}: tree of size {size} recomputed from the leaves differs from its signed " \
                      f"checkpoint"
            if self.public_key is not None and key_id == crypto.key_id(self.public_key):
                text = ledger.checkpoint_text(self.org, size, bytes(root)).encode()
                if not crypto.ed25519_verify(self.public_key, bytes(signature), text):
                    yield f"ledger {self.org}: stored checkpoint of size {size} has a bad signature"

    def beyond(self, size: int) -> Iterable[str]:
        for checkpoint_size, *_ in self.pending:
            yield f"ledger {self.org}: a checkpoint of size {checkpoint_size} was signed but the ledger has {size} " \
                  f"leaves (history truncated)"


def _check_org(session: Session, head: LedgerHead, server_secret: str | None) -> Iterable[str]:
    org = head.organization_id
    frontier = _Frontier()
    expected_index, previous = 0, None
    secret = service.resolve_secret(server_secret)
    checkpoints = _Checkpoints(session, org, secret)
    leaves = session.execute(select(LedgerLeaf.leaf_index, LedgerLeaf.leaf_data, LedgerLeaf.leaf_hash)
                             .where(LedgerLeaf.organization_id == org).order_by(LedgerLeaf.leaf_index)
                             .execution_options(yield_per=1000))
    for index, data, stored in leaves:
        raw, stored = bytes(data), bytes(stored)
        if index != expected_index:
            yield f"ledger {org}: leaf {expected_index} missing (next is {index})"
            return
        computed = merkle.leaf_hash(raw)
        if not hmac.compare_digest(computed, stored):
            yield f"ledger {org}: leaf {index} hash does not match its data"
        try:
            entry = json.loads(raw)
        except ValueError:
            yield f"ledger {org}: leaf {index} data is not JSON"
            entry = {}
        if entry.get("leaf_index") != index or entry.get("prev") != previous:
            yield f"ledger {org}: leaf {index} does not chain to leaf {index - 1}"
        frontier.push(computed)
        previous, expected_index = ledger.b64(computed), expected_index + 1
        yield from checkpoints.at(expected_index, frontier)
    yield from checkpoints.beyond(expected_index)
    if expected_index != head.tree_size:
        yield f"ledger {org}: head says {head.tree_size} leaves, found {expected_index}"
        return
    if not hmac.compare_digest(frontier.root(), ledger.root_hash(session, org, head.tree_size)):
        yield f"ledger {org}: root recomputed from the leaves differs from the root of the stored subtrees"
    if secret:
        signed = ledger.checkpoint(session, organization_id=org, server_secret=secret)
        public = crypto.raw_public_key(crypto.ledger_signing_key(secret, org))
        if not crypto.ed25519_verify(public, ledger.base64.b64decode(signed["signature"]),
                                     signed["checkpoint"].encode()):
            yield f"ledger {org}: checkpoint signature does not verify"
    yield from _check_pointers(session, org)


def _check_pointers(session: Session, org: str) -> Iterable[str]:
    rows = session.execute(
        select(Passport.id, Passport.ledger_index, Passport.ledger_hash, LedgerLeaf.passport_id, LedgerLeaf.leaf_hash)
        .outerjoin(LedgerLeaf, (LedgerLeaf.organization_id == Passport.organization_id)
                   & (LedgerLeaf.leaf_index == Passport.ledger_index))
        .where(Passport.organization_id == org))
    for passport_id, index, pointer, owner, leaf in rows:
        if index is None:
            yield f"passport {passport_id}: no ledger entry"
        elif owner != passport_id or leaf is None or not hmac.compare_digest(ledger.b64(bytes(leaf)), pointer or ""):
            yield f"passport {passport_id}: ledger pointer {index} does not name its own leaf"
