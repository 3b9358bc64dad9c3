"""HTTP views of the donors domain: registry, screening entries, determination, look-back.

Thin: form -> service -> redirect; every refusal is shown next to its field and writes nothing.
"""

from __future__ import annotations

import click
from flask import Blueprint, Flask, abort, current_app, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from bank.esign import SignatureError
from bank.status import TransitionRefused
from bank.uow import Actor, unit_of_work
from bank.web import apply_errors, can, db, get_or_404, paginate, requires, work
from donors import forms, services
from donors.criteria_sets import CriteriaError, active_version, ensure_seed_criteria, parse
from donors.determination import sign_determination
from donors.entries import record_medication, record_serology, void_entry
from donors.models import DONOR_STATUSES, Donor, MedicationCourse, ScreeningAnswer, SerologyTest
from donors.validation import DonorError

bp = Blueprint("donors", __name__, url_prefix="/donors")
SEED_ACTOR = Actor(None, "system (donor criteria seed)")
VOIDABLE = {"answer": ScreeningAnswer, "medication": MedicationCourse, "serology": SerologyTest}


def init_app(app: Flask) -> None:
    from donors import api, criteria_views, screening_views  # noqa: F401  (register their routes)

    app.register_blueprint(bp)
    app.extensions["bank.nav"].append(("Donors", "donors.index", "donor.view"))

    @app.cli.command("donor-criteria-seed")
    def seed_command():
        """Store and activate the seed criteria set "SSc adipose donor v1" unless a version exists."""
        session = current_app.extensions["bank.sessions"]()
        try:
            with unit_of_work(session, SEED_ACTOR, "seed criteria set"):
                row = ensure_seed_criteria(session)
            click.echo(f"Active donor criteria set: {row.label}")
        finally:
            session.close()


def active_criteria():
    """The active criteria version, seeding "SSc adipose donor v1" on first use of an empty database."""
    row = active_version(db())
    if row is None:
        with unit_of_work(db(), SEED_ACTOR, "seed criteria set on first use"):
            row = ensure_seed_criteria(db())
    return row


def refuse(form, error: Exception) -> None:
    """Put a service refusal on the form: field errors next to fields, the rest on top."""
    if isinstance(error, (DonorError, CriteriaError)):
        apply_errors(form, error.errors)
    elif isinstance(error, SignatureError):
        form.signature_password.errors = [str(error)]
    elif isinstance(error, TransitionRefused):
        form.form_errors.extend(error.problems)


def form_page(form, title: str, donor: Donor | None = None, submit: str = "Save", intro: str = ""):
    return render_template("donors/form.html", form=form, title=title, donor=donor, submit=submit, intro=intro)


@bp.route("/")
@requires("donor.view")
def index():
    q = request.args.get("q", "").strip()[:40]
    status = request.args.get("status", "")
    stmt = select(Donor).order_by(Donor.id.desc())
    if q:
        # Codes are upper case (DN-2024-0001): LIKE on the upper-cased query finds the same donors as ILIKE
        # at half the cost on PostgreSQL (ILIKE folds case on every row it scans).
        stmt = stmt.where(Donor.code.like(f"%{q.upper()}%"))
    if status in DONOR_STATUSES:
        stmt = stmt.where(Donor.status == status)
    elif status == "lookback":
        stmt = stmt.where(Donor.under_lookback.is_(True))
    return render_template("donors/index.html", page=paginate(stmt, keyset=Donor.id), q=q, status=status,
                           statuses=DONOR_STATUSES)


@bp.route("/new", methods=["GET", "POST"])
@requires("donor.edit")
def register():
    form = forms.RegisterDonorForm()
    if not can("donor.identify"):
        del form.full_name
    if form.validate_on_submit():
        try:
            with work("donor registered"):
                donor = services.register_donor(
                    db(), sex=form.sex.data, birth_date=form.birth_date.data, weight_kg=form.weight_kg.data,
                    height_cm=form.height_cm.data, consent_version=form.consent_version.data,
                    consent_date=form.consent_date.data, is_autologous=form.is_autologous.data,
                    full_name=form.full_name.data if "full_name" in form else None)
        except DonorError as e:
            refuse(form, e)
        else:
            flash(f"Donor {donor.code} registered.", "success")
            return redirect(url_for("donors.show", donor_id=donor.id))
    return form_page(form, "Register a donor", submit="Register donor")


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
    if form.validate_on_submit():
        try:
            version = int(form.version.data or -1)
        except ValueError:
            abort(400)
        try:
            with work(form.reason.data):
                services.update_donor(
                    db(), donor, version, sex=form.sex.data, birth_date=form.birth_date.data,
                    weight_kg=form.weight_kg.data, height_cm=form.height_cm.data,
                    consent_version=form.consent_version.data, consent_date=form.consent_date.data,
                    is_autologous=form.is_autologous.data, hbc_risk_assessment=form.hbc_risk_assessment.data)
                new_name = (form.full_name.data or "").strip() if "full_name" in form else ""
                if new_name and new_name != (identity.full_name if identity else ""):
                    services.set_identity(db(), donor, new_name)
        except DonorError as e:
            refuse(form, e)
        else:
            flash(f"Donor {donor.code} updated.", "success")
            return redirect(url_for("donors.show", donor_id=donor.id))
    return form_page(form, f"Edit donor {donor.code}", donor)


