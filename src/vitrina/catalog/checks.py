"""Catalog invariants for ``vitrina check``: references never cross organizations or dangle.

- every stored configuration and tier price points at a product of its own organization;
- every tier price belongs to a tier of its own organization;
- every product image or layer belongs to a product of its own organization.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select, true
from sqlalchemy.orm import Session

from vitrina.catalog.models import Configuration, PricingTier, Product, ProductImage, TierPrice

MAX_REPORTED = 1000


def run_checks(session: Session, *, organization_id: str | None = None) -> list[str]:
    """One line per violation (all organizations unless one is named)."""
    violations: list[str] = []
    for model, label in ((Configuration, "configuration"), (TierPrice, "tier price"), (ProductImage, "image")):
        violations += _foreign_product(session, model, label, organization_id)
    rows = session.execute(select(TierPrice.id, TierPrice.organization_id, PricingTier.organization_id)
                           .join(PricingTier, PricingTier.id == TierPrice.tier_id, isouter=True)
                           .where(_org(TierPrice.organization_id, organization_id),
                                  or_(PricingTier.id.is_(None),
                                      PricingTier.organization_id != TierPrice.organization_id))
                           .limit(MAX_REPORTED))
    violations += [f"tier price {pid}: its tier belongs to {tier_org or 'nobody'}, not {org}"
                   for pid, org, tier_org in rows]
    return violations


def _org(column: Any, organization_id: str | None) -> Any:
    return true() if organization_id is None else column == organization_id


def _foreign_product(session: Session, model: Any, label: str, organization_id: str | None) -> list[str]:
    rows = session.execute(select(model.id, model.organization_id, Product.organization_id)
                           .join(Product, Product.id == model.product_id, isouter=True)
                           .where(_org(model.organization_id, organization_id),
                                  or_(Product.id.is_(None), Product.organization_id != model.organization_id))
                           .limit(MAX_REPORTED))
    return [f"{label} {row_id}: its product belongs to {product_org or 'nobody'}, not {org}"
            for row_id, org, product_org in rows]
