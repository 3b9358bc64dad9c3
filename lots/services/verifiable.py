"""The lots domain's verifiable entries (bank.verification): isolations and passages, listed with their
values in one query per kind and verified by `verify_entry`."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from bank.i18n import t
from bank.languages import day_text, number_text
from bank.models import User
from bank.verification.services import Entry, EntryQuery, VerifiableKind
from bank.web import LIKE_ESCAPE, like_pattern
from lots.models import Isolation, Lot, Passage
from lots.services.processing import isolation_values, passage_values, verify_entry
from lots.states import FINISHED


def _cells(value: float) -> str:
    return f"{value:.3g}"


def entries_select(model, query: EntryQuery, *awaiting):
    """The one query of a lot's verifiable entries of `model`, each with its lot's id and DIN and the name
    of who entered it: the chosen `query.ids`, or the entries awaiting verification (unverified and meeting
    `awaiting`), oldest first."""
    entered_by = aliased(User)
    stmt = (
        select(model, Lot.id, Lot.din, entered_by.full_name)
        .join(Lot, Lot.id == model.lot_id)
        .outerjoin(entered_by, entered_by.id == model.entered_by_id)
        .order_by(model.entered_at, model.id)
    )
    if query.ids is not None:
        return stmt.where(model.id.in_(query.ids))
    stmt = stmt.where(model.verified_at.is_(None), *awaiting)
    if query.excluding_user_id is not None:
        stmt = stmt.where(model.entered_by_id != query.excluding_user_id)
    if query.subject:
        stmt = stmt.where(Lot.din.like(like_pattern("".join(query.subject.split())), escape=LIKE_ESCAPE))
    return stmt.limit(query.limit) if query.limit else stmt


# Values are shown in the reader's notation (entries are listed during their request); the digest binds
# the raw `content`, never these texts.


def lot_entry(
    kind: str,
    e,
    lot_id: int,
    din: str,
    name: str | None,
    title: str,
    values,
    content,
    link_endpoint="lots.show",
) -> Entry:
    """An entry of a lot's record as the verification queue lists it, linked to the lot's page."""
    return Entry(
        kind=kind,
        entry_id=e.id,
        title=title,
        subject=f"{din[:5]} {din[5:7]} {din[7:]}",
        values=tuple(values),
        content=content,
        entered_by_id=e.entered_by_id,
        entered_by=name or "",
        entered_at=e.entered_at,
        verified_by_id=e.verified_by_id,
        verified_at=e.verified_at,
        link_endpoint=link_endpoint,
        link_args=(("lot_id", lot_id),),
    )


def isolation_entries(session: Session, query: EntryQuery) -> list[Entry]:
    return [
        lot_entry(
            "isolation",
            iso,
            lot_id,
            din,
            name,
            t("Isolation"),
            [
                (t("Viable cells"), _cells(iso.cell_count)),
                (t("Viability"), f"{number_text(iso.viability_pct)} %"),
                (t("Isolated on"), day_text(iso.isolated_on)),
                (t("Operator"), iso.operator),
            ],
            isolation_values(iso),
        )
        for iso, lot_id, din, name in session.execute(
            entries_select(Isolation, query, Lot.status.not_in(FINISHED))
        )
    ]


def passage_entries(session: Session, query: EntryQuery) -> list[Entry]:
    return [
        lot_entry(
            "passage",
            p,
            lot_id,
            din,
            name,
            t("Passage P%(number)s", number=p.number),
            [
                (t("Seeded cells"), _cells(p.seeded_cells)),
                (t("Harvested cells"), _cells(p.harvested_cells)),
                (t("Viability"), f"{number_text(p.viability_pct)} %"),
                (t("Vessels"), str(p.vessels)),
                (t("Dates"), f"{day_text(p.seeded_on)} → {day_text(p.harvested_on)}"),
                (t("PD"), number_text(p.population_doublings, 2)),
                (t("Operator"), p.operator),
            ],
            passage_values(p),
        )
        for p, lot_id, din, name in session.execute(
            entries_select(Passage, query, Lot.status.not_in(FINISHED))
        )
    ]


def _verify(model):
    def verify(session: Session, entry_id: int) -> None:
        verify_entry(session, session.get(model, entry_id))

    return verify


VERIFIABLE_KINDS = (
    VerifiableKind("isolation", t("Isolation"), "lot.verify", isolation_entries, _verify(Isolation)),
    VerifiableKind("passage", t("Passage"), "lot.verify", passage_entries, _verify(Passage)),
)
