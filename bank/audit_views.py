"""Audit trail viewer: filter by record, user and date; print; export CSV (21 CFR 11.10(b), (e))."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, time, timedelta

from flask import Blueprint, Response, render_template, request
from sqlalchemy import select

from bank.forms import AuditFilterForm
from bank.models import AuditEntry, User
from bank.web import db, paginate, requires

bp = Blueprint("audit", __name__, url_prefix="/audit")


def _filtered(form: AuditFilterForm):
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc())
    if form.entity.data:
        stmt = stmt.where(AuditEntry.entity == form.entity.data.strip())
    if form.entity_id.data:
        stmt = stmt.where(AuditEntry.entity_id == form.entity_id.data.strip())
    if form.user.data:
        try:
            stmt = stmt.where(AuditEntry.actor_id == int(form.user.data))
        except ValueError:
            form.user.errors = ["unknown user"]
    if form.date_from.data:
        stmt = stmt.where(AuditEntry.at >= datetime.combine(form.date_from.data, time.min, UTC))
    if form.date_to.data:
        stmt = stmt.where(
            AuditEntry.at < datetime.combine(form.date_to.data + timedelta(days=1), time.min, UTC)
        )
    return stmt


def _form() -> AuditFilterForm:
    form = AuditFilterForm(request.args)
    form.user.choices = [("", "Anyone")] + [
        (str(u.id), f"{u.full_name} ({u.username})")
        for u in db().scalars(select(User).order_by(User.username))
    ]
    form.validate()
    return form


@bp.route("/")
@requires("audit.view")
def index():
    form = _form()
    page = paginate(_filtered(form), per_page=50, keyset=AuditEntry.id)  # ~1M rows: no OFFSET
    rows = [(e, json.loads(e.changes)) for e in page.items]
    return render_template("audit/index.html", form=form, page=page, rows=rows)


@bp.route("/export.csv")
@requires("audit.view")
def export_csv():
    form = _form()
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(
        [
            "id",
            "at_utc",
            "actor",
            "action",
            "record",
            "record_id",
            "field",
            "old",
            "new",
            "reason",
            "row_hash",
        ]
    )
    for e in db().scalars(_filtered(form).limit(100_000)):
        changes = json.loads(e.changes) or {"": [None, None]}
        for field, (old, new) in changes.items():
            writer.writerow(
                [
                    e.id,
                    e.at.isoformat(),
                    e.actor_name,
                    e.action,
                    e.entity,
                    e.entity_id,
                    field,
                    "" if old is None else old,
                    "" if new is None else new,
                    e.reason or "",
                    e.row_hash,
                ]
            )
    return Response(
        buf.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=audit-trail.csv"},
    )
