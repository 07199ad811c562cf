"""Request and response bodies of API.md §7 (snake_case, with TAG IT's camelCase names accepted on input)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, Field, StringConstraints

from vitrina.core.schemas import RequestModel

Hex14 = Annotated[str, StringConstraints(pattern=r"^[0-9A-Fa-f]{14}$")]
Hex32 = Annotated[str, StringConstraints(pattern=r"^[0-9A-Fa-f]{32}$")]
Hex64 = Annotated[str, StringConstraints(pattern=r"^[0-9A-Fa-f]{64}$")]
Text = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\x00]*$")]
TagId = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[^\x00/?#\s]+$")]
Authenticity = Literal["confirmed", "unverified", "replayed", "invalid", "flagged", "unknown"]


def _names(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class SunKeys(RequestModel):
    uid: Hex14 = Field(description="The tag's 7-byte UID, 14 hex digits.")
    meta_read_key: Hex32 | None = Field(default=None, validation_alias=_names("meta_read_key", "metaReadKey"),
                                        description="K_SDMMetaRead; default: the organization's meta-read key.")
    file_read_key: Hex32 | None = Field(default=None, validation_alias=_names("file_read_key", "fileReadKey"),
                                        description="K_SDMFileRead; default: AN10922-diversified over the UID.")


class PassportCreate(RequestModel):
    tag_id: TagId = Field(validation_alias=_names("tag_id", "tagId"))
    product_name: Text = Field(validation_alias=_names("product_name", "productName"))
    brand: Text | None = None
    serial_number: Text | None = Field(default=None, validation_alias=_names("serial_number", "serialNumber"))
    category: Text | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    inventory_id: str | None = Field(default=None, max_length=100,
                                     validation_alias=_names("inventory_id", "inventoryId"),
                                     description="Link to a serialized inventory piece (id or external_id).")
    owner: Text | None = Field(default=None, description="Initial owner; default: the organization.")
    sun: SunKeys | None = Field(default=None, description="NTAG 424 DNA SUN configuration.")
    signature_public_key: Hex64 | None = Field(
        default=None, validation_alias=_names("signature_public_key", "signaturePublicKey"),
        description="Ed25519 public key (64 hex) for tags that sign `tag_id|timestamp`.")


class PassportLink(RequestModel):
    inventory_id: str = Field(min_length=1, max_length=100, validation_alias=_names("inventory_id", "inventoryId"))


class FlagIn(RequestModel):
    status: Literal["stolen", "lost", "active", "destroyed"]
    note: str | None = Field(default=None, max_length=2000)


class VerifyIn(RequestModel):
    tag_id: TagId | None = Field(default=None, validation_alias=_names("tag_id", "tagId"))
    picc_data: str | None = Field(default=None, max_length=64, validation_alias=_names("picc_data", "piccData", "e"))
    enc: str | None = Field(default=None, max_length=512)
    cmac: str | None = Field(default=None, max_length=64, validation_alias=_names("cmac", "c"))
    signature: str | None = Field(default=None, max_length=200)
    timestamp: int | None = Field(default=None, ge=0, le=2**40)


class TransferCreate(RequestModel):
    passport_id: str = Field(min_length=1, max_length=64,
                             validation_alias=_names("passport_id", "passportId", "productId", "product_id"))
    to_owner: Text = Field(validation_alias=_names("to_owner", "toOwner", "toAddress", "to_address"))
    message: str | None = Field(default=None, max_length=2000)
    owner_claim_code: str | None = Field(
        default=None, min_length=1, max_length=64,
        validation_alias=_names("owner_claim_code", "ownerClaimCode", "claim_code", "claimCode"),
        description="Needed when the piece was transferred to its current owner: the claim code that confirmed "
                    "that transfer (it proves the owner agrees). Not needed while the organization or one of its "
                    "customers (by a sale) owns it.")


class ConfirmIn(RequestModel):
    claim_code: str = Field(min_length=1, max_length=64, validation_alias=_names("claim_code", "claimCode"))


class LedgerRef(BaseModel):
    leaf_index: int | None
    leaf_hash: str | None


class PassportOut(BaseModel):
    id: str
    tag_id: str
    product_name: str
    brand: str | None
    serial_number: str | None
    category: str | None
    metadata: dict[str, Any]
    inventory_id: str | None
    status: str
    current_owner: str
    transfer_count: int
    verification_count: int
    last_verified_at: str | None
    registered_at: str
    sun: dict[str, Any] | None
    ledger: LedgerRef


class ProductRef(BaseModel):
    id: str
    tag_id: str
    product_name: str
    brand: str | None
    serial_number: str | None
    status: str


class VerifyOut(BaseModel):
    verified: bool
    authenticity: Authenticity
    product: ProductRef | None
    current_owner: str | None
    ledger: LedgerRef | None
    verified_at: str
    read_counter: int | None = None


class TransferOut(BaseModel):
    id: str
    passport_id: str
    from_owner: str
    to_owner: str
    status: str
    message: str | None
    expires_at: str
    created_at: str
    completed_at: str | None
    cancelled_at: str | None
    claim_code: str | None = None


class CheckpointOut(BaseModel):
    tree_size: int
    root_hash: str
    timestamp: str
    checkpoint: str
    signature: str
    key_id: str


class InclusionOut(BaseModel):
    leaf_index: int
    tree_size: int
    leaf_data: str
    leaf_hash: str
    audit_path: list[str]
    root_hash: str


class ConsistencyOut(BaseModel):
    first: int
    second: int
    proof: list[str]
    first_root: str
    second_root: str


class LedgerKey(BaseModel):
    key_id: str
    organization_id: str
    algorithm: str
    public_key: str
    origin: str


class LedgerKeysOut(BaseModel):
    keys: list[LedgerKey]
