"""Corrections of bench entries that keep the original: correct or void an isolation or a passage with a
reason, a second person's confirmation when the entry was verified, and QA's re-review of a lot corrected
under its signature."""

from __future__ import annotations

from bank.forms import ConfirmForm, entered
from bank.i18n import N_, t
from bank.languages import flash
from bank.web import db, get_or_404, posted, requires, step, submitted
from lots import services
from lots.blueprint import back_to_lot, bp, form_page
from lots.forms import SOFT_FIELDS, CorrectIsolationForm, CorrectPassageForm, ReasonForm
from lots.models import EntryCorrection, Isolation, Lot, Passage


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


def _change(entry, form, change, reason: str, title, **page):
    """The correction or void form of one entry: `change()` records it, the page shows the same form again
    with every refusal next to its field; the lot's page says what happened."""
    lot = db().get(Lot, entry.lot_id)
    done = posted(form, change, reason)
    if done.ok:
        _done(done.value)
        return back_to_lot(lot.id)
    return form_page(form, t("%(title)s · lot %(din)s", title=title, din=lot.din), lot, **page)


def _correct(entry, form, correct, what: str, title, **page):
    return _change(
        entry,
        form,
        lambda: correct(db(), entry, **entered(form)),
        f"{what} corrected: {form.reason.data}",
        title,
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
    form = ReasonForm()
    return _change(
        entry,
        form,
        lambda: services.void_entry(db(), entry, reason=form.reason.data),
        f"{label} voided: {form.reason.data}",
        title,
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
    if step(
        ConfirmForm(),
        lambda: services.confirm_correction(db(), correction),
        f"correction of {correction.label} confirmed",
        N_("Correction not confirmed: %(why)s"),
    ).ok:
        flash(t("Correction of %(entry)s confirmed and applied.", entry=t(correction.label)), "success")
    return back_to_lot(correction.lot_id)


@bp.route("/<int:lot_id>/rereview", methods=["GET", "POST"])
@requires("lot.release")
def close_rereview(lot_id: int):
    lot = get_or_404(Lot, lot_id)
    form = ReasonForm()
    if submitted(form, lambda: services.close_rereview(db(), lot, form.reason.data), form.reason.data):
        flash(t("Re-review of lot %(din)s recorded.", din=lot.din), "success")
        return back_to_lot(lot.id)
    intro = t("Corrected under QA's signature: %(why)s", why=lot.rereview_reason or "")
    return form_page(form, t("Re-review of lot %(din)s", din=lot.din), lot, intro=intro)
