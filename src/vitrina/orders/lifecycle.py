"""The order state machine (API.md §6) and WJ Partners' enumerations. Pure: no database, no HTTP.

Statuses move one step at a time along 1 Created → 2 Confirmed → … → 9 Finished; an order may be
canceled (0) only before production starts (from 1-4). 0 and 9 are final.
"""

from __future__ import annotations

CANCELED, CREATED, CONFIRMED, DELIVERED, FINISHED = 0, 1, 2, 8, 9

ORDER_STATUSES: dict[int, str] = {
    0: "Canceled", 1: "Created", 2: "Confirmed", 3: "Ready for production", 4: "Approved by vendor",
    5: "Production", 6: "Ready to ship", 7: "Delivery", 8: "Delivered", 9: "Finished",
}
PAYMENT_STATUSES: dict[int, str] = {0: "Canceled", 1: "Waiting", 2: "Process", 3: "Payed"}
PAY_METHODS: dict[int, str] = {0: "N/A", 1: "PAYPAL", 2: "VISA", 3: "MASTERCARD"}

CANCELABLE = frozenset({1, 2, 3, 4})
# WJ's create call documents "Set 3 as Confirmed Order" next to an enumeration whose Confirmed is 2; its
# "Full Order Data" example sends 3. Both mean "confirmed", which is status 2 here.
INITIAL_STATUSES: dict[int, int] = {CREATED: CREATED, CONFIRMED: CONFIRMED, 3: CONFIRMED}
# A finished piece can be received into stock once it has reached the store.
RECEIVABLE = frozenset({DELIVERED, FINISHED})


def allowed_next(status: int) -> list[int]:
    """The statuses an order in ``status`` may move to, the forward step first."""
    allowed = [status + 1] if CREATED <= status < FINISHED else []
    if status in CANCELABLE:
        allowed.append(CANCELED)
    return allowed


def can_move(current: int, target: int) -> bool:
    return target in allowed_next(current)


def initial_status(requested: int) -> int | None:
    """The status a new order starts in for a requested ``order_status``, or None when it may not."""
    return INITIAL_STATUSES.get(requested)
