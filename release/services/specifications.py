"""Release specifications as versioned data: seed, draft a new version by copying the current one,
edit its limits, approve it with a QA e-signature, make it effective (the previous one is superseded).

The limits are data, never code (DOMAIN.md): the record says which version judged each lot.
"""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bank.clock import utcnow
from bank.digest import canonical
from bank.esign import sign, signature_valid
from bank.models import Signature, StatusChange, User
from bank.status import change_status
from bank.uow import current_actor
from release.models import SpecificationVersion
from release.rules import PERCENT, MarkerPanelTest, NumericTest, QualitativeTest, Specification, SpecTest
from release.services.errors import FORM, ReleaseError, refuse_if, unstorable
from release.specs import seed_specifications
from release.states import SPEC_APPROVED_MEANING, SPEC_WORKFLOW


def _store(spec: Specification) -> str:
    return canonical(spec.to_dict())


def ensure_seed_specifications(session: Session) -> list[SpecificationVersion]:
    """Store each seed specification of release/specs.py whose product has no version yet, directly
    effective and marked `seeded` (no approval signature: the site validates and approves its own
    version). Idempotent; returns the versions added."""
    added = []
    for key, spec in seed_specifications().items():
        if session.scalar(select(SpecificationVersion.id).where(SpecificationVersion.product_key == key)):
            continue
        actor = current_actor(session)
        row = SpecificationVersion(product_key=key, spec_version=spec.version, status="effective", content=_store(spec),
                                   change_note=spec.note, seeded=True, effective_at=utcnow(),
                                   created_by_id=actor.id if actor else None)
        session.add(row)
        session.flush()
        # The status history starts at 'effective': the seed did not pass through a signed approval.
        session.add(StatusChange(entity=row.__tablename__, entity_id=str(row.id), from_status=None,
                                 to_status="effective", at=utcnow(), actor_id=actor.id, actor_name=actor.name,
                                 reason="Seed specification (release/specs.py)"))
        added.append(row)
    session.flush()
    return added


def effective_specification(session: Session, product_key: str) -> SpecificationVersion | None:
    return session.scalar(select(SpecificationVersion).where(SpecificationVersion.product_key == product_key,
                                                             SpecificationVersion.status == "effective"))


def versions_of(session: Session, product_key: str) -> list[SpecificationVersion]:
    return list(session.scalars(select(SpecificationVersion).where(SpecificationVersion.product_key == product_key)
                                .order_by(SpecificationVersion.id.desc())))


def product_keys(session: Session) -> list[str]:
    return list(session.scalars(select(SpecificationVersion.product_key).distinct()
                                .order_by(SpecificationVersion.product_key)))


def draft_new_version(session: Session, product_key: str) -> SpecificationVersion:
    """A draft copied from the effective version (or the latest one); at most one open draft per product."""
    versions = versions_of(session, product_key)
    if not versions:
        raise ReleaseError({FORM: f"No specification of {product_key} to copy."})
    if any(v.status in ("draft", "approved") for v in versions):
        raise ReleaseError({FORM: f"{product_key} already has a version in preparation: finish it first."})
    source = effective_specification(session, product_key) or versions[0]
    number = session.scalar(select(func.count()).where(SpecificationVersion.product_key == product_key)) + 1
    spec = replace(source.spec(), version=str(number))
    actor = current_actor(session)
    row = SpecificationVersion(product_key=product_key, spec_version=spec.version, status="draft",
                               content=_store(spec), change_note="", based_on_id=source.id,
                               created_by_id=actor.id, edited_by_id=actor.id)
    session.add(row)
    session.flush()
    return row


# --- editing a draft's limits ---------------------------------------------------------------------


def editable_fields(spec: Specification) -> list[tuple[SpecTest, list[tuple[str, str, str]]]]:
    """Per test, the (field name, label, current text) a draft form shows: numeric min and max, each
    panel rule's threshold, the interim values a qualitative test accepts for conditional release."""
    out = []
    for t in spec.tests:
        if isinstance(t, NumericTest):
            fields = [(f"{t.code}__min", f"Minimum ({t.unit})", _num(t.min)),
                      (f"{t.code}__max", f"Maximum ({t.unit})", _num(t.max))]
        elif isinstance(t, MarkerPanelTest):
            fields = [(f"{t.code}__r{i}", f"{' or '.join(r.markers)} {r.op} (%)", _num(r.threshold_pct))
                      for i, r in enumerate(t.rules)]
        else:
            fields = [(f"{t.code}__conditional", "Interim results accepted for conditional release "
                       "(comma-separated; empty: none)", ", ".join(t.conditional))]
        out.append((t, fields))
    return out


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _parse(raw: str | None, field: str, errors: dict[str, str], percent: bool) -> float | None:
    text = (raw or "").strip()
    if not text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        errors[field] = f"{text!r} is not a number."
        return None
    if not number.is_finite() or (percent and not 0 <= number <= 100):
        errors[field] = f"{text} is not a possible percentage (0–100)." if percent else "Not a number."
        return None
    return float(number)


