"""The donor list, registration, registry edits, the harvest date and a look-back started by QA."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from bank.forms import entered
from bank.i18n import N_
from bank.languages import flash
from bank.lists import Export, SortColumn, by_status, listed
from bank.web import (
    LIKE_ESCAPE,
    attempt,
    can,
    db,
    get_or_404,
    like_pattern,
    posted,
    requires,
    submitted,
    text_arg,
)
from donors import forms, services
from donors.blueprint import bp
from donors.models import Donor
from donors.states import DONOR_STATUSES


def form_page(form, title: str, donor: Donor | None = None, submit: str | None = None, intro: str = ""):
    return render_template(
        "donors/form.html", form=form, title=title, donor=donor, submit=submit or _("Save"), intro=intro
    )


DONOR_COLUMNS = (
    SortColumn("code", N_("Code"), Donor.code),
    SortColumn("status", N_("Status"), Donor.status),
    SortColumn("born", N_("Born"), Donor.birth_date),
    SortColumn("harvest", N_("Harvest"), Donor.harvest_date),
    SortColumn("registered", N_("Registered"), Donor.created_at),
)
DONOR_EXPORT = Export(  # the columns the list shows, every row of the list as filtered
    "donors.csv",
    ("code", "status", "under_lookback", "autologous", "sex", "born", "harvest", "registered_utc"),
    lambda d: (
        d.code,
        d.status,
        d.under_lookback,
        d.is_autologous,
        d.sex,
        d.birth_date,
        d.harvest_date,
        d.created_at,
    ),
)


@bp.route("/")
@requires("donor.view")
def index():
    q = text_arg("q")
    stmt = select(Donor).order_by(Donor.id.desc())
    if q:
        # Codes are upper case (DN-2024-0001): LIKE on the upper-cased query finds the same donors as ILIKE
        # at half the cost on PostgreSQL (ILIKE folds case on every row it scans).
        stmt = stmt.where(Donor.code.like(like_pattern(q.upper()), escape=LIKE_ESCAPE))
    stmt, status = by_status(stmt, Donor.status, DONOR_STATUSES)
    if status == "lookback":  # not a status: the donors under look-back, whatever their status
        stmt = stmt.where(Donor.under_lookback.is_(True))
    # Newest first pages by key; another order chosen in a header pages by OFFSET.
    order, page = listed(stmt, DONOR_COLUMNS, Donor.id, DONOR_EXPORT, keyset=Donor.id)
    return render_template(
        "donors/index.html", page=page, q=q, status=status, statuses=DONOR_STATUSES, sorting=order
    )


@bp.route("/new", methods=["GET", "POST"])
@requires("donor.edit")
def register():
    form = forms.RegisterDonorForm()
    if not can("donor.identify"):
        del form.full_name
    # The form's fields are named as the service's parameters (the name only for those who may see it).
    done = posted(form, lambda: services.register_donor(db(), **entered(form)), "donor registered")
    if done.ok:
        flash(_("Donor %(code)s registered.", code=done.value.code), "success")
        return redirect(url_for("donors.show", donor_id=done.value.id))
    return form_page(form, _("Register a donor"), submit=_("Register donor"))


@bp.route("/<int:donor_id>/edit", methods=["GET", "POST"])
@requires("donor.edit")
def edit(donor_id: int):
    donor = get_or_404(Donor, donor_id)
    identity = services.identity_of(db(), donor)
    form = forms.EditDonorForm(obj=donor if request.method == "GET" else None)
    if request.method == "GET":
        form.version.data = str(donor.version)
        form.full_name.data = identity.full_name if identity else ""
    if not can("donor.identify"):
        del form.full_name

    def update():
        fields = entered(form, "version", "reason", "full_name")  # the rest are the service's parameters
        services.update_donor(db(), donor, version, **fields)
        new_name = (form.full_name.data or "").strip() if "full_name" in form else ""
        if new_name and new_name != (identity.full_name if identity else ""):
            services.set_identity(db(), donor, new_name)

    if form.validate_on_submit():
        try:
            version = int(form.version.data or -1)
        except ValueError:
            abort(400)
        if attempt(form, update, form.reason.data).ok:
            flash(_("Donor %(code)s updated.", code=donor.code), "success")
            return redirect(url_for("donors.show", donor_id=donor.id))
    return form_page(form, _("Edit donor %(code)s", code=donor.code), donor)


@bp.route("/<int:donor_id>/harvest", methods=["GET", "POST"])
@requires("donor.edit")
def harvest(donor_id: int):
    donor = get_or_404(Donor, donor_id)
    form = forms.HarvestDateForm(data={"harvest_date": donor.harvest_date})
    if submitted(
        form, lambda: services.set_harvest_date(db(), donor, form.harvest_date.data), "harvest date recorded"
    ):
        return redirect(url_for("donors.show", donor_id=donor.id))
    intro = _("Normally set when the harvest is recorded on the lot; the serology window counts from it.")
    return form_page(form, _("Harvest date of %(code)s", code=donor.code), donor, intro=intro)


@bp.route("/<int:donor_id>/lookback", methods=["GET", "POST"])
@requires("donor.determine")
def lookback(donor_id: int):
    donor = get_or_404(Donor, donor_id)
    form = forms.LookbackForm()
    if submitted(form, lambda: services.start_lookback(db(), donor, form.reason.data), form.reason.data):
        flash(
            _("Donor %(code)s is under look-back: everything derived from it is held.", code=donor.code),
            "warning",
        )
        return redirect(url_for("donors.show", donor_id=donor.id))
    intro = _(
        "Every lot and container derived from this donor will be held; an eligible donor becomes "
        "ineligible. This cannot be undone here."
    )
    title = _("Start a look-back on %(code)s", code=donor.code)
    return form_page(form, title, donor, submit=_("Start look-back"), intro=intro)
