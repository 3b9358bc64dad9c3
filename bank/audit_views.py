"""Audit trail viewer for people: filter by record type (in plain words), record (with its children),
user and date; referenced records by name, local time to the second, sign-ins worded as such; the CSV
and the PDF say exactly what the screen shows (21 CFR 11.10(b), (e); EU GMP Annex 11 §9)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from flask import Blueprint, Response, current_app, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from bank import pdf
from bank.audit_records import RECORD_TYPES, ShownRow, record_condition, shown_rows, typed_record_id
from bank.audit_review import REVIEWED_MEANING, reviews, sign_review
from bank.clock import utcnow
from bank.forms import AuditFilterForm, AuditReviewForm
from bank.i18n import N_, localize
from bank.languages import flash, local_time
from bank.lists import SortColumn, csv_download, sorting, wants_csv
from bank.models import AuditEntry, User
from bank.web import db, paginate, requires, submitted

bp = Blueprint("audit", __name__, url_prefix="/audit")

CSV_LIMIT = 100_000
PDF_LIMIT = 2_000  # a printout of more rows than this is not read: narrow the filter


def _filtered(form: AuditFilterForm):
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc())
    entity, entity_id = (form.entity.data or "").strip(), (form.entity_id.data or "").strip()
    if entity and entity_id:
        entity_id = typed_record_id(db(), entity, entity_id)
        stmt = stmt.where(record_condition(entity, entity_id, with_children=not form.own_only.data))
    elif entity:
        stmt = stmt.where(AuditEntry.entity == entity)
    elif entity_id:
        stmt = stmt.where(AuditEntry.entity_id == entity_id)
    if form.user.data:
        try:
            stmt = stmt.where(AuditEntry.actor_id == int(form.user.data))
        except ValueError:
            form.user.errors = [_("Unknown user.")]
    if form.date_from.data:
        stmt = stmt.where(AuditEntry.at >= datetime.combine(form.date_from.data, time.min, UTC))
    if form.date_to.data:
        stmt = stmt.where(
            AuditEntry.at < datetime.combine(form.date_to.data + timedelta(days=1), time.min, UTC)
        )
    return stmt


def _form() -> AuditFilterForm:
    form = AuditFilterForm(request.args)
    types = sorted(
        ((table, localize(label)) for table, label in RECORD_TYPES.items()), key=lambda x: x[1].lower()
    )
    form.entity.choices = [("", _("Any record type"))] + types
    form.user.choices = [("", _("Anyone"))] + [
        (str(u.id), f"{u.full_name} ({u.username})")
        for u in db().scalars(select(User).order_by(User.username))
    ]
    form.validate()
    return form


def _columns() -> list[str]:
    return [
        _("#"),
        _("When"),
        _("Who"),
        _("Action"),
        _("Record"),
        _("Changes (field: old → new)"),
        _("Reason"),
    ]


def _changes_text(row: ShownRow) -> str:
    return "\n".join(f"{c.field}: {c.old} → {c.new}" for c in row.changes)


def _cells(row: ShownRow) -> list[str]:
    return [
        str(row.id),
        local_time(row.at, True),
        row.who,
        row.action,
        row.record,
        _changes_text(row),
        row.reason,
    ]


# The trail is append-only and long: it sorts by its key only (oldest or newest first), which costs what
# the list's own order costs; newest first keeps the pages by key.
AUDIT_COLUMNS = (SortColumn("when", N_("When"), AuditEntry.id),)


def _ordered(form: AuditFilterForm):
    return sorting(*AUDIT_COLUMNS).apply(_filtered(form), AuditEntry.id)


@bp.route("/")
@requires("audit.view")
def index():
    form = _form()
    if wants_csv():
        return export_csv()
    order = sorting(*AUDIT_COLUMNS)
    stmt = order.apply(_filtered(form), AuditEntry.id)
    # ~1M rows: newest first pages by key (no OFFSET); oldest first is the same index read the other way.
    page = paginate(stmt, per_page=50, keyset=AuditEntry.id if order.default else None)
    return render_template(
        "audit/index.html", form=form, page=page, rows=shown_rows(db(), list(page.items)), sorting=order
    )


@bp.route("/export.csv")
@requires("audit.view")
def export_csv():
    form = _form()
    entries = list(db().scalars(_ordered(form).limit(CSV_LIMIT)))
    rows = (
        _cells(row)
        for start in range(0, len(entries), 500)  # names are looked up once per 500 rows
        for row in shown_rows(db(), entries[start : start + 500])
    )
    return csv_download("audit-trail.csv", _columns(), rows)


@bp.route("/export.pdf")
@requires("audit.view")
def export_pdf():
    form = _form()
    entries = list(db().scalars(_ordered(form).limit(PDF_LIMIT + 1)))
    cut = len(entries) > PDF_LIMIT
    entries = entries[:PDF_LIMIT]
    rows = shown_rows(db(), entries)
    shown_filter = [
        (label, value)
        for label, value in (
            (
                _("Record type"),
                dict(form.entity.choices).get(form.entity.data, "") if form.entity.data else "",
            ),
            (_("Record number"), form.entity_id.data or ""),
            (_("User"), dict(form.user.choices).get(form.user.data, "") if form.user.data else ""),
            (_("From"), str(form.date_from.data or "")),
            (_("To"), str(form.date_to.data or "")),
        )
        if value
    ]
    if form.entity.data and form.entity_id.data and not form.own_only.data:
        shown_filter.append((_("Children"), _("included")))
    if cut:
        shown_filter.append((_("Rows"), _("the first %(count)s only: narrow the filter", count=PDF_LIMIT)))
    # The digest covers the stored rows (their hashes) and the filter, never the words of one language.
    content = {
        "document": "Audit trail",
        "filter": {
            k: request.args.get(k, "")
            for k in ("entity", "entity_id", "own_only", "user", "date_from", "date_to")
        },
        "rows": [[e.id, e.row_hash] for e in entries],
    }
    document = pdf.Document(
        title=_("Audit trail"),
        facility=current_app.config["FACILITY_NAME"],
        sections=[
            pdf.KeyValueSection(_("Filter"), shown_filter or [(_("Filter"), _("none: every record"))]),
            pdf.TableSection(
                _("Audit rows"),
                # Vera, the PDF kit's font, has no arrow glyph.
                [c.replace("→", "->") for c in _columns()],
                [[cell.replace("→", "->") for cell in _cells(row)] for row in rows],
                widths=[0.5, 1.3, 1.3, 1.0, 1.4, 2.6, 1.2],
                empty_text=_("No audit row matches the filter."),
            ),
        ],
        content=content,
        printed_at=utcnow(),
    )
    return Response(
        pdf.build_document(document),
        mimetype="application/pdf",
        headers={"Content-Disposition": 'inline; filename="audit-trail.pdf"'},
    )


@bp.route("/reviews", methods=["GET", "POST"])
@requires("audit.review")
def review():
    """The periodic audit-trail reviews and a new one: QA reads the period's rows in the viewer, writes
    the findings and signs (EU GMP Annex 11 §9)."""
    form = AuditReviewForm()
    if submitted(
        form,
        lambda: sign_review(
            db(),
            g.user,
            form.signature_password.data,
            form.period_from.data,
            form.period_to.data,
            form.findings.data or "",
        ),
        "audit trail reviewed",
    ):
        flash(_("Audit-trail review signed."), "success")
        return redirect(url_for("audit.review"))
    return render_template("audit/reviews.html", form=form, reviews=reviews(db()), meaning=REVIEWED_MEANING)
