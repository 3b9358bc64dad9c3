"""Verification use cases: the registry of verifiable kinds, the entries awaiting a person's verification
(one query per kind), and the act that verifies several entries under one signature — every entry is
checked first and any refusal refuses the whole act, naming every reason (nothing half-verified)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bank.clock import utcnow
from bank.digest import content_digest
from bank.esign import sign, signature_valid
from bank.i18n import LowerCase, Text, t
from bank.models import Signature, User
from bank.refusals import Problem, Refused
from bank.uow import Actor, current_actor
from bank.verification.models import VerificationRecord
from bank.verification.states import verification_step

REGISTRY = "bank.verifiable"  # app.extensions key: {kind key: VerifiableKind}
SIGNED_ENTITY = "verification"  # the signature of an act: entity_id is the act's id, content its entries
MAX_PER_ACT = 200


@dataclass(frozen=True)
class Entry:
    """An entry as the verifier sees it: what was entered (`values`, as shown), by whom, when. `content`
    holds the raw values the digest binds, so a change made meanwhile is caught."""

    kind: str
    entry_id: int
    title: str  # "Passage P2"
    subject: str  # the lot's DIN, the donor's code: what the list filters on
    values: tuple[tuple[str, str], ...]
    content: dict
    entered_by_id: int | None
    entered_by: str
    entered_at: datetime
    verified_by_id: int | None = None
    verified_at: datetime | None = None
    link_endpoint: str | None = None  # the record's page
    link_args: tuple[tuple[str, int], ...] = ()

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.entry_id}"

    @property
    def digest(self) -> str:
        return content_digest(
            {
                "kind": self.kind,
                "entry_id": self.entry_id,
                "content": self.content,
                "entered_by_id": self.entered_by_id,
                "entered_at": self.entered_at,
            }
        )


@dataclass(frozen=True)
class EntryQuery:
    """What a kind's `entries` function is asked. With `ids`: exactly those entries, whatever their state
    (to show and re-check a chosen set). Without: the entries awaiting verification — unverified and still
    verifiable — not entered by `excluding_user_id`, whose subject contains `subject` (literally), oldest
    first, at most `limit`. Either way one query (names of the people included)."""

    ids: tuple[int, ...] | None = None
    excluding_user_id: int | None = None
    subject: str | None = None
    limit: int | None = None


@dataclass(frozen=True)
class VerifiableKind:
    """A kind of entry a domain offers for verification. `verify(session, entry_id)` is the domain's
    verify service, run in the caller's unit of work; it raises Refused naming why it cannot."""

    key: str
    label: str
    permission: str
    entries: Callable[[Session, EntryQuery], list[Entry]]
    verify: Callable[[Session, int], None]


def register_kind(app, kind: VerifiableKind) -> None:
    """Called from a domain's init_app: the kind's permission must be a verification step of the table."""
    if verification_step(kind.permission) is None:
        raise ValueError(f"{kind.key}: {kind.permission} is no verification step (bank.verification.states)")
    registry = app.extensions.setdefault(REGISTRY, {})
    if kind.key in registry:
        raise ValueError(f"verifiable kind {kind.key} registered twice")
    registry[kind.key] = kind


def registry_of(app) -> dict[str, VerifiableKind]:
    return app.extensions.get(REGISTRY, {})


def kinds_for(registry: dict[str, VerifiableKind], permissions) -> list[VerifiableKind]:
    return [k for k in registry.values() if k.permission in permissions]


# ---- listing ------------------------------------------------------------------------------------


def awaiting_verification(
    session: Session,
    registry: dict[str, VerifiableKind],
    actor: Actor,
    *,
    kinds: Iterable[str] = (),
    subject: str | None = None,
    limit: int | None = None,
) -> list[Entry]:
    """Entries entered by others that `actor` may verify, oldest first: one query per kind, never one
    of the actor's own entries."""
    wanted = set(kinds)
    query = EntryQuery(excluding_user_id=actor.id, subject=(subject or "").strip() or None, limit=limit)
    found = [
        e
        for k in kinds_for(registry, actor.permissions)
        if not wanted or k.key in wanted
        for e in k.entries(session, query)
        if e.entered_by_id != actor.id and e.verified_at is None
    ]
    found.sort(key=lambda e: (e.entered_at, e.kind, e.entry_id))
    return found[:limit] if limit else found


