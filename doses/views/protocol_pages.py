"""Protocol pages: the list of trial protocols (versions) and one protocol's route, dose rule, schedule,
blinding, sites and enrolment checklist; the randomisation list import (unblinded users only)."""

from __future__ import annotations

from flask import redirect, render_template, url_for
from sqlalchemy import or_, select

from bank.i18n import N_, localize, t
from bank.languages import flash
from bank.lists import Export, SortColumn, listed, shown_status
from bank.web import LIKE_ESCAPE, db, get_or_404, like_pattern, posted, requires, text_arg
from doses import services
from doses.blueprint import bp, ensure_protocols
from doses.forms import RandomisationForm
from doses.models import ProtocolVersion

PROTOCOL_COLUMNS = (
    SortColumn("protocol", N_("Protocol"), ProtocolVersion.code),
    SortColumn("version", N_("Version"), ProtocolVersion.version),
    SortColumn("status", N_("Status"), ProtocolVersion.status),
)
ORIGIN_WORDS = {"autologous": N_("autologous"), "allogeneic": N_("allogeneic")}


def _exported(row: ProtocolVersion) -> tuple:
    """A protocol in the CSV export: the columns the list shows, as it shows them."""
    p = row.protocol()
    origin = p.origin.value
    return (
        row.code,
        row.version,
        localize(p.title),
        p.route.value,
        localize(ORIGIN_WORDS[origin]) if origin in ORIGIN_WORDS else origin,
        p.number_of_doses,
        localize(t("blinded") if p.blinded else t("open-label")),
        shown_status(row.status),
    )


PROTOCOL_EXPORT = Export(
    "protocols.csv",
    ("protocol", "version", "title", "route", "origin", "doses", "design", "status"),
    _exported,
)


@bp.route("/protocols")
@requires("protocol.view")
def protocols():
    ensure_protocols()
    q = text_arg("q")
    stmt = select(ProtocolVersion).order_by(ProtocolVersion.code, ProtocolVersion.id)
    if q:
        stmt = stmt.where(
            or_(
                ProtocolVersion.code.ilike(like_pattern(q), escape=LIKE_ESCAPE),
                ProtocolVersion.definition.ilike(like_pattern(q), escape=LIKE_ESCAPE),
            )
        )
    order, page = listed(stmt, PROTOCOL_COLUMNS, ProtocolVersion.id, PROTOCOL_EXPORT)
    return render_template("doses/protocols.html", page=page, q=q, sorting=order)


@bp.route("/protocols/<int:protocol_id>")
@requires("protocol.view")
def protocol(protocol_id: int):
    row = get_or_404(ProtocolVersion, protocol_id)
    return render_template(
        "doses/protocol.html", row=row, p=row.protocol(), versions=services.protocol_versions(db(), row.code)
    )


@bp.route("/protocols/<int:protocol_id>/randomisation", methods=["GET", "POST"])
@requires("unblinded")
def randomisation(protocol_id: int):
    """Import the randomisation list of a blinded protocol (all or nothing; only unblinded users)."""
    row = get_or_404(ProtocolVersion, protocol_id)
    form = RandomisationForm()
    file = form.file.data
    done = posted(
        form,
        lambda: services.import_randomisation(
            db(), row, file.filename or "list.csv", file.read(services.randomisation_max_bytes() + 1)
        ),
        f"randomisation list imported for {row.code}",
    )
    if done.ok:
        imported = done.value
        flash(
            t("%(count)s subject(s) imported from %(file)s.", count=imported.rows, file=imported.filename),
            "success",
        )
        return redirect(url_for("doses.randomisation", protocol_id=row.id))
    return render_template(
        "doses/randomisation.html",
        row=row,
        p=row.protocol(),
        form=form,
        imports=services.imports_of(db(), row.code),
    ), 200 if not (form.errors or form.form_errors) else 422
