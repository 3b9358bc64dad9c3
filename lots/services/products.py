"""Product types: the seeded catalogue and new versions. Limits marked [check] in DOMAIN.md are data,
set here as a starting point a site validates and changes by adding a version, never in code."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bank.status import change_status, initial_status
from lots.models import ProductType
from lots.reference import SEED_PRODUCTS
from lots.states import PRODUCT_TYPE_WORKFLOW


def seed_product_types(session: Session) -> list[ProductType]:
    """Add every seed product type whose (key, version) is missing; return the ones added. Idempotent."""
    added = []
    for data in SEED_PRODUCTS:
        exists = session.scalar(
            select(ProductType.id).where(
                ProductType.key == data["key"], ProductType.version == data["version"]
            )
        )
        if exists is None:
            product = ProductType(**data, status=PRODUCT_TYPE_WORKFLOW.initial)
            session.add(product)
            initial_status(session, product, PRODUCT_TYPE_WORKFLOW)
            added.append(product)
    session.flush()
    return added


def product_types_missing(session: Session) -> bool:
    return not session.scalar(select(func.count()).select_from(ProductType))


def active_product_types(session: Session, placebo: bool | None = None) -> list[ProductType]:
    """The current version of every product (status active), optionally only placebo or only cells."""
    stmt = select(ProductType).where(ProductType.status == "active").order_by(ProductType.key)
    if placebo is True:
        stmt = stmt.where(ProductType.origin == "placebo")
    elif placebo is False:
        stmt = stmt.where(ProductType.origin != "placebo")
    return list(session.scalars(stmt))


def add_product_version(session: Session, key: str, **changes) -> ProductType:
    """A new version of product `key` with `changes`; the previous active version is retired.
    Lots keep pointing at the version they were made under."""
    current = session.scalar(
        select(ProductType).where(ProductType.key == key).order_by(ProductType.version.desc()).limit(1)
    )
    if current is None:
        raise ValueError(f"no product type {key}")
    fields = (
        "name",
        "trials",
        "source",
        "origin",
        "max_passage",
        "max_cumulative_pd",
        "shelf_life_days",
        "storage_temperature",
        "isbt_code",
        "max_fold_per_day",
        "viability_drop_pct",
    )
    data = {f: changes.get(f, getattr(current, f)) for f in fields}
    for old in session.scalars(
        select(ProductType).where(ProductType.key == key, ProductType.status == "active")
    ):
        change_status(
            session,
            old,
            PRODUCT_TYPE_WORKFLOW,
            "retired",
            reason=f"{key} v{current.version + 1} replaces v{old.version}",
        )
    product = ProductType(key=key, version=current.version + 1, status=PRODUCT_TYPE_WORKFLOW.initial, **data)
    session.add(product)
    initial_status(session, product, PRODUCT_TYPE_WORKFLOW)
    return product
