"""Bench steps and status actions on one lot: isolation, passages, verification, formulation,
submission for QC, hold and quarantine, deviations."""

from __future__ import annotations

from decimal import Decimal

from flask import g, render_template

from bank.clock import as_utc
from bank.forms import ConfirmForm, entered
from bank.i18n import N_, t
from bank.languages import flash
from bank.web import db, get_or_404, posted, requires, step, submitted
from lots import services
from lots.blueprint import back_to_lot, bp, form_page, offer_materials
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


@bp.route("/<int:lot_id>/isolation", methods=["GET", "POST"])
@requires("lot.edit")
def isolation(lot_id: int):
    lot = get_or_404(Lot, lot_id)
    form = IsolationForm()
    offer_materials(form)
    if submitted(form, lambda: services.record_isolation(db(), lot, **entered(form)), "isolation recorded"):
        flash(t("Isolation recorded. A second person must verify the count and viability."), "success")
        return back_to_lot(lot.id)
    return form_page(form, t("Isolation · lot %(din)s", din=lot.din), lot)


@bp.route("/<int:lot_id>/passages/new", methods=["GET", "POST"])
@requires("lot.edit")
def new_passage(lot_id: int):
    lot = get_or_404(Lot, lot_id)
    form = PassageForm()
    offer_materials(form)
    done = posted(form, lambda: services.record_passage(db(), lot, **entered(form)), "passage recorded")
    if done.ok:
        p = done.value
        flash(
            t(
                "P%(number)s recorded (PD %(pd)s). It counts once a second person verifies it.",
                number=p.number,
                pd=Decimal(f"{p.population_doublings:.2f}"),
            ),
            "success",
        )
        return back_to_lot(lot.id)
    limits = lot.product_type
    return form_page(
        form,
        t("Passage · lot %(din)s", din=lot.din),
        lot,
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
    # The form's fields are named as the service's parameters; the time typed on the facility's clock is
    # stored in UTC.
    done = posted(
        form,
        lambda: services.formulate_containers(
            db(), lot, **entered(form, "frozen_at"), frozen_at=as_utc(form.frozen_at.data)
        ),
        "formulation and cryopreservation",
    )
    if done.ok:
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
        return back_to_lot(lot.id)
    return form_page(form, t("Formulation · lot %(din)s", din=lot.din), lot)


@bp.route("/<int:lot_id>/submit", methods=["POST"])
@requires("lot.edit")
def submit(lot_id: int):
    lot = get_or_404(Lot, lot_id)
    refused = N_("Not submitted for QC: %(why)s")
    if step(ConfirmForm(), lambda: services.submit_for_qc(db(), lot), "submitted for QC", refused).ok:
        flash(t("Lot %(din)s is awaiting QC.", din=lot.din), "success")
    return back_to_lot(lot.id)


@bp.route("/<int:lot_id>/hold", methods=["GET", "POST"])
@requires("lot.hold")
def hold(lot_id: int):
    lot = get_or_404(Lot, lot_id)
    form = ReasonForm()
    if submitted(form, lambda: services.hold_lot(db(), lot, form.reason.data), form.reason.data):
        flash(t("Lot %(din)s and its containers are on hold.", din=lot.din), "warning")
        return back_to_lot(lot.id)
    return form_page(form, t("Put lot %(din)s on hold", din=lot.din), lot)


@bp.route("/<int:lot_id>/lift-hold", methods=["GET", "POST"])
@requires("lot.hold")
def lift_hold(lot_id: int):
    lot = get_or_404(Lot, lot_id)
    form = LiftHoldForm()
    if submitted(
        form,
        lambda: services.lift_hold(db(), lot, g.user, form.signature_password.data, form.reason.data),
        form.reason.data,
    ):
        flash(
            t("Hold lifted: lot %(din)s is %(status)s again.", din=lot.din, status=status_word(lot.status)),
            "success",
        )
        return back_to_lot(lot.id)
    meaning = t("Signing means: %(meaning)s.", meaning=t(HOLD_LIFTED_MEANING))
    return form_page(form, t("Lift the hold on lot %(din)s", din=lot.din), lot, intro=meaning)


@bp.route("/<int:lot_id>/lift-quarantine", methods=["POST"])
@requires("lot.hold")
def lift_quarantine(lot_id: int):
    lot = get_or_404(Lot, lot_id)
    reason, refused = "donor eligibility signed: quarantine lifted", N_("Quarantine kept: %(why)s")
    if step(ConfirmForm(), lambda: services.lift_quarantine(db(), lot), reason, refused).ok:
        flash(t("Quarantine of lot %(din)s lifted.", din=lot.din), "success")
    return back_to_lot(lot.id)


@bp.route("/<int:lot_id>/deviations/new", methods=["GET", "POST"])
@requires("deviation.record")
def new_deviation(lot_id: int):
    lot = get_or_404(Lot, lot_id)
    form = DeviationForm()
    done = posted(form, lambda: services.record_deviation(db(), lot, **entered(form)), "deviation recorded")
    if done.ok:
        flash(
            t(
                "%(number)s recorded against lot %(din)s. It blocks release until QA closes it.",
                number=done.value.number,
                din=lot.din,
            ),
            "warning",
        )
        return back_to_lot(lot.id)
    return form_page(form, t("Deviation · lot %(din)s", din=lot.din), lot)


@bp.route("/deviations/<int:deviation_id>/close", methods=["GET", "POST"])
@requires("deviation.close")
def close_deviation(deviation_id: int):
    deviation = get_or_404(Deviation, deviation_id)
    lot = db().get(Lot, deviation.lot_id)
    form = CloseDeviationForm(data={"corrective_action": deviation.corrective_action})
    if submitted(
        form,
        lambda: services.close_deviation(
            db(), deviation, g.user, form.signature_password.data, form.corrective_action.data
        ),
        f"{deviation.number} closed",
    ):
        flash(t("%(number)s closed with your signature.", number=deviation.number), "success")
        return back_to_lot(lot.id)
    return render_template(
        "lots/close_deviation.html", form=form, lot=lot, deviation=deviation, meaning=DEVIATION_CLOSED_MEANING
    )
