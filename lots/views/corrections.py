"""Corrections of bench entries that keep the original: correct or void an isolation or a passage with a
reason, a second person's confirmation when the entry was verified, and QA's re-review of a lot corrected
under its signature."""

from __future__ import annotations

from flask import redirect, render_template, url_for

from bank.forms import ConfirmForm, entered
from bank.i18n import localize, t
from bank.languages import flash
from bank.web import attempt, db, get_or_404, requires
from lots import services
from lots.blueprint import bp
from lots.forms import SOFT_FIELDS, CorrectIsolationForm, CorrectPassageForm, ReasonForm
from lots.models import EntryCorrection, Isolation, Lot, Passage


def _back(lot_id: int):
    return redirect(url_for("lots.show", lot_id=lot_id))


def _done(correction: EntryCorrection) -> None:
    if correction.status == "pending":
        flash(
            t(
                "Correction of %(entry)s recorded: it applies once a second person confirms it.",
                entry=t(correction.label),
            ),
            "warning",
        )
    elif correction.action == "correct":
        flash(t("%(entry)s corrected.", entry=t(correction.label)), "success")
    else:
        flash(t("%(entry)s voided.", entry=t(correction.label)), "success")


def _correct(entry, form, correct, what: str, title, **page):
    """The correction form of one entry: the service gets what was entered, the page the same form again
    with every refusal next to its field."""
    lot = db().get(Lot, entry.lot_id)
    if (
        form.validate_on_submit()
        and (
            done := attempt(
                form,
                lambda: correct(db(), entry, **entered(form)),
                f"{what} corrected: {form.reason.data}",
            )
        ).ok
    ):
        _done(done.value)
        return _back(lot.id)
    return render_template(
        "lots/form.html",
        form=form,
        lot=lot,
        title=t("%(title)s · lot %(din)s", title=title, din=lot.din),
        **page,
    )


@bp.route("/passages/<int:entry_id>/correct", methods=["GET", "POST"])
@requires("lot.edit")
def correct_passage(entry_id: int):
    entry = get_or_404(Passage, entry_id)
    return _correct(
        entry,
        CorrectPassageForm(obj=entry),
        services.correct_passage,
        f"P{entry.number}",
        t("Correct P%(number)s", number=entry.number),
        soft_fields=SOFT_FIELDS,
        intro=t(
            "The original entry stays on record, struck through, with your reason. A verified entry changes "
            "once a second person confirms the correction."
        ),
    )


@bp.route("/isolations/<int:entry_id>/correct", methods=["GET", "POST"])
@requires("lot.edit")
def correct_isolation(entry_id: int):
    entry = get_or_404(Isolation, entry_id)
    return _correct(
        entry,
        CorrectIsolationForm(obj=entry),
        services.correct_isolation,
        "isolation",
        t("Correct the isolation"),
    )


def _void(entry, label: str, title):
    lot = db().get(Lot, entry.lot_id)
    form = ReasonForm()
    if (
        form.validate_on_submit()
        and (
            done := attempt(
                form,
                lambda: services.void_entry(db(), entry, reason=form.reason.data),
                f"{label} voided: {form.reason.data}",
            )
        ).ok
    ):
        _done(done.value)
        return _back(lot.id)
    return render_template(
        "lots/form.html",
        form=form,
        lot=lot,
        title=t("%(title)s · lot %(din)s", title=title, din=lot.din),
        intro=t(
            "Voided entries stay on record, struck through, with your reason; later passages are renumbered."
        ),
    )


@bp.route("/passages/<int:entry_id>/void", methods=["GET", "POST"])
@requires("lot.edit")
def void_passage(entry_id: int):
    entry = get_or_404(Passage, entry_id)
    return _void(entry, f"P{entry.number}", t("Void P%(number)s", number=entry.number))


@bp.route("/isolations/<int:entry_id>/void", methods=["GET", "POST"])
@requires("lot.edit")
def void_isolation(entry_id: int):
    return _void(get_or_404(Isolation, entry_id), "the isolation", t("Void the isolation"))


@bp.route("/corrections/<int:correction_id>/confirm", methods=["POST"])
@requires("lot.verify")
def confirm_correction(correction_id: int):
    correction = get_or_404(EntryCorrection, correction_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        done = attempt(
            form,
            lambda: services.confirm_correction(db(), correction),
            f"correction of {correction.label} confirmed",
        )
        if done.ok:
            flash(t("Correction of %(entry)s confirmed and applied.", entry=t(correction.label)), "success")
        else:
            why = " ".join(localize(p) for p in done.problems)
            flash(t("Correction not confirmed: %(why)s", why=why), "danger")
    return _back(correction.lot_id)


@bp.route("/<int:lot_id>/rereview", methods=["GET", "POST"])
@requires("lot.release")
def close_rereview(lot_id: int):
    lot = get_or_404(Lot, lot_id)
    form = ReasonForm()
    if (
        form.validate_on_submit()
        and attempt(form, lambda: services.close_rereview(db(), lot, form.reason.data), form.reason.data).ok
    ):
        flash(t("Re-review of lot %(din)s recorded.", din=lot.din), "success")
        return _back(lot.id)
    return render_template(
        "lots/form.html",
        form=form,
        lot=lot,
        title=t("Re-review of lot %(din)s", din=lot.din),
        intro=t("Corrected under QA's signature: %(why)s", why=lot.rereview_reason or ""),
    )
