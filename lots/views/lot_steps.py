"""Bench steps and status actions on one lot: isolation, passages, verification, formulation,
submission for QC, hold and quarantine, deviations."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, url_for

from bank.esign import SignatureError
from bank.forms import ConfirmForm
from bank.refusals import Refused
from bank.status import TransitionRefused
from bank.web import apply_errors, db, get_or_404, requires, show_refusal, work
from lots import services
from lots.forms import (
    CloseDeviationForm,
    DeviationForm,
    FormulationForm,
    IsolationForm,
    LiftHoldForm,
    PassageForm,
    ReasonForm,
)
from lots.models import Deviation, Isolation, Lot, Passage
from lots.views.blueprints import as_utc, bp, offer_materials, problems_of


def _back(lot: Lot):
    return redirect(url_for("lots.show", lot_id=lot.id))


def _flash_problems(error, heading: str) -> None:
    flash(heading + " " + " ".join(problems_of(error)), "danger")


@bp.route("/<int:lot_id>/isolation", methods=["GET", "POST"])
@requires("lot.edit")
def isolation(lot_id: int):
    lot = get_or_404(Lot, lot_id)
    form = IsolationForm()
    offer_materials(form)
    if form.validate_on_submit():
        try:
            with work("isolation recorded"):
                services.record_isolation(db(), lot, cell_count=form.cell_count.data,
                                          viability_pct=form.viability_pct.data, isolated_on=form.isolated_on.data,
                                          operator=form.operator.data or "", material_lot_ids=form.material_lot_ids.data)
        except services.LotError as e:
            apply_errors(form, e.errors)
        else:
            flash("Isolation recorded. A second person must verify the count and viability.", "success")
            return _back(lot)
    return render_template("lots/form.html", form=form, lot=lot, title=f"Isolation · lot {lot.din}")


@bp.route("/<int:lot_id>/passages/new", methods=["GET", "POST"])
@requires("lot.edit")
def new_passage(lot_id: int):
    lot = get_or_404(Lot, lot_id)
    form = PassageForm()
    offer_materials(form)
    if form.validate_on_submit():
        try:
            with work("passage recorded"):
                p = services.record_passage(
                    db(), lot, seeded_cells=form.seeded_cells.data, harvested_cells=form.harvested_cells.data,
                    viability_pct=form.viability_pct.data, vessels=form.vessels.data, seeded_on=form.seeded_on.data,
                    harvested_on=form.harvested_on.data, operator=form.operator.data or "",
                    material_lot_ids=form.material_lot_ids.data)
        except services.LotError as e:
            apply_errors(form, e.errors)
        else:
            flash(f"P{p.number} recorded (PD {p.population_doublings:.2f}). It counts once a second person "
                  "verifies it.", "success")
            return _back(lot)
    limits = lot.product_type
    return render_template("lots/form.html", form=form, lot=lot, title=f"Passage · lot {lot.din}",
                           intro=f"Limits of {limits.key} v{limits.version}: up to P{limits.max_passage}, "
                                 f"cumulative PD ≤ {limits.max_cumulative_pd:g}.")


def _verify(entry, lot: Lot, what: str):
    if ConfirmForm().validate_on_submit():
        try:
            with work(f"{what} verified"):
                services.verify_entry(db(), entry)
        except services.LotError as e:
            _flash_problems(e, f"{what.capitalize()} not verified:")
        else:
            flash(f"{what.capitalize()} verified.", "success")
    return _back(lot)


@bp.route("/isolations/<int:entry_id>/verify", methods=["POST"])
@requires("lot.verify")
def verify_isolation(entry_id: int):
    entry = get_or_404(Isolation, entry_id)
    return _verify(entry, db().get(Lot, entry.lot_id), "isolation")


@bp.route("/passages/<int:entry_id>/verify", methods=["POST"])
@requires("lot.verify")
def verify_passage(entry_id: int):
    entry = get_or_404(Passage, entry_id)
    return _verify(entry, db().get(Lot, entry.lot_id), f"P{entry.number}")


@bp.route("/<int:lot_id>/formulate", methods=["GET", "POST"])
@requires("lot.edit")
def formulate(lot_id: int):
    lot = get_or_404(Lot, lot_id)
    form = FormulationForm()
    offer_materials(form)
    if form.validate_on_submit():
        try:
            with work("formulation and cryopreservation"):
                made = services.formulate_containers(
                    db(), lot, n_containers=form.n_containers.data, container_type=form.container_type.data,
                    cells_per_container=form.cells_per_container.data, volume_ml=form.volume_ml.data,
                    cryoprotectant=form.cryoprotectant.data or "", frozen_at=as_utc(form.frozen_at.data),
                    material_lot_ids=form.material_lot_ids.data)
        except services.LotError as e:
            apply_errors(form, e.errors)
        except Refused as e:  # a placebo that would not match a blinded protocol's active product
            show_refusal(form, e)
        else:
            flash(f"{len(made)} containers formulated ({made[0].division}–{made[-1].division}). "
                  "Store them in a box next.", "success")
            return _back(lot)
    return render_template("lots/form.html", form=form, lot=lot, title=f"Formulation · lot {lot.din}")


@bp.route("/<int:lot_id>/submit", methods=["POST"])
@requires("lot.edit")
def submit(lot_id: int):
    lot = get_or_404(Lot, lot_id)
    if ConfirmForm().validate_on_submit():
        try:
            with work("submitted for QC"):
                services.submit_for_qc(db(), lot)
        except TransitionRefused as e:
            _flash_problems(e, "Not submitted for QC:")
        else:
            flash(f"Lot {lot.din} is awaiting QC.", "success")
    return _back(lot)


@bp.route("/<int:lot_id>/hold", methods=["GET", "POST"])
@requires("lot.hold")
def hold(lot_id: int):
    lot = get_or_404(Lot, lot_id)
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            with work(form.reason.data):
                services.hold_lot(db(), lot, form.reason.data)
        except TransitionRefused as e:
            form.form_errors.extend(e.problems)
        else:
            flash(f"Lot {lot.din} and its containers are on hold.", "warning")
            return _back(lot)
    return render_template("lots/form.html", form=form, lot=lot, title=f"Put lot {lot.din} on hold")


@bp.route("/<int:lot_id>/lift-hold", methods=["GET", "POST"])
@requires("lot.hold")
def lift_hold(lot_id: int):
    lot = get_or_404(Lot, lot_id)
    form = LiftHoldForm()
    if form.validate_on_submit():
        try:
            with work(form.reason.data):
                services.lift_hold(db(), lot, g.user, form.signature_password.data, form.reason.data)
        except SignatureError as e:
            form.signature_password.errors = [str(e)]
        except (TransitionRefused, services.LotError) as e:
            form.form_errors.extend(problems_of(e))
        else:
            flash(f"Hold lifted: lot {lot.din} is {lot.status.replace('_', ' ')} again.", "success")
            return _back(lot)
    return render_template("lots/form.html", form=form, lot=lot, title=f"Lift the hold on lot {lot.din}",
                           intro="Signing means: Hold lifted.")


@bp.route("/<int:lot_id>/lift-quarantine", methods=["POST"])
@requires("lot.hold")
def lift_quarantine(lot_id: int):
    lot = get_or_404(Lot, lot_id)
    if ConfirmForm().validate_on_submit():
        try:
            with work("donor eligibility signed: quarantine lifted"):
                services.lift_quarantine(db(), lot)
        except services.LotError as e:
            _flash_problems(e, "Quarantine kept:")
        else:
            flash(f"Quarantine of lot {lot.din} lifted.", "success")
    return _back(lot)


@bp.route("/<int:lot_id>/deviations/new", methods=["GET", "POST"])
@requires("deviation.record")
def new_deviation(lot_id: int):
    lot = get_or_404(Lot, lot_id)
    form = DeviationForm()
    if form.validate_on_submit():
        try:
            with work("deviation recorded"):
                d = services.record_deviation(db(), lot, description=form.description.data or "",
                                              impact=form.impact.data or "",
                                              corrective_action=form.corrective_action.data or "")
        except services.LotError as e:
            apply_errors(form, e.errors)
        else:
            flash(f"{d.number} recorded against lot {lot.din}. It blocks release until QA closes it.", "warning")
            return _back(lot)
    return render_template("lots/form.html", form=form, lot=lot, title=f"Deviation · lot {lot.din}")


@bp.route("/deviations/<int:deviation_id>/close", methods=["GET", "POST"])
@requires("deviation.close")
def close_deviation(deviation_id: int):
    deviation = get_or_404(Deviation, deviation_id)
    lot = db().get(Lot, deviation.lot_id)
    form = CloseDeviationForm(data={"corrective_action": deviation.corrective_action})
    if form.validate_on_submit():
        try:
            with work(f"{deviation.number} closed"):
                services.close_deviation(db(), deviation, g.user, form.signature_password.data,
                                         form.corrective_action.data)
        except SignatureError as e:
            form.signature_password.errors = [str(e)]
        except (TransitionRefused, services.LotError) as e:
            apply_errors(form, getattr(e, "errors", None) or {"form": " ".join(problems_of(e))})
        else:
            flash(f"{deviation.number} closed with your signature.", "success")
            return _back(lot)
    return render_template("lots/close_deviation.html", form=form, lot=lot, deviation=deviation)
