"""Invariants of sales (``vitrina check``): each transaction adds up, and returns never exceed their sales."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vitrina.sales.models import SalesTransaction, TransactionLine

_BATCH = 1000


def run_checks(session: Session) -> list[str]:
    return _totals(session) + _returns(session)


def _totals(session: Session) -> list[str]:
    """subtotal == total == Σ line amounts, and the counts match the lines (amounts summed exactly, in Python:
    SQLite stores them as text)."""
    sums: dict[str, Decimal] = defaultdict(Decimal)
    counts: dict[str, tuple[int, int]] = {}
    rows = session.execute(select(TransactionLine.transaction_id, TransactionLine.amount, TransactionLine.quantity)
                           .execution_options(yield_per=_BATCH))
    for transaction_id, amount, quantity in rows:
        sums[transaction_id] += amount
        lines, units = counts.get(transaction_id, (0, 0))
        counts[transaction_id] = (lines + 1, units + quantity)
    problems = []
    for txn in session.scalars(select(SalesTransaction).execution_options(yield_per=_BATCH)):
        expected = sums.get(txn.id, Decimal(0))
        if txn.subtotal != expected or txn.total != expected:
            problems.append(f"transaction {txn.id}: total {txn.total} / subtotal {txn.subtotal} but lines sum "
                            f"to {expected}")
        if (txn.line_count, txn.unit_count) != counts.get(txn.id, (0, 0)):
            problems.append(f"transaction {txn.id}: counts {txn.line_count}/{txn.unit_count} do not match its lines")
    return problems


def _returns(session: Session) -> list[str]:
    """A sale line's returned_quantity is the sum of the return lines against it, and at most what was sold."""
    returned = dict(session.execute(
        select(TransactionLine.sale_line_id, func.sum(TransactionLine.quantity))
        .where(TransactionLine.sale_line_id.is_not(None)).group_by(TransactionLine.sale_line_id)).tuples().all())
    problems = []
    rows = session.execute(select(TransactionLine.id, TransactionLine.quantity, TransactionLine.returned_quantity)
                           .where((TransactionLine.returned_quantity != 0) | TransactionLine.id.in_(returned))
                           if returned else
                           select(TransactionLine.id, TransactionLine.quantity, TransactionLine.returned_quantity)
                           .where(TransactionLine.returned_quantity != 0))
    for line_id, quantity, returned_quantity in rows:
        if returned_quantity != int(returned.get(line_id, 0) or 0):
            problems.append(f"sale line {line_id}: returned_quantity {returned_quantity} but return lines sum to "
                            f"{returned.get(line_id, 0)}")
        if returned_quantity > quantity:
            problems.append(f"sale line {line_id}: {returned_quantity} returned of {quantity} sold")
    return problems
