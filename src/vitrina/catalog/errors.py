"""Catalog error codes: one exception type per stable code (API.md §4)."""

from __future__ import annotations

from vitrina.core.errors import ConflictError, NotFoundError, PayloadTooLarge, ValidationFailed


class ProductNotFound(NotFoundError):
    code = "PRODUCT_NOT_FOUND"
    default_message = "No such product."


class ConfigurationNotFound(NotFoundError):
    code = "CONFIGURATION_NOT_FOUND"
    default_message = "No such product configuration."


class DirectoryNotFound(NotFoundError):
    code = "DIRECTORY_NOT_FOUND"
    default_message = "No such directory."


class PricingTierNotFound(NotFoundError):
    code = "PRICING_TIER_NOT_FOUND"
    default_message = "No such pricing tier."


class TierPriceNotFound(NotFoundError):
    code = "PRICE_NOT_FOUND"
    default_message = "No such price in this pricing tier."


class MetalPriceNotFound(NotFoundError):
    code = "METAL_PRICE_NOT_FOUND"
    default_message = "No such metal in the metal price table."


class VendorModelTaken(ConflictError):
    code = "VENDOR_MODEL_TAKEN"
    default_message = "Another product already uses this vendor_model."


class ProductUnavailable(ConflictError):
    code = "PRODUCT_UNAVAILABLE"
    default_message = "The product is disabled or deleted and cannot be configured."


class ImageRejected(ValidationFailed):
    code = "INVALID_IMAGE"
    default_message = "The upload is not a JPEG, PNG or WebP image within the size limits."


class ImageTooLarge(PayloadTooLarge):
    code = "IMAGE_TOO_LARGE"
    default_message = "The image is too large."