@bp.route("/<int:donor_id>/harvest", methods=["GET", "POST"])
@requires("donor.edit")
def harvest(donor_id: int):
    donor = get_or_404(Donor, donor_id)
    form = forms.HarvestDateForm(data={"harvest_date": donor.harvest_date})
    if form.validate_on_submit():
        try:
            with work("harvest date recorded"):
                services.set_harvest_date(db(), donor, form.harvest_date.data)
        except DonorError as e:
            refuse(form, e)
        else:
            return redirect(url_for("donors.show", donor_id=donor.id))
    intro = "Normally set when the harvest is recorded on the lot; the serology window counts from it."
    return form_page(form, f"Harvest date of {donor.code}", donor, intro=intro)


@bp.route("/<int:donor_id>/medications/new", methods=["GET", "POST"])
@requires("donor.edit")
def add_medication(donor_id: int):
    donor = get_or_404(Donor, donor_id)
    form = forms.MedicationForm()
    form.kind.choices = [(k, k) for k in parse(active_criteria()).medication_kinds]
    if form.validate_on_submit():
        try:
            with work("medication recorded"):
                record_medication(db(), donor, form.kind.data, form.name.data, form.start_date.data,
                                  form.stop_date.data)
        except DonorError as e:
            refuse(form, e)
        else:
            return redirect(url_for("donors.show", donor_id=donor.id) + "#medications")
    return form_page(form, f"Medication course for {donor.code}", donor, submit="Record course")


@bp.route("/<int:donor_id>/serology/new", methods=["GET", "POST"])
@requires("donor.edit")
def add_serology(donor_id: int):
    donor = get_or_404(Donor, donor_id)
    form = forms.SerologyForm()
    form.marker.choices = [("", "—")] + [(m.marker, m.name) for m in parse(active_criteria()).markers]
    if form.validate_on_submit():
        try:
            with work("serology result recorded"):
                record_serology(db(), donor, marker=form.marker.data, method=form.method.data,
                                kit=form.kit.data, kit_lot=form.kit_lot.data, sample_date=form.sample_date.data,
                                test_date=form.test_date.data, result=form.result.data)
        except DonorError as e:
            refuse(form, e)
        else:
            return redirect(url_for("donors.show", donor_id=donor.id) + "#serology")
    return form_page(form, f"Serology result for {donor.code}", donor, submit="Record result")


@bp.route("/<int:donor_id>/void/<kind>/<int:entry_id>", methods=["GET", "POST"])
@requires("donor.edit")
def void(donor_id: int, kind: str, entry_id: int):
    donor = get_or_404(Donor, donor_id)
    if kind not in VOIDABLE:
        abort(404)
    entry = get_or_404(VOIDABLE[kind], entry_id)
    if entry.donor_id != donor.id:
        abort(404)
    form = forms.VoidForm()
    if form.validate_on_submit():
        try:
            with work(form.reason.data):
                void_entry(db(), entry, form.reason.data)
        except DonorError as e:
            refuse(form, e)
        else:
            flash(f"The {kind} entry was voided.", "success")
            return redirect(url_for("donors.show", donor_id=donor.id))
    return form_page(form, f"Void a {kind} entry of {donor.code}", donor, submit="Void entry")


@bp.route("/<int:donor_id>/determination", methods=["GET", "POST"])
@requires("donor.determine")
def sign(donor_id: int):
    donor = get_or_404(Donor, donor_id)
    row = active_criteria()
    form = forms.SignDeterminationForm()
    if form.validate_on_submit():
        try:
            with work(form.comment.data):
                sign_determination(db(), donor, g.user, form.signature_password.data, form.decision.data,
                                   form.comment.data)
        except (TransitionRefused, SignatureError) as e:
            refuse(form, e)
        else:
            flash(f"Determination signed: donor {donor.code} is {donor.status}.", "success")
            return redirect(url_for("donors.show", donor_id=donor.id))
    return render_template("donors/sign.html", form=form, donor=donor, criteria=row,
                           det=services.evaluate(db(), donor, row))


@bp.route("/<int:donor_id>/lookback", methods=["GET", "POST"])
@requires("donor.determine")
def lookback(donor_id: int):
    donor = get_or_404(Donor, donor_id)
    form = forms.LookbackForm()
    if form.validate_on_submit():
        try:
            with work(form.reason.data):
                services.start_lookback(db(), donor, form.reason.data)
        except (DonorError, TransitionRefused) as e:
            refuse(form, e)
        else:
            flash(f"Donor {donor.code} is under look-back: everything derived from it is held.", "warning")
            return redirect(url_for("donors.show", donor_id=donor.id))
    intro = ("Every lot and container derived from this donor will be held; an eligible donor becomes "
             "ineligible. This cannot be undone here.")
    return form_page(form, f"Start a look-back on {donor.code}", donor, submit="Start look-back", intro=intro)
