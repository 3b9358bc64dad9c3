"""Bench steps and status actions on one lot: isolation, passages, verification, formulation,
submission for QC, hold and quarantine, deviations."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, url_for

from bank.clock import as_utc
from bank.forms import ConfirmForm, entered
from bank.web import attempt, db, get_or_404, requires
from lots import services
from lots.blueprint import bp, offer_materials
from lots.forms import (
    SOFT_FIELDS,
    CloseDeviationForm,
    DeviationForm,
    FormulationForm,
    IsolationForm,
    LiftHoldForm,
    PassageForm,
    ReasonForm,
)
from lots.models import Deviation, Lot


def _back(lot: Lot):
    return redirect(url_for("lots.show", lot_id=lot.id))


def _confirmed(action, reason: str, heading: str) -> bool:
    """A one-button step on the lot page: run it; a refusal is flashed after `heading`."""
    form = ConfirmForm()
    if not form.validate_on_submit():
        return False
    done = attempt(form, action, reason)
    if not done.ok:
        flash(heading + " " + " ".join(done.problems), "danger")
    return done.ok


@bp.route("/<int:lot_id>/isolation", methods=["GET", "POST"])
@requires("lot.edit")
def isolation(lot_id: int):
    lot = get_or_404(Lot, lot_id)
    form = IsolationForm()
    offer_materials(form)
    if (
        form.validate_on_submit()
        and attempt(
            form,
            lambda: services.record_isolation(db(), lot, **entered(form)),
            "isolation recorded",
        ).ok
    ):
        flash("Isolation recorded. A second person must verify the count and viability.", "success")
        return _back(lot)
    return render_template("lots/form.html", form=form, lot=lot, title=f"Isolation · lot {lot.din}")


@bp.route("/<int:lot_id>/passages/new", methods=["GET", "POST"])
@requires("lot.edit")
def new_passage(lot_id: int):
    lot = get_or_404(Lot, lot_id)
    form = PassageForm()
    offer_materials(form)
    if (
        form.validate_on_submit()
        and (
            done := attempt(
                form,
                lambda: services.record_passage(db(), lot, **entered(form)),
                "passage recorded",
            )
        ).ok
    ):
        p = done.value
        flash(
            f"P{p.number} recorded (PD {p.population_doublings:.2f}). It counts once a second person "
            "verifies it.",
            "success",
        )
        return _back(lot)
    limits = lot.product_type
    return render_template(
        "lots/form.html",
        form=form,
        lot=lot,
        title=f"Passage · lot {lot.din}",
        soft_fields=SOFT_FIELDS,
        intro=f"Limits of {limits.key} v{limits.version}: up to P{limits.max_passage}, "
        f"cumulative PD ≤ {limits.max_cumulative_pd:g}; growth up to {limits.max_fold_per_day:g}-fold a day; "
        f"a viability drop over {limits.viability_drop_pct:g} points or a negative PD is confirmed with a comment.",
    )


@bp.route("/<int:lot_id>/formulate", methods=["GET", "POST"])
@requires("lot.edit")
def formulate(lot_id: int):
    lot = get_or_404(Lot, lot_id)
    form = FormulationForm()
    offer_materials(form)
    if (
        form.validate_on_submit()
        and (
            done := attempt(
                form,
                lambda: services.formulate_containers(
                    db(),
                    lot,
                    n_containers=form.n_containers.data,
                    container_type=form.container_type.data,
                    cells_per_container=form.cells_per_container.data,
                    volume_ml=form.volume_ml.data,
                    cryoprotectant=form.cryoprotectant.data or "",
                    frozen_at=as_utc(form.frozen_at.data),
                    material_lot_ids=form.material_lot_ids.data,
                ),
                "formulation and cryopreservation",
            )
        ).ok
    ):
        made = done.value
        flash(
            f"{len(made)} containers formulated ({made[0].division}–{made[-1].division}). "
            "Store them in a box next.",
            "success",
        )
        return _back(lot)
    return render_template("lots/form.html", form=form, lot=lot, title=f"Formulation · lot {lot.din}")


@bp.route("/<int:lot_id>/submit", methods=["POST"])
@requires("lot.edit")
def submit(lot_id: int):
    lot = get_or_404(Lot, lot_id)
    if _confirmed(lambda: services.submit_for_qc(db(), lot), "submitted for QC", "Not submitted for QC:"):
        flash(f"Lot {lot.din} is awaiting QC.", "success")
    return _back(lot)


@bp.route("/<int:lot_id>/hold", methods=["GET", "POST"])
@requires("lot.hold")
def hold(lot_id: int):
    lot = get_or_404(Lot, lot_id)
    form = ReasonForm()
    if (
        form.validate_on_submit()
        and attempt(form, lambda: services.hold_lot(db(), lot, form.reason.data), form.reason.data).ok
    ):
        flash(f"Lot {lot.din} and its containers are on hold.", "warning")
        return _back(lot)
    return render_template("lots/form.html", form=form, lot=lot, title=f"Put lot {lot.din} on hold")


@bp.route("/<int:lot_id>/lift-hold", methods=["GET", "POST"])
@requires("lot.hold")
def lift_hold(lot_id: int):
    lot = get_or_404(Lot, lot_id)
    form = LiftHoldForm()
    if (
        form.validate_on_submit()
        and attempt(
            form,
            lambda: services.lift_hold(db(), lot, g.user, form.signature_password.data, form.reason.data),
            form.reason.data,
        ).ok
    ):
        flash(f"Hold lifted: lot {lot.din} is {lot.status.replace('_', ' ')} again.", "success")
        return _back(lot)
    return render_template(
        "lots/form.html",
        form=form,
        lot=lot,
        title=f"Lift the hold on lot {lot.din}",
        intro="Signing means: Hold lifted.",
    )


@bp.route("/<int:lot_id>/lift-quarantine", methods=["POST"])
@requires("lot.hold")
def lift_quarantine(lot_id: int):
    lot = get_or_404(Lot, lot_id)
    if _confirmed(
        lambda: services.lift_quarantine(db(), lot),
        "donor eligibility signed: quarantine lifted",
        "Quarantine kept:",
    ):
        flash(f"Quarantine of lot {lot.din} lifted.", "success")
    return _back(lot)


@bp.route("/<int:lot_id>/deviations/new", methods=["GET", "POST"])
@requires("deviation.record")
def new_deviation(lot_id: int):
    lot = get_or_404(Lot, lot_id)
    form = DeviationForm()
    if (
        form.validate_on_submit()
        and (
            done := attempt(
                form,
                lambda: services.record_deviation(
                    db(),
                    lot,
                    description=form.description.data or "",
                    impact=form.impact.data or "",
                    corrective_action=form.corrective_action.data or "",
                ),
                "deviation recorded",
            )
        ).ok
    ):
        flash(
            f"{done.value.number} recorded against lot {lot.din}. It blocks release until QA closes it.",
            "warning",
        )
        return _back(lot)
    return render_template("lots/form.html", form=form, lot=lot, title=f"Deviation · lot {lot.din}")


@bp.route("/deviations/<int:deviation_id>/close", methods=["GET", "POST"])
@requires("deviation.close")
def close_deviation(deviation_id: int):
    deviation = get_or_404(Deviation, deviation_id)
    lot = db().get(Lot, deviation.lot_id)
    form = CloseDeviationForm(data={"corrective_action": deviation.corrective_action})
    if (
        form.validate_on_submit()
        and attempt(
            form,
            lambda: services.close_deviation(
                db(), deviation, g.user, form.signature_password.data, form.corrective_action.data
            ),
            f"{deviation.number} closed",
        ).ok
    ):
        flash(f"{deviation.number} closed with your signature.", "success")
        return _back(lot)
    return render_template("lots/close_deviation.html", form=form, lot=lot, deviation=deviation)
