"""Table pieces that several domains' models are built of, written once here. Each gives exactly the index or
constraint a model wrote out before (same name, same columns, same condition), so the schema the migrations
create is unchanged."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Index, text


def partial_index(name: str, *columns: str, where: str, unique: bool = False) -> Index:
    """An index over the rows that meet `where` (SQL), on SQLite and PostgreSQL alike. Unique, it is how the
    database itself keeps one row active, effective or in force, even under concurrent requests."""
    return Index(name, *columns, unique=unique, sqlite_where=text(where), postgresql_where=text(where))


def trigram_index(name: str, column: str) -> Index:
    """The index a search for any part of a code (LIKE '%…%') uses on PostgreSQL, so it does not read
    every row; SQLite scans (it serves small sites)."""
    return Index(name, column, postgresql_using="gin", postgresql_ops={column: "gin_trgm_ops"}).ddl_if(
        dialect="postgresql"
    )


def verification_checks() -> tuple[CheckConstraint, CheckConstraint]:
    """Four eyes on a critical entry, held by the database: the verifier is not the person who entered it,
    and who verified and when are set together (fresh constraints: each belongs to one table)."""
    return (
        CheckConstraint("verified_by_id IS NULL OR verified_by_id <> entered_by_id", name="four_eyes"),
        CheckConstraint("(verified_by_id IS NULL) = (verified_at IS NULL)", name="verified"),
    )
