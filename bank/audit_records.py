"""The audit trail as people read it (EU GMP Annex 11 §9, 21 CFR 11.10(e)): record types in plain words,
a record's trail with its children's, ids of referenced records replaced by their names, sign-ins worded
as sign-ins. The stored rows stay as written (table names, ids, JSON): only their reading changes here.

Table names are plain strings: bank imports no domain, and every table is found in the shared metadata.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, Table, cast, literal, or_, select, union_all
from sqlalchemy.orm import Session

from bank.audit_fields import FIELD_WORDS
from bank.db import Base
from bank.i18n import N_, Text, localize, t
from bank.languages import local_time
from bank.models import AuditEntry
from bank.workflow import status_label

# Every audited record type a person may choose, in plain words (stored rows keep the table name).
RECORD_TYPES: dict[str, str] = {
    "users": N_("User"),
    "api_tokens": N_("API token"),
    "donors": N_("Donor"),
    "donor_answers": N_("Screening answer"),
    "donor_medications": N_("Donor medication"),
    "donor_serology": N_("Serology test"),
    "donor_determinations": N_("Eligibility determination"),
    "donor_identities": N_("Donor identity"),
    "criteria_sets": N_("Eligibility criteria set"),
    "lots": N_("Lot"),
    "harvests": N_("Harvest"),
    "isolations": N_("Isolation"),
    "passages": N_("Passage"),
    "entry_corrections": N_("Entry correction"),
    "containers": N_("Container"),
    "storage_boxes": N_("Storage box"),
    "deviations": N_("Deviation"),
    "materials": N_("Material"),
    "material_lots": N_("Material lot"),
    "material_uses": N_("Material use"),
    "product_types": N_("Product type"),
    "release_specifications": N_("Specification"),
    "lot_releases": N_("Release record"),
    "release_results": N_("QC result"),
    "release_attachments": N_("Raw data file"),
    "release_alerts": N_("Late-result alert"),
    "protocol_versions": N_("Protocol"),
    "patients": N_("Subject"),
    "patient_weights": N_("Subject weight"),
    "eligibility_attestations": N_("Subject eligibility attestation"),
    "randomisation_imports": N_("Randomisation list"),
    "randomisation_entries": N_("Randomisation entry"),
    "allocations": N_("Dose allocation"),
    "allocation_containers": N_("Allocated container"),
    "unblindings": N_("Emergency unblinding"),
    "signatures": N_("Electronic signature"),
    "audit_reviews": N_("Audit-trail review"),
    "custody_events": N_("Custody event"),
    "custody_logger_files": N_("Temperature logger file"),
    "adverse_events": N_("Adverse event"),
    "adverse_event_updates": N_("Adverse event update"),
    "follow_up_visits": N_("Follow-up visit"),
    "verification_records": N_("Entry verification"),
    "notifications": N_("Notification"),
    "notification_settings": N_("Notification preferences"),
    "audit_chain": N_("Audit chain"),  # key changes and checkpoint disagreements (bank.rekey, bank.cli)
}

# A record's trail includes its children's rows: the rows of these tables that refer to it.
CHILDREN: dict[str, tuple[str, ...]] = {
    "donors": (
        "donor_answers",
        "donor_medications",
        "donor_serology",
        "donor_determinations",
        "donor_identities",
    ),
    "lots": (
        "harvests",
        "isolations",
        "passages",
        "entry_corrections",
        "material_uses",
        "containers",
        "deviations",
        "lot_releases",
        "release_results",
        "release_alerts",
    ),
    "patients": ("patient_weights", "eligibility_attestations", "allocations", "unblindings"),
    "allocations": ("allocation_containers",),
    "randomisation_imports": ("randomisation_entries",),
}

# The column that names a record for people (never a donor's identity: donor codes are pseudonyms).
NAME_COLUMNS: dict[str, str] = {
    "users": "full_name",
    "api_tokens": "name",
    "donors": "code",
    "lots": "din",
    "containers": "product_code",
    "storage_boxes": "name",
    "materials": "name",
    "material_lots": "lot_number",
    "product_types": "name",
    "criteria_sets": "name",
    "release_specifications": "product_key",
    "release_results": "test_code",
    "protocol_versions": "code",
    "patients": "subject_id",
    "signatures": "meaning",
}

# Records of which several share a name (a retest has the test code of the result it replaces).
NAMED_WITH_NUMBER = {"release_results", "release_specifications", "signatures"}

ACTIONS = {
    "insert": t("created"),
    "update": t("changed"),
    "void": t("voided"),
    "status": t("status changed"),
    "sign": t("signed"),
    "view": t("viewed"),
}

_SIGN_IN_FIELDS = {"failed_logins", "last_login_at", "locked_at", "locked_until"}


def type_label(table: str) -> str:
    """A record type in plain words (a table not in the list: its name with spaces)."""
    return RECORD_TYPES.get(table, table.replace("_", " "))


def _table(name: str) -> Table | None:
    return Base.metadata.tables.get(name)


def _parent_column(child: str, parent: str):
    table = _table(child)
    for column in table.columns if table is not None else ():
        if any(fk.column.table.name == parent for fk in column.foreign_keys) and not column.name.endswith(
            "_by_id"
        ):
            return column
    return None


def record_condition(entity: str, entity_id: str, with_children: bool = True):
    """The audit rows of one record, and of its children when `with_children` (one SQL condition)."""
    own = (AuditEntry.entity == entity) & (AuditEntry.entity_id == entity_id)
    if not with_children or not entity_id.isdigit():
        return own
    parts = [own]
    for child in CHILDREN.get(entity, ()):
        column = _parent_column(child, entity)
        if column is None:
            continue
        ids = select(cast(_table(child).c.id, String)).where(column == int(entity_id)).scalar_subquery()
        parts.append((AuditEntry.entity == child) & AuditEntry.entity_id.in_(ids))
    return or_(*parts)


def typed_record_id(session: Session, table: str, typed: str) -> str:
    """The record a person typed: its number, or its name (a DIN as printed, a donor code, a box's name,
    a user's full name); the typed text itself when no record has that name."""
    typed = typed.strip()
    if typed.isdigit() or table not in NAME_COLUMNS or _table(table) is None:
        return typed
    t_ = _table(table)
    column = t_.c[NAME_COLUMNS[table]]
    wanted = "".join(typed.split())[:13].upper() if table == "lots" else typed  # DIN: spaces, check char
    found = session.scalars(select(t_.c.id).where(column == wanted).limit(2)).all()
    return str(found[0]) if len(found) == 1 else typed


def referenced_table(table: str, field: str) -> str | None:
    """The table a field refers to (`box_id` of containers → storage_boxes), or None."""
    t_ = _table(table)
    column = t_.c.get(field) if t_ is not None else None
    if column is None or not column.foreign_keys:
        return None
    return next(iter(column.foreign_keys)).column.table.name


def record_names(session: Session, wanted: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """The name of each (table, id) that has a naming column, in one statement whatever the rows."""
    by_table: dict[str, set[int]] = {}
    for table, ident in wanted:
        if table in NAME_COLUMNS and str(ident).isdigit() and _table(table) is not None:
            by_table.setdefault(table, set()).add(int(ident))
    if not by_table:
        return {}
    selects = [
        select(
            literal(table).label("t"),
            cast(_table(table).c.id, String).label("i"),
            cast(_table(table).c[NAME_COLUMNS[table]], String).label("n"),
        ).where(_table(table).c.id.in_(sorted(ids)))
        for table, ids in sorted(by_table.items())
    ]
    return {
        (table, ident): f"{name} #{ident}" if table in NAMED_WITH_NUMBER else name
        for table, ident, name in session.execute(union_all(*selects))
    }


@dataclass(frozen=True)
class Change:
    field: str
    old: str
    new: str


@dataclass(frozen=True)
class ShownRow:
    """One audit row as shown on the screen, in the CSV and in the PDF (the same words in all three)."""

    id: int
    at: datetime
    who: str
    action: str
    record: str
    entity: str
    entity_id: str
    changes: list[Change]
    reason: str


def _sign_in_action(entry: AuditEntry, changes: dict) -> Text | None:
    """A sign-in writes to the user's record as 'sign-in attempt as …': say what happened instead."""
    if entry.entity != "users" or entry.actor_id is not None or not changes or set(changes) - _SIGN_IN_FIELDS:
        return None
    if "last_login_at" in changes:
        return t("signed in")
    if changes.get("locked_at", [None, None])[1] is not None:
        return t("sign-in refused (wrong password): account locked")
    return t("sign-in refused (wrong password)")


_STORED_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(\+00:00)?")
_HIDDEN_FIELDS = {"id", "version"}  # the row's own key and its edit counter: nothing a reader checks
_BOOLEANS = {True: N_("yes"), False: N_("no")}
# What the trail writes in place of a secret or of what was shown (bank.audit, doses.services.blinding).
MARKERS = {
    "[set]": N_("[set]"),
    "[hidden]": N_("[hidden]"),
    "[changed]": N_("[changed]"),
    "[shown]": N_("[shown]"),
}
_STATUS_FIELDS = {"status"}


def _models() -> dict[str, type]:
    return {m.local_table.name: m.class_ for m in Base.registry.mappers if m.inherits is None}


def value_words(table: str, field: str, models: dict[str, type] | None = None) -> dict[str, str] | None:
    """The words of the stored stable words of a field (a status, a custody event), or None."""
    model = (models if models is not None else _models()).get(table)
    words = getattr(model, "__audit_words__", {}).get(field) if model is not None else None
    return words


def _value(
    value, target: str | None, names: dict, words: dict[str, str] | None = None, field: str = ""
) -> str:
    if value is None:
        return "—"
    if target is not None:
        return names.get((target, str(value)), f"#{value}")
    if isinstance(value, bool):
        return localize(_BOOLEANS[value])
    if isinstance(value, str) and _STORED_TIME.fullmatch(value):
        # Stored in UTC to the microsecond: read on the facility's clock, to the second.
        return local_time(datetime.fromisoformat(value), True)
    if isinstance(value, str) and words is not None and value in words:
        return localize(words[value])
    if isinstance(value, str) and field in _STATUS_FIELDS:
        return localize(status_label(value))
    if isinstance(value, str) and field == "meaning":  # a signature's meaning: a stable word (N_)
        return localize(value)
    if isinstance(value, str) and value in MARKERS:
        return localize(MARKERS[value])
    return str(value)


def field_word(name: str, target: str | None = None) -> str:
    """A field's word in the reader's language (FIELD_WORDS; a field without one: its name in spaces)."""
    word = FIELD_WORDS.get(name)
    if word is not None:
        return localize(word)
    return (name[:-3] if target is not None and name.endswith("_id") else name).replace("_", " ")


def shown_rows(session: Session, entries: list[AuditEntry]) -> list[ShownRow]:
    """Audit rows in words for people (a fixed number of statements whatever the rows)."""
    decoded = [(e, json.loads(e.changes) or {}) for e in entries]
    wanted: set[tuple[str, str]] = set()
    for e, changes in decoded:
        wanted.add((e.entity, e.entity_id))
        for field, pair in changes.items():
            target = referenced_table(e.entity, field)
            if target is not None:
                wanted |= {(target, str(v)) for v in pair if v is not None}
    names = record_names(session, wanted)
    models = _models()
    rows = []
    for e, changes in decoded:
        sign_in = _sign_in_action(e, changes)
        name = names.get((e.entity, e.entity_id))
        kind = localize(type_label(e.entity))
        record = (
            t("%(type)s %(name)s", type=kind, name=name)
            if name
            else t("%(type)s #%(number)s", type=kind, number=e.entity_id)
        )
        shown_changes = []
        for field, (old, new) in changes.items():
            if field in _HIDDEN_FIELDS:
                continue
            target = referenced_table(e.entity, field)
            words = value_words(e.entity, field, models)
            shown_changes.append(
                Change(
                    field_word(field, target),
                    _value(old, target, names, words, field),
                    _value(new, target, names, words, field),
                )
            )
        word = sign_in or ACTIONS.get(e.action)
        rows.append(
            ShownRow(
                id=e.id,
                at=e.at,
                who=(name or e.actor_name) if sign_in is not None else e.actor_name,
                action=word.localized() if word is not None else e.action,
                record=record.localized(),
                entity=e.entity,
                entity_id=e.entity_id,
                changes=shown_changes,
                reason=e.reason or "",
            )
        )
    return rows
