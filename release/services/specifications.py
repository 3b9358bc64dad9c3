"""Release specifications as versioned data: seed, draft a new version by copying the current one,
edit its limits, approve it with a QA e-signature, make it effective (the previous one is superseded).

The limits are data, never code (DOMAIN.md): the record says which version judged each lot.
"""

from __future__ import annotations

import json
from dataclasses import replace

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bank.clock import utcnow
from bank.db import rows_of
from bank.digest import canonical
from bank.esign import signature_valid
from bank.i18n import t
from bank.models import Signature, User
from bank.refusals import control_character_errors, refuse_if
from bank.status import add_new, change_status
from bank.uow import acting_with, current_actor
from release.models import SpecificationVersion
from release.reference import seed_specifications
from release.rules import (
    Specification,
    approval_problems,
    draft_problems,
    edit_problems,
    edited_specification,
)
from release.states import SEED_PERMISSION, SPEC_WORKFLOW


def _store(spec: Specification) -> str:
    return canonical(spec.to_dict())


def ensure_seed_specifications(session: Session) -> list[SpecificationVersion]:
    """Store each seed specification of release/reference.py whose product has no version yet, effective at
    once and marked `seeded` (no approval signature: the site validates and approves its own version) —
    the workflow's seed step, taken by the system on behalf of whoever first needs a specification.
    Idempotent; returns the versions added."""
    added = []
    for key, spec in seed_specifications().items():
        if session.scalar(select(SpecificationVersion.id).where(SpecificationVersion.product_key == key)):
            continue
        actor = current_actor(session)
        row = SpecificationVersion(
            product_key=key,
            spec_version=spec.version,
            content=_store(spec),
            change_note=spec.note,
            seeded=True,
            effective_at=utcnow(),
            created_by_id=actor.id if actor else None,
        )
        add_new(session, row, SPEC_WORKFLOW)
        with acting_with(session, SEED_PERMISSION):
            change_status(
                session, row, SPEC_WORKFLOW, "effective", reason="Seed specification (release/reference.py)"
            )
        added.append(row)
    session.flush()
    return added


def effective_specification(session: Session, product_key: str) -> SpecificationVersion | None:
    return session.scalar(
        select(SpecificationVersion).where(
            SpecificationVersion.product_key == product_key, SpecificationVersion.status == "effective"
        )
    )


def versions_of(session: Session, product_key: str) -> list[SpecificationVersion]:
    return rows_of(session, SpecificationVersion, SpecificationVersion.id.desc(), product_key=product_key)


def product_keys(session: Session) -> list[str]:
    return list(
        session.scalars(
            select(SpecificationVersion.product_key).distinct().order_by(SpecificationVersion.product_key)
        )
    )


def draft_new_version(session: Session, product_key: str) -> SpecificationVersion:
    """A draft copied from the effective version (or the latest one); at most one open draft per product."""
    versions = versions_of(session, product_key)
    refuse_if(problems=draft_problems(product_key, [v.status for v in versions]))
    source = effective_specification(session, product_key) or versions[0]
    number = session.scalar(select(func.count()).where(SpecificationVersion.product_key == product_key)) + 1
    spec = replace(source.spec(), version=str(number))
    actor = current_actor(session)
    row = SpecificationVersion(
        product_key=product_key,
        spec_version=spec.version,
        content=_store(spec),
        change_note="",
        based_on_id=source.id,
        created_by_id=actor.id,
        edited_by_id=actor.id,
    )
    add_new(session, row, SPEC_WORKFLOW)
    return row


# --- editing a draft's limits ---------------------------------------------------------------------


def update_draft(
    session: Session,
    row: SpecificationVersion,
    expected_version: int | None,
    edits: dict[str, str],
    change_note: str,
) -> SpecificationVersion:
    """Apply edited limits to a draft, or raise Refused (input errors keyed by field; a version not a draft or
    changed since it was opened: a rule); nothing changes then."""
    refuse_if(problems=edit_problems(row.label, row.status, expected_version, row.version))
    edited, errors = edited_specification(row.spec(), edits)
    errors = {**errors, **control_character_errors({"change_note": change_note, **edits})}
    if not (change_note or "").strip():
        errors["change_note"] = t("Say what changed and why.")
    refuse_if(errors)
    row.content = _store(edited)
    row.change_note = change_note.strip()
    row.edited_by_id = current_actor(session).id
    session.flush()
    return row


# --- approval and effect --------------------------------------------------------------------------


def approval_content(row: SpecificationVersion) -> dict:
    """Exactly what the approval signature is bound to."""
    return {
        "specification": row.id,
        "product_key": row.product_key,
        "version": row.spec_version,
        "content": json.loads(row.content),
        "change_note": row.change_note,
    }


def approve_specification(
    session: Session, row: SpecificationVersion, user: User, password: str
) -> Signature:
    """QA approval of a draft, signed with the meaning the specification workflow states; the author of the
    draft cannot approve it (four eyes). Raises TransitionRefused naming every reason, or
    bank.esign.SignatureError on a wrong password."""
    change = change_status(
        session,
        row,
        SPEC_WORKFLOW,
        "approved",
        password=password,
        signer=user,
        content=approval_content(row),
        before_write=lambda sig: setattr(row, "signature_id", sig.id),
        problems=approval_problems((row.created_by_id, row.edited_by_id), user.id, row.change_note),
    )
    return session.get(Signature, change.signature_id)


def make_effective(session: Session, row: SpecificationVersion) -> None:
    """The approved version becomes the one lots are judged against from now on; lots already under test
    keep the version recorded on their release record. The workflow table refuses a version that is not
    approved (the one it would have replaced is then left as it was: nothing is written)."""
    current = effective_specification(session, row.product_key)
    if current is not None and current.id != row.id:
        change_status(session, current, SPEC_WORKFLOW, "superseded", reason=f"replaced by {row.label}")
    row.effective_at = utcnow()
    change_status(session, row, SPEC_WORKFLOW, "effective")


def approval_signature(session: Session, row: SpecificationVersion) -> tuple[Signature, bool] | None:
    if row.signature_id is None:
        return None
    sig = session.get(Signature, row.signature_id)
    return sig, signature_valid(sig, approval_content(row))
