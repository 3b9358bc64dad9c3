"""The verification API: the entries awaiting the token owner's verification (each with the digest to
sign), and the act verifying several of them under one signature (password in the body)."""

from __future__ import annotations

from flask import current_app, jsonify, request

from bank.api import api_route, api_user, api_write, object_schema, of_type
from bank.permissions import ENTRY_VERIFY
from bank.verification import services
from bank.verification.forms import VerifyEntriesApiForm
from bank.web import actor, db

ENTRY_SCHEMA = object_schema(
    **of_type("string", "key", "digest", "kind", "title", "subject", "entered_by"),
    id="integer",
    values={"type": "object", "additionalProperties": {"type": "string"}},
    entered_at={"type": "string", "format": "date-time"},
)


def entry_json(e: services.Entry) -> dict:
    return {
        "key": e.key,
        "digest": e.digest,
        "kind": e.kind,
        "id": e.entry_id,
        "title": e.title,
        "subject": e.subject,
        "values": dict(e.values),
        "entered_by": e.entered_by,
        "entered_at": e.entered_at.isoformat(),
    }


@api_route(
    "/verification/entries",
    permission=ENTRY_VERIFY,
    summary="Entries entered by others awaiting your verification, oldest first (at most 1,000); verify "
    "one by posting `key@digest`",
    query={"kind": {"type": "string", "maxLength": 40}, "subject": {"type": "string", "maxLength": 40}},
    response={"type": "object", "properties": {"items": {"type": "array", "items": ENTRY_SCHEMA}}},
)
def verification_entries():
    kind = request.args.get("kind", "")[:40]
    found = services.awaiting_verification(
        db(),
        services.registry_of(current_app),
        actor(),
        kinds=[kind] if kind else (),
        subject=request.args.get("subject", "")[:40],
        limit=1000,
    )
    return jsonify({"items": [entry_json(e) for e in found]})


@api_write(
    "/verification/verify",
    form=VerifyEntriesApiForm,
    permission=ENTRY_VERIFY,
    reason="entries verified",
    status=200,
    summary="Verify several entries with one electronic signature (meaning 'Verified'): each entry as "
    "`kind:id@digest` from the list, your password re-entered; any refused entry refuses them all",
)
def verification_verify(form: VerifyEntriesApiForm) -> dict:
    records = services.verify_entries(
        db(),
        services.registry_of(current_app),
        api_user(),
        form.signature_password.data,
        services.parse_chosen(form.entries.data),
    )
    return {
        "verified": [f"{r.kind}:{r.entry_id}" for r in records],
        "signature_id": records[0].signature_id,
        "verified_at": records[0].verified_at.isoformat(),
    }
