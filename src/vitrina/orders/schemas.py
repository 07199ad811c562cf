"""JSON shapes of orders: WJ Partners' create body as its seed documents it, and Vitrina's order resource."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AliasChoices, BaseModel, BeforeValidator, Field, field_validator, model_validator

from vitrina.core.money import to_str
from vitrina.core.schemas import RequestModel
from vitrina.orders import lifecycle
from vitrina.orders.models import Order, OrderItem, OrderStatusChange


def _number_as_text(value: Any) -> Any:
    """WJ sends some text fields as numbers (``"phone": 34124``, integer ids): keep them as text."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


def _as_list(value: Any) -> Any:
    """WJ sends ``items`` as one object; a list of them is accepted too."""
    return [value] if isinstance(value, dict) else value


Text = Annotated[str, BeforeValidator(_number_as_text)]
Address = dict[str, Any] | str
Size = Annotated[int | float | str, Field(description="Ring shank size or chain length, as the product defines.")]


class OrderItemIn(RequestModel):
    qty: int = Field(default=1, ge=1, le=1000, validation_alias=AliasChoices("qty", "quantity"))
    vendor_model: str | None = Field(default=None, min_length=1, max_length=100,
                                     validation_alias=AliasChoices("vendor_model", "vendorModel"),
                                     description="Required unless `configuration_id` names a stored one.")
    configuration: dict[str, Any] | None = Field(
        default=None, description="The chosen options, in the catalog's configuration shape (API.md §4). A "
                                  "configurable product requires it (422 at `$.items[i].configuration`); a simple "
                                  "product needs none.")
    configuration_id: str | None = Field(
        default=None, min_length=1, max_length=200,
        validation_alias=AliasChoices("configuration_id", "configurationId", "ci"),
        description="A configuration priced earlier (`ci`); used when `configuration` is absent.")
    size: Size | None = None

    @model_validator(mode="after")
    def _product_given(self) -> OrderItemIn:
        # Whether a configuration is needed is the catalog's call (it knows if the product is configurable).
        if self.vendor_model is None and self.configuration_id is None:
            raise ValueError("give `vendor_model` (with its `configuration`) or a `configuration_id`")
        return self


class OrderCreate(RequestModel):
    """WJ Partners' "Create Single Order, Customer, Order Product" body."""

    external_order_id: Text | None = Field(default=None, min_length=1, max_length=100,
                                           validation_alias=AliasChoices("external_order_id", "externalOrderId"),
                                           description="Your own order id (e.g. Magento's); unique.")
    order_date: datetime | None = Field(default=None, description="Unix seconds (WJ) or RFC 3339; default now.")
    customer_id: Text | None = Field(
        default=None, max_length=100,
        description="A `cus_` id, or your own customer reference (matched against customers' external_id; "
                    "a new customer with the `customer_*` fields is created when none matches).")
    customer_email: str | None = Field(default=None, max_length=254)
    customer_phone: Text | None = Field(default=None, max_length=50)
    customer_name: Text | None = Field(default=None, max_length=200)
    shipping_address: Address | None = None
    billing_address: Address | None = None
    currency: int | str | None = Field(
        default=None, description="ISO 4217 code, or the number from the `currency` directory (WJ sends 1).")
    payment_status: int = Field(default=1, ge=0, le=3, description="0 Canceled, 1 Waiting, 2 Process, 3 Payed.")
    pay_method: int = Field(default=0, ge=0, le=3, description="0 N/A, 1 PAYPAL, 2 VISA, 3 MASTERCARD.")
    order_type: int = Field(default=1, ge=1, le=99, description="1 Default Order.")
    order_purpose: int = Field(default=1, ge=1, le=99, description="1 Original.")
    order_status: int = Field(default=1, description="1 Created or 2 Confirmed (WJ's documented 3 for "
                                                     "'confirmed' is accepted and means 2).")
    items: Annotated[list[OrderItemIn], BeforeValidator(_as_list)] = Field(
        min_length=1, max_length=100, description="One item object, or a list of them (1 to 100).")
    comment: str | None = Field(default=None, max_length=10_000)
    message: str | None = Field(default=None, max_length=10_000)
    transaction_id: Text | None = Field(default=None, max_length=100, description="The payment's reference.")

    @field_validator("order_status")
    @classmethod
    def _initial_status(cls, value: int) -> int:
        if lifecycle.initial_status(value) is None:
            raise ValueError("a new order is 1 (Created) or 2 (Confirmed)")
        return value

    @model_validator(mode="after")
    def _customer_given(self) -> OrderCreate:
        if not (self.customer_id or self.customer_email or self.customer_name or self.customer_phone):
            raise ValueError("give `customer_id` or the customer's name, email or phone")
        return self


