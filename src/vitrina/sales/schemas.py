"""JSON shapes of customers and sales transactions (the only place that knows their JSON names)."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, BeforeValidator, Field, field_validator

from vitrina.core.money import is_currency, to_decimal, to_str
from vitrina.core.schemas import RequestModel
from vitrina.sales.models import Customer, SalesTransaction, TransactionLine

# Amounts arrive as strings or numbers; parsing through ``to_decimal`` keeps 0.1 exact and refuses NaN.
MoneyIn = Annotated[Decimal, BeforeValidator(to_decimal), Field(ge=0, le=Decimal("999999999999"))]
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

Address = dict[str, Any] | str


def _check_email(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if not _EMAIL.match(value):
        raise ValueError("must be an email address such as 'name@example.com'")
    return value.lower()


def check_currency(value: str | None) -> str | None:
    if value is None:
        return None
    code = value.upper()
    if not is_currency(code):
        raise ValueError("must be an ISO 4217 currency code such as 'USD'")
    return code


def address_values(addresses: list[Address] | None) -> list[dict[str, Any]]:
    """Addresses as stored: structured; a one-line string is kept under ``line1``."""
    return [a if isinstance(a, dict) else {"line1": a} for a in addresses or []]


# --- customers ---------------------------------------------------------------------------------------------

class CustomerCreate(RequestModel):
    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=50)
    addresses: list[Address] = Field(default_factory=list, max_length=20,
                                     description="Structured objects, or one-line strings (kept as `line1`).")
    tier_id: str | None = Field(default=None, max_length=32, validation_alias=AliasChoices("tier_id", "tierId"),
                                description="Pricing tier: sales to this customer default to the tier's prices.")
    notes: str | None = Field(default=None, max_length=10_000)
    external_id: str | None = Field(default=None, min_length=1, max_length=100,
                                    validation_alias=AliasChoices("external_id", "externalId"),
                                    description="Your own reference (a POS or web-shop id); unique.")

    _email = field_validator("email")(_check_email)


class CustomerUpdate(RequestModel):
    """Only the fields sent change; send `tier_id: null` to remove a tier."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=50)
    addresses: list[Address] | None = Field(default=None, max_length=20)
    tier_id: str | None = Field(default=None, max_length=32, validation_alias=AliasChoices("tier_id", "tierId"))
    notes: str | None = Field(default=None, max_length=10_000)
    external_id: str | None = Field(default=None, min_length=1, max_length=100,
                                    validation_alias=AliasChoices("external_id", "externalId"))

    _email = field_validator("email")(_check_email)

    @field_validator("name")
    @classmethod
    def _name_kept(cls, value: str | None) -> str:
        if value is None:
            raise ValueError("a customer keeps a name")
        return value

    def changes(self) -> dict[str, Any]:
        changes = self.model_dump(exclude_unset=True)
        if "addresses" in changes:
            changes["addresses"] = address_values(self.addresses)
        return changes


class CustomerOut(BaseModel):
    id: str
    external_id: str | None
    name: str | None
    email: str | None
    phone: str | None
    addresses: list[dict[str, Any]]
    tier_id: str | None
    notes: str | None
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, customer: Customer) -> CustomerOut:
        return cls(id=customer.id, external_id=customer.external_id, name=customer.name, email=customer.email,
                   phone=customer.phone, addresses=list(customer.addresses or []), tier_id=customer.tier_id,
                   notes=customer.notes, created_at=customer.created_at, updated_at=customer.updated_at,
                   version=customer.version)


# --- transactions ------------------------------------------------------------------------------------------

class TransactionLineIn(RequestModel):
    inventory_id: str = Field(min_length=1, max_length=100,
                              validation_alias=AliasChoices("inventory_id", "inventoryId", "item_id", "itemId"),
                              description="The item's id or its external_id.")
    quantity: int = Field(default=1, ge=1, le=1_000_000)
    unit_price: MoneyIn | None = Field(
        default=None, validation_alias=AliasChoices("unit_price", "unitPrice", "price"),
        description="Defaults to the customer's tier price for the item's product, else the item's price "
                    "(zero, marked `unpriced`, for an item without one); for a return, to the price paid on the "
                    "sale line.")
    sale_line_id: int | None = Field(
        default=None, ge=1, validation_alias=AliasChoices("sale_line_id", "saleLineId"),
        description="Return only: the sale line this returns. Without it the most recent sale line of the "
                    "item with units left to return is used.")


