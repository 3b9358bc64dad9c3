"""Bench steps and status actions on one lot: isolation, passages, verification, formulation,
submission for QC, hold and quarantine, deviations."""

from __future__ import annotations

from decimal import Decimal

from flask import g, redirect, render_template, url_for

from bank.clock import as_utc
from bank.forms import ConfirmForm, entered
from bank.i18n import N_, localize, t
from bank.languages import flash
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
from lots.rules import status_word
from lots.states import DEVIATION_CLOSED_MEANING, HOLD_LIFTED_MEANING


def _back(lot: Lot):
    return redirect(url_for("lots.show", lot_id=lot.id))


def _confirmed(action, reason: str, refused: str) -> bool:
    """A one-button step on the lot page: run it; a refusal is flashed as `refused` (a message marked
    with N_, its %(why)s the reasons)."""
    form = ConfirmForm()
    if not form.validate_on_submit():
        return False
    done = attempt(form, action, reason)
    if not done.ok:
        flash(t(refused, why=" ".join(localize(p) for p in done.problems)), "danger")
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
        flash(t("Isolation recorded. A second person must verify the count and viability."), "success")
        return _back(lot)
    return render_template(
        "lots/form.html", form=form, lot=lot, title=t("Isolation · lot %(din)s", din=lot.din)
    )


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
            t(
                "P%(number)s recorded (PD %(pd)s). It counts once a second person verifies it.",
                number=p.number,
                pd=Decimal(f"{p.population_doublings:.2f}"),
            ),
            "success",
        )
        return _back(lot)
    limits = lot.product_type
    return render_template(
        "lots/form.html",
        form=form,
        lot=lot,
        title=t("Passage · lot %(din)s", din=lot.din),
        soft_fields=SOFT_FIELDS,
        intro=t(
            "Limits of %(product)s v%(version)s: up to P%(max_passage)s, cumulative PD ≤ %(max_pd)s; growth up "
            "to %(fold)s-fold a day; a viability drop over %(drop)s points or a negative PD is confirmed "
            "with a comment.",
            product=limits.key,
            version=limits.version,
            max_passage=limits.max_passage,
            max_pd=float(limits.max_cumulative_pd),
            fold=float(limits.max_fold_per_day),
            drop=float(limits.viability_drop_pct),
        ),
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
            t(
                "%(count)s containers formulated (%(first)s–%(last)s). Store them in a box next.",
                count=len(made),
                first=made[0].division,
                last=made[-1].division,
            ),
            "success",
        )
        return _back(lot)
    return render_template(
        "lots/form.html", form=form, lot=lot, title=t("Formulation · lot %(din)s", din=lot.din)
    )


@bp.route("/<int:lot_id>/submit", methods=["POST"])
@requires("lot.edit")
def submit(lot_id: int):
    lot = get_or_404(Lot, lot_id)
    if _confirmed(
        lambda: services.submit_for_qc(db(), lot), "submitted for QC", N_("Not submitted for QC: %(why)s")
    ):
        flash(t("Lot %(din)s is awaiting QC.", din=lot.din), "success")
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
        flash(t("Lot %(din)s and its containers are on hold.", din=lot.din), "warning")
        return _back(lot)
    return render_template(
        "lots/form.html", form=form, lot=lot, title=t("Put lot %(din)s on hold", din=lot.din)
    )


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
        flash(
            t("Hold lifted: lot %(din)s is %(status)s again.", din=lot.din, status=status_word(lot.status)),
            "success",
        )
        return _back(lot)
    return render_template(
        "lots/form.html",
        form=form,
        lot=lot,
        title=t("Lift the hold on lot %(din)s", din=lot.din),
        intro=t("Signing means: %(meaning)s.", meaning=t(HOLD_LIFTED_MEANING)),
    )


@bp.route("/<int:lot_id>/lift-quarantine", methods=["POST"])
@requires("lot.hold")
def lift_quarantine(lot_id: int):
    lot = get_or_404(Lot, lot_id)
    if _confirmed(
        lambda: services.lift_quarantine(db(), lot),
        "donor eligibility signed: quarantine lifted",
        N_("Quarantine kept: %(why)s"),
    ):
        flash(t("Quarantine of lot %(din)s lifted.", din=lot.din), "success")
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
            t(
                "%(number)s recorded against lot %(din)s. It blocks release until QA closes it.",
                number=done.value.number,
                din=lot.din,
            ),
            "warning",
        )
        return _back(lot)
    return render_template(
        "lots/form.html", form=form, lot=lot, title=t("Deviation · lot %(din)s", din=lot.din)
    )


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
        flash(t("%(number)s closed with your signature.", number=deviation.number), "success")
        return _back(lot)
    return render_template(
        "lots/close_deviation.html", form=form, lot=lot, deviation=deviation, meaning=DEVIATION_CLOSED_MEANING
    )