class OrderUpdate(RequestModel):
    """At least one field (422 otherwise, once the order is found: an unknown order is 404 whatever the body)."""

    order_status: int | None = Field(default=None, ge=0, le=9,
                                     validation_alias=AliasChoices("order_status", "status", "orderStatus"),
                                     description="Along the legal path only (409 INVALID_TRANSITION).")
    tracking_number: Text | None = Field(default=None, max_length=100,
                                         validation_alias=AliasChoices("tracking_number", "trackingNumber"))
    payment_status: int | None = Field(default=None, ge=0, le=3,
                                       validation_alias=AliasChoices("payment_status", "paymentStatus"))
    comment: str | None = Field(default=None, max_length=10_000,
                                description="Kept on the order, and on the history entry of a status change.")


class OrderReceive(RequestModel):
    location_id: str = Field(min_length=1, max_length=32,
                             validation_alias=AliasChoices("location_id", "locationId"))
    room_type: str | None = Field(default=None, max_length=32,
                                  validation_alias=AliasChoices("room_type", "roomType"),
                                  description="Defaults to the inventory's default room.")


class OrderCustomerOut(BaseModel):
    id: str | None
    name: str | None
    email: str | None
    phone: str | None


class OrderItemOut(BaseModel):
    id: int
    position: int
    qty: int
    vendor_model: str
    product_id: str | None
    configuration_id: str
    configuration: dict[str, Any] | None
    size: int | float | str | None
    title: str | None
    description: str | None
    unit_price: str = Field(description="Retail per piece at order time.")
    amount: str = Field(description="unit_price * qty.")
    currency: str
    breakdown: Any = Field(description="The catalog's price breakdown at order time.")
    inventory_ids: list[str] = Field(description="The serialized items made when the order was received.")

    @classmethod
    def of(cls, item: OrderItem) -> OrderItemOut:
        return cls(id=item.id, position=item.position, qty=item.qty, vendor_model=item.vendor_model,
                   product_id=item.product_id, configuration_id=item.configuration_id,
                   configuration=item.configuration, size=item.size, title=item.title,
                   description=item.description, unit_price=to_str(item.unit_price, item.currency) or "0",
                   amount=to_str(item.amount, item.currency) or "0", currency=item.currency,
                   breakdown=item.breakdown, inventory_ids=list(item.inventory_ids or []))


class StatusChangeOut(BaseModel):
    from_status: int | None
    to_status: int
    status_name: str
    actor: str | None
    comment: str | None
    created_at: datetime

    @classmethod
    def of(cls, change: OrderStatusChange) -> StatusChangeOut:
        return cls(from_status=change.from_status, to_status=change.to_status,
                   status_name=lifecycle.ORDER_STATUSES[change.to_status], actor=change.actor,
                   comment=change.comment, created_at=change.created_at)


class OrderOut(BaseModel):
    id: str
    external_order_id: str | None
    order_date: datetime
    order_status: int
    order_status_name: str
    allowed_next_statuses: list[int]
    order_type: int
    order_purpose: int
    payment_status: int
    payment_status_name: str
    pay_method: int
    pay_method_name: str
    currency: str
    customer_id: str | None
    customer: OrderCustomerOut
    shipping_address: Address | None
    billing_address: Address | None
    tracking_number: str | None
    transaction_id: str | None
    comment: str | None
    message: str | None
    subtotal: str
    total: str
    items: list[OrderItemOut]
    status_history: list[StatusChangeOut]
    received_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, order: Order) -> OrderOut:
        return cls(
            id=order.id, external_order_id=order.external_order_id, order_date=order.order_date,
            order_status=order.status, order_status_name=lifecycle.ORDER_STATUSES[order.status],
            allowed_next_statuses=lifecycle.allowed_next(order.status), order_type=order.order_type,
            order_purpose=order.order_purpose, payment_status=order.payment_status,
            payment_status_name=lifecycle.PAYMENT_STATUSES[order.payment_status], pay_method=order.pay_method,
            pay_method_name=lifecycle.PAY_METHODS[order.pay_method], currency=order.currency,
            customer_id=order.customer_id,
            customer=OrderCustomerOut(id=order.customer_id, name=order.customer_name, email=order.customer_email,
                                      phone=order.customer_phone),
            shipping_address=order.shipping_address, billing_address=order.billing_address,
            tracking_number=order.tracking_number, transaction_id=order.transaction_id, comment=order.comment,
            message=order.message, subtotal=to_str(order.subtotal, order.currency) or "0",
            total=to_str(order.total, order.currency) or "0", items=[OrderItemOut.of(i) for i in order.items],
            status_history=[StatusChangeOut.of(c) for c in order.history], received_at=order.received_at,
            created_at=order.created_at, updated_at=order.updated_at, version=order.version,
        )


class OrderReceivedOut(BaseModel):
    order: OrderOut
    inventory_ids: list[str] = Field(description="The serialized items made, one per unit, in item order.")