def _edited_test(t: SpecTest, edits: dict[str, str], errors: dict[str, str]) -> SpecTest:
    if isinstance(t, NumericTest):
        low = _parse(edits.get(f"{t.code}__min"), f"{t.code}__min", errors, t.unit == PERCENT)
        high = _parse(edits.get(f"{t.code}__max"), f"{t.code}__max", errors, t.unit == PERCENT)
        if low is not None and high is not None and low > high:
            errors[f"{t.code}__max"] = "The maximum is below the minimum."
        if low is None and high is None and f"{t.code}__min" not in errors and f"{t.code}__max" not in errors:
            errors[f"{t.code}__min"] = "Give a minimum, a maximum or both."
        return replace(t, min=low, max=high)
    if isinstance(t, MarkerPanelTest):
        rules = []
        for i, rule in enumerate(t.rules):
            name = f"{t.code}__r{i}"
            value = _parse(edits.get(name), name, errors, True)
            if value is None and name not in errors:
                errors[name] = "A threshold is required."
            rules.append(replace(rule, threshold_pct=rule.threshold_pct if value is None else value))
        return replace(t, rules=tuple(rules))
    assert isinstance(t, QualitativeTest)
    raw = edits.get(f"{t.code}__conditional", "")
    values = tuple(v.strip() for v in (raw or "").split(",") if v.strip())
    if any(v.casefold() == t.expected.casefold() for v in values):
        errors[f"{t.code}__conditional"] = f"'{t.expected}' is the final result, not an interim one."
    return replace(t, conditional=values)


def update_draft(session: Session, row: SpecificationVersion, expected_version: int | None,
                 edits: dict[str, str], change_note: str) -> SpecificationVersion:
    """Apply edited limits to a draft, or raise ReleaseError keyed by field; nothing changes on error."""
    if row.status != "draft":
        raise ReleaseError({FORM: f"{row.label} is {row.status}: only a draft can be edited."})
    if expected_version is not None and expected_version != row.version:
        raise ReleaseError({FORM: "This draft was changed by someone else since you opened it; reload."})
    errors = unstorable({"change_note": change_note, **edits})
    spec = row.spec()
    tests = tuple(_edited_test(t, edits, errors) for t in spec.tests)
    if not (change_note or "").strip():
        errors["change_note"] = "Say what changed and why."
    refuse_if(errors)
    row.content = _store(replace(spec, tests=tests, note=spec.note))
    row.change_note = change_note.strip()
    row.edited_by_id = current_actor(session).id
    session.flush()
    return row


# --- approval and effect --------------------------------------------------------------------------


def approval_content(row: SpecificationVersion) -> dict:
    """Exactly what the approval signature is bound to."""
    return {"specification": row.id, "product_key": row.product_key, "version": row.spec_version,
            "content": json.loads(row.content), "change_note": row.change_note}


def approve_specification(session: Session, row: SpecificationVersion, user: User, password: str) -> Signature:
    """QA approval with the signature 'Specification approved'; the author of the draft cannot approve it
    (four eyes). Raises ReleaseError, bank.esign.SignatureError or TransitionRefused."""
    if row.status != "draft":
        raise ReleaseError({FORM: f"{row.label} is {row.status}: only a draft is approved."})
    if user.id in (row.created_by_id, row.edited_by_id):
        raise ReleaseError({FORM: "You drafted or edited this version: a second QA person must approve it."})
    if not row.change_note:
        raise ReleaseError({FORM: "Edit the draft and say what changed before approval."})
    signature = sign(session, user, password, SPEC_APPROVED_MEANING, row.__tablename__, row.id, approval_content(row))
    row.signature_id = signature.id
    change_status(session, row, SPEC_WORKFLOW, "approved", signature=signature)
    return signature


def make_effective(session: Session, row: SpecificationVersion) -> None:
    """The approved version becomes the one lots are judged against from now on; lots already under test
    keep the version recorded on their release record."""
    if row.status != "approved":
        raise ReleaseError({FORM: f"{row.label} is {row.status}: only an approved version can take effect."})
    current = effective_specification(session, row.product_key)
    if current is not None:
        change_status(session, current, SPEC_WORKFLOW, "superseded", reason=f"replaced by {row.label}")
    row.effective_at = utcnow()
    change_status(session, row, SPEC_WORKFLOW, "effective")


def approval_signature(session: Session, row: SpecificationVersion) -> tuple[Signature, bool] | None:
    if row.signature_id is None:
        return None
    sig = session.get(Signature, row.signature_id)
    return sig, signature_valid(sig, approval_content(row))


# --- how a test's acceptance criterion reads on screens and on the certificate --------------------


def acceptance_text(test: SpecTest) -> str:
    if isinstance(test, NumericTest):
        parts = []
        if test.min is not None:
            parts.append(f"{'≥' if test.min_inclusive else '>'} {test.min:g}")
        if test.max is not None:
            parts.append(f"{'≤' if test.max_inclusive else '<'} {test.max:g}")
        return f"{' and '.join(parts)} {test.unit}"
    if isinstance(test, QualitativeTest):
        text = " or ".join((test.expected, *test.accepted))
        if test.conditional:
            text += f" (conditional release on: {', '.join(test.conditional)})"
        return text
    return "; ".join(f"{' or '.join(r.markers)} {'≥' if r.op == '>=' else '≤'} {r.threshold_pct:g} %"
                     for r in test.rules)