def parse_keys(raw: Iterable[str]) -> tuple[list[tuple[str, int]], list[str]]:
    """`kind:id` keys (duplicates dropped, order kept) and the ones that cannot be read."""
    keys, bad = [], []
    for text in raw:
        kind, _, ident = str(text).partition(":")
        if not kind or not ident.isdigit() or len(text) > 60:
            bad.append(str(text)[:60])
        elif (kind, int(ident)) not in keys:
            keys.append((kind, int(ident)))
    return keys, bad


def entries_by_key(
    session: Session, registry: dict[str, VerifiableKind], keys: Iterable[tuple[str, int]]
) -> dict[str, Entry]:
    """The chosen entries, whatever their state (one query per kind); unknown kinds and ids are absent."""
    by_kind: dict[str, list[int]] = {}
    for kind, ident in keys:
        if kind in registry:
            by_kind.setdefault(kind, []).append(ident)
    found = {}
    for kind, ids in by_kind.items():
        for e in registry[kind].entries(session, EntryQuery(ids=tuple(ids))):
            found[e.key] = e
    return found


# ---- the act --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Chosen:
    """One entry the verifier chose, with the digest of the entry as it was shown to them."""

    kind: str
    entry_id: int
    digest: str

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.entry_id}"


def _name(entry: Entry) -> str:
    return f"{entry.title} ({entry.subject})"


def entry_problems(chosen: Chosen, kind: VerifiableKind | None, entry: Entry | None, actor) -> list[Problem]:
    """Why this entry cannot be verified by `actor` as it was shown (empty: it can)."""
    ref = chosen.key
    if kind is None:
        return [Problem("verify.unknown_kind", t("%(entry)s: no such kind of entry.", entry=ref), ref)]
    if kind.permission not in actor.permissions:
        return [
            Problem(
                "verify.permission",
                t("You may not verify a %(kind)s (%(entry)s).", kind=LowerCase(kind.label), entry=ref),
                ref,
            )
        ]
    if entry is None:
        return [
            Problem(
                "verify.not_found",
                t("%(kind)s %(entry)s does not exist.", kind=Text(kind.label), entry=ref),
                ref,
            )
        ]
    name, problems = _name(entry), []
    if entry.entered_by_id == actor.id:
        problems.append(
            Problem(
                "verify.four_eyes",
                t("You entered %(entry)s: a second person must verify it.", entry=name),
                ref,
            )
        )
    if entry.verified_at is not None:
        problems.append(Problem("verify.already", t("%(entry)s was verified meanwhile.", entry=name), ref))
    elif entry.digest != chosen.digest:
        problems.append(
            Problem(
                "verify.changed",
                t(
                    "%(entry)s changed since you opened it: check the new values and choose it again.",
                    entry=name,
                ),
                ref,
            )
        )
    return problems


def _domain_problems(session: Session, kind: VerifiableKind, entry: Entry) -> list[Problem]:
    """The domain's own verification, in a savepoint: refused, it leaves nothing behind."""
    try:
        with session.begin_nested():
            kind.verify(session, entry.entry_id)
    except Refused as e:
        name = _name(entry)
        said = "%(entry)s: %(why)s"  # the domain's own sentence, in the reader's language, after the entry
        return [
            Problem(p.rule_id, Text(said, {"entry": name, "why": p.message}), p.evidence) for p in e.problems
        ] + [
            Problem("verify.refused", Text(said, {"entry": name, "why": message}), entry.key)
            for message in e.errors.values()
        ]
    return []


def parse_chosen(values: Iterable[str]) -> list[Chosen]:
    """The entries of a posted act (`kind:id@digest`, duplicates dropped); unreadable ones are an input
    error of the field `entries`."""
    chosen, bad = [], []
    for text in values:
        key, _, digest = str(text).partition("@")
        keys, unreadable = parse_keys([key])
        if unreadable or len(digest) != 64 or any(ch not in "0123456789abcdef" for ch in digest):
            bad.append(str(text)[:80])
        elif all(c.key != key for c in chosen):
            chosen.append(Chosen(keys[0][0], keys[0][1], digest))
    if bad:
        raise Refused(
            {
                "entries": t(
                    "Cannot read these entries (kind:id@digest, as listed): %(entries)s",
                    entries=", ".join(bad),
                )
            }
        )
    return chosen