class TransactionCreate(RequestModel):
    type: Literal["sale", "return"]
    customer_id: str | None = Field(default=None, max_length=100,
                                    validation_alias=AliasChoices("customer_id", "customerId"))
    location_id: str | None = Field(
        default=None, max_length=32, validation_alias=AliasChoices("location_id", "locationId"),
        description="Where the sale or return happened; defaults to the first line's item location.")
    lines: list[TransactionLineIn] = Field(min_length=1, max_length=500)
    currency: str | None = Field(default=None, examples=["USD"],
                                 description="ISO 4217; defaults to the items' currency. Every line must be in "
                                             "it (422 CURRENCY_MISMATCH).")
    payment_method: str | None = Field(default=None, max_length=40, examples=["card"],
                                       validation_alias=AliasChoices("payment_method", "paymentMethod"))
    reference: str | None = Field(default=None, max_length=255)
    original_transaction_id: str | None = Field(
        default=None, max_length=32,
        validation_alias=AliasChoices("original_transaction_id", "originalTransactionId"),
        description="Return only: look for the sale lines in this sale.")

    _currency = field_validator("currency")(check_currency)


class TransactionLineOut(BaseModel):
    id: int
    line_no: int
    inventory_id: str
    sku: str | None
    name: str | None
    quantity: int
    unit_price: str
    amount: str
    price_source: str = Field(description="Where unit_price came from: `request`, `tier`, `item`, the `sale` "
                                          "line a return refunds, or `unpriced` (an item without a price, sold "
                                          "without one, is recorded at zero).")
    movement_id: str | None
    sale_line_id: int | None
    returned_quantity: int

    @classmethod
    def of(cls, line: TransactionLine, currency: str) -> TransactionLineOut:
        return cls(id=line.id, line_no=line.line_no, inventory_id=line.inventory_id, sku=line.sku, name=line.name,
                   quantity=line.quantity, unit_price=to_str(line.unit_price, currency) or "0",
                   amount=to_str(line.amount, currency) or "0", price_source=line.price_source,
                   movement_id=line.movement_id, sale_line_id=line.sale_line_id,
                   returned_quantity=line.returned_quantity)


class TransactionCustomerOut(BaseModel):
    id: str
    name: str | None
    anonymized: bool = Field(description="The customer was deleted; their personal fields are erased.")

    @classmethod
    def of(cls, customer: Customer) -> TransactionCustomerOut:
        return cls(id=customer.id, name=customer.name, anonymized=customer.anonymized_at is not None)


class TransactionOut(BaseModel):
    id: str
    type: str = Field(description="`sale` or `return`.")
    status: Literal["completed"] = "completed"
    customer_id: str | None
    customer: TransactionCustomerOut | None
    location_id: str | None
    currency: str
    payment_method: str | None
    reference: str | None
    line_count: int
    unit_count: int
    subtotal: str = Field(description="Sum of the lines, tax-free.")
    total: str
    actor: str | None
    created_at: datetime
    lines: list[TransactionLineOut]

    @classmethod
    def of(cls, txn: SalesTransaction, customer: Customer | None = None) -> TransactionOut:
        currency = txn.currency
        return cls(id=txn.id, type=txn.type, customer_id=txn.customer_id,
                   customer=TransactionCustomerOut.of(customer) if customer else None,
                   location_id=txn.location_id, currency=currency, payment_method=txn.payment_method,
                   reference=txn.reference, line_count=txn.line_count, unit_count=txn.unit_count,
                   subtotal=to_str(txn.subtotal, currency) or "0", total=to_str(txn.total, currency) or "0",
                   actor=txn.actor, created_at=txn.created_at,
                   lines=[TransactionLineOut.of(line, currency) for line in txn.lines])