def act_content(rows: Iterable[tuple[str, int, str]]) -> dict:
    """What one verification signature signs: every entry (kind, id, digest of the entry verified)."""
    return {"verified_entries": sorted([kind, ident, digest] for kind, ident, digest in rows)}


def verify_entries(
    session: Session,
    registry: dict[str, VerifiableKind],
    signer: User,
    password: str,
    chosen: list[Chosen],
) -> list[VerificationRecord]:
    """Verify every chosen entry under one electronic signature (password re-entered, meaning from the
    workflow table), each getting its own verification record and its domain's verified_by/verified_at.
    Refused (nothing written) when any entry cannot be verified as it was shown, naming every reason."""
    actor = current_actor(session)
    if not chosen:
        raise Refused({"entries": t("Choose at least one entry to verify.")})
    if len(chosen) > MAX_PER_ACT:
        raise Refused({"entries": t("Verify at most %(count)s entries at once.", count=MAX_PER_ACT)})
    found = entries_by_key(session, registry, [(c.kind, c.entry_id) for c in chosen])
    problems = [p for c in chosen for p in entry_problems(c, registry.get(c.kind), found.get(c.key), actor)]
    if problems:
        raise Refused(problems=problems)
    meanings = {verification_step(registry[c.kind].permission).signature_meaning for c in chosen}
    if len(meanings) > 1:
        raise Refused.rule(
            "verify.meanings", t("These entries are verified with different meanings: sign them apart.")
        )
    for c in chosen:
        problems += _domain_problems(session, registry[c.kind], found[c.key])
    if problems:
        raise Refused(problems=problems)
    rows = [(c.kind, c.entry_id, c.digest) for c in chosen]
    sig = sign(session, signer, password, meanings.pop(), SIGNED_ENTITY, uuid.uuid4().hex, act_content(rows))
    now = utcnow()
    records = [
        VerificationRecord(
            kind=kind,
            entry_id=ident,
            entry_digest=digest,
            signature_id=sig.id,
            verified_by_id=signer.id,
            verified_at=now,
        )
        for kind, ident, digest in rows
    ]
    try:
        with session.begin_nested():
            session.add_all(records)
            session.flush()
    except IntegrityError:
        raise Refused.rule(
            "verify.concurrent",
            t("Someone verified one of these entries at the same moment: reload the list."),
        ) from None
    return records


# ---- showing a verification ----------------------------------------------------------------------


@dataclass(frozen=True)
class Verification:
    """An entry's verification: its record, the signature that verified it, and whether that signature
    still holds (the act's content unchanged and the entry still as it was verified)."""

    record: VerificationRecord
    signature: Signature
    valid: bool


def verifications_of(
    session: Session, registry: dict[str, VerifiableKind], kind: str, ids: Iterable[int]
) -> dict[int, Verification]:
    """The verification of each entry of `kind` among `ids` that has one (a fixed number of queries)."""
    ids = sorted({int(i) for i in ids})
    if not ids or kind not in registry:
        return {}
    records = list(
        session.scalars(
            select(VerificationRecord).where(
                VerificationRecord.kind == kind, VerificationRecord.entry_id.in_(ids)
            )
        )
    )
    if not records:
        return {}
    sig_ids = {r.signature_id for r in records}
    signatures = {s.id: s for s in session.scalars(select(Signature).where(Signature.id.in_(sig_ids)))}
    acts: dict[int, list[tuple[str, int, str]]] = {}
    for r in session.scalars(select(VerificationRecord).where(VerificationRecord.signature_id.in_(sig_ids))):
        acts.setdefault(r.signature_id, []).append((r.kind, r.entry_id, r.entry_digest))
    current = {e.entry_id: e.digest for e in registry[kind].entries(session, EntryQuery(ids=tuple(ids)))}
    return {
        r.entry_id: Verification(
            r,
            signatures[r.signature_id],
            signature_valid(signatures[r.signature_id], act_content(acts[r.signature_id]))
            and current.get(r.entry_id) == r.entry_digest,
        )
        for r in records
    }
