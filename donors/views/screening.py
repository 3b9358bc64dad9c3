"""The donor page (determination panel, serology, questionnaire, medications, history, signatures), the
screening entries (questionnaire generated from the active criteria set, medication courses, serology
results, voids) and the determination QA signs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import abort, g, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from bank.forms import entered
from bank.i18n import N_, t
from bank.languages import flash
from bank.models import User
from bank.refusals import Refused
from bank.status import status_history
from bank.web import can, db, get_or_404, posted, requires, submitted
from donors import forms, services
from donors.blueprint import active_criteria, bp
from donors.models import Donor, MedicationCourse, ScreeningAnswer, SerologyTest
from donors.rules import autologous_serology_summary, sample_window
from donors.services.criteria import parse
from donors.states import DETERMINATION_MEANING
from donors.views.registry import form_page

VOIDABLE = {"answer": ScreeningAnswer, "medication": MedicationCourse, "serology": SerologyTest}
# One whole sentence per kind of entry (the kind is a word of the sentence, not a value in it).
ENTRY_VOIDED = {
    "answer": t("The answer entry was voided."),
    "medication": t("The medication entry was voided."),
    "serology": t("The serology entry was voided."),
}
VOID_TITLES = {
    "answer": N_("Void a answer entry of %(code)s"),
    "medication": N_("Void a medication entry of %(code)s"),
    "serology": N_("Void a serology entry of %(code)s"),
}
ENTRY_CORRECTED = {
    "medication": t("The medication entry was corrected; the original stays on record."),
    "serology": t("The serology entry was corrected; the original stays on record."),
}
CORRECT_TITLES = {
    "medication": N_("Correct a medication entry of %(code)s"),
    "serology": N_("Correct a serology entry of %(code)s"),
}


@bp.route("/<int:donor_id>")
@requires("donor.view")
def show(donor_id: int):
    donor = get_or_404(Donor, donor_id)
    session = db()
    row = active_criteria()
    criteria = parse(row)
    facts = services.donor_facts(session, donor)
    det = services.evaluate(session, donor, row)
    answers = {a.question_id: a for a in services.active_answers(session, donor)}
    window = sample_window(donor.harvest_date, criteria) if donor.harvest_date else None
    records = services.determinations(session, donor)
    rereview = {r.id: services.rereview(session, donor, r) for r in records if r.signature_id}
    latest = next((r for r in records if r.signature_id), None)
    # Offered only when a signature can change something: never signed, the rules now find otherwise,
    # or the signed determination rests on entries corrected since.
    can_sign = (
        not donor.is_autologous
        and not donor.under_lookback
        and (latest is None or donor.status != det.outcome or bool(rereview.get(latest.id)))
    )
    return render_template(
        "donors/show.html",
        donor=donor,
        criteria=criteria,
        criteria_row=row,
        det=det,
        identity=services.identity_of(session, donor) if can("donor.identify") else None,
        answers=answers,
        medications=services.medications(session, donor),
        serology=services.serology(session, donor),
        window=window,
        marker_names={m.marker: m.name for m in criteria.markers},
        findings=autologous_serology_summary(facts.serology, criteria) if donor.is_autologous else (),
        records=records,
        signatures=services.signatures_with_validity(session, donor, records),
        history=status_history(session, donor),
        use=services.donor_use_facts(session, donor.id),
        rereview=rereview,
        voided_answers=list(
            db().scalars(
                select(ScreeningAnswer)
                .where(ScreeningAnswer.donor_id == donor.id, ScreeningAnswer.voided_at.is_not(None))
                .order_by(ScreeningAnswer.id)
            )
        ),
        can_sign=can_sign,
        users=_names(session, donor),
    )


def _names(session, donor: Donor) -> dict[int, str]:
    """Who recorded and who voided each entry, by user id (for the struck-through originals)."""
    ids = {
        i
        for e in (
            *services.serology(session, donor),
            *services.medications(session, donor),
            *session.scalars(select(ScreeningAnswer).where(ScreeningAnswer.donor_id == donor.id)),
        )
        for i in (e.recorded_by_id, e.voided_by_id)
        if i
    }
    return {u.id: u.full_name for u in session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}


@bp.route("/<int:donor_id>/questionnaire", methods=["GET", "POST"])
@requires("donor.edit")
def questionnaire(donor_id: int):
    donor = get_or_404(Donor, donor_id)
    criteria = parse(active_criteria())
    current = {a.question_id: a for a in services.active_answers(db(), donor)}
    data = {}
    for q in criteria.questions:
        s, a = forms.slug(q.question_id), current.get(q.question_id)
        if a is not None:
            data[f"a_{s}"] = "yes" if a.answer else "no"  # recorded answers show as recorded
            data[f"d_{s}"], data[f"t_{s}"] = a.event_date, a.detail
    form = forms.questionnaire_form(criteria, data=data)
    done = posted(
        form,
        lambda: _on_fields(
            services.record_answers, db(), donor, _answers(criteria, form), form.reason.data or ""
        ),
        "screening questionnaire recorded",
    )
    if done.ok:
        flash(_("Questionnaire saved (%(count)s answer(s) changed).", count=done.value), "success")
        return redirect(url_for("donors.show", donor_id=donor.id) + "#questionnaire")
    return render_template("donors/questionnaire.html", form=form, donor=donor, criteria=criteria)


def _answers(criteria, form) -> dict:
    """The questionnaire as answered: per question (yes → True, no → False, unknown → None; its date; detail)."""
    answers = {}
    for q in criteria.questions:
        s = forms.slug(q.question_id)
        choice = form[f"a_{s}"].data
        event_date = form[f"d_{s}"].data if q.asks_date else None
        answers[q.question_id] = ({"yes": True, "no": False}.get(choice), event_date, form[f"t_{s}"].data)
    return answers


def _on_fields(service, *args):
    """`service(*args)` with its input errors keyed "answers.Q-X.event_date" moved to the questionnaire's
    fields d_q_x (a_ for the answer, t_ for the detail), so each shows next to its question."""
    try:
        return service(*args)
    except Refused as e:
        prefixes = {"event_date": "d_", "detail": "t_"}
        mapped = {}
        for key, message in e.errors.items():
            parts = key.split(".")
            if parts[0] == "answers" and len(parts) >= 2:
                prefix = prefixes.get(parts[2], "a_") if len(parts) == 3 else "a_"
                mapped[prefix + forms.slug(parts[1])] = message
            else:
                mapped[key] = message
        raise Refused(mapped, e.problems) from None


def _offer_kinds(form, criteria) -> None:
    """The kinds of medication the active criteria set asks about."""
    form.kind.choices = [(k, t(k)) for k in criteria.medication_kinds]


def _offer_markers(form, criteria) -> None:
    """The infectious markers the active criteria set tests for."""
    form.marker.choices = [("", "—")] + [(m.marker, t(m.name)) for m in criteria.markers]


@dataclass(frozen=True)
class NewEntry:
    """A kind of screening entry typed for a donor, one at a time."""

    form: Callable[[], object]
    offer: Callable[[object, object], None]  # fills the form's choices from the active criteria set
    record: Callable[..., object]  # the service, taking the form's fields by name
    reason: str  # the audit reason
    anchor: str  # the donor page's section the entry is listed in
    title: str  # marked with N_; %(code)s the donor
    submit: str  # marked with N_


MEDICATION = NewEntry(
    forms.MedicationForm,
    _offer_kinds,
    services.record_medication,
    reason="medication recorded",
    anchor="#medications",
    title=N_("Medication course for %(code)s"),
    submit=N_("Record course"),
)
SEROLOGY = NewEntry(
    forms.SerologyForm,
    _offer_markers,
    services.record_serology,
    reason="serology result recorded",
    anchor="#serology",
    title=N_("Serology result for %(code)s"),
    submit=N_("Record result"),
)


def _new_entry(donor_id: int, kind: NewEntry):
    """The form of one entry for a donor; recorded, the donor's page at the entry's section."""
    donor = get_or_404(Donor, donor_id)
    form = kind.form()
    kind.offer(form, parse(active_criteria()))
    if submitted(form, lambda: kind.record(db(), donor, **entered(form)), kind.reason):
        return redirect(url_for("donors.show", donor_id=donor.id) + kind.anchor)
    return form_page(form, t(kind.title, code=donor.code), donor, submit=t(kind.submit))


@bp.route("/<int:donor_id>/medications/new", methods=["GET", "POST"])
@requires("donor.edit")
def add_medication(donor_id: int):
    return _new_entry(donor_id, MEDICATION)


@bp.route("/<int:donor_id>/serology/new", methods=["GET", "POST"])
@requires("donor.edit")
def add_serology(donor_id: int):
    return _new_entry(donor_id, SEROLOGY)


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
    if submitted(form, lambda: services.void_entry(db(), entry, form.reason.data), form.reason.data):
        flash(ENTRY_VOIDED[kind], "success")
        return redirect(url_for("donors.show", donor_id=donor.id))
    return form_page(form, t(VOID_TITLES[kind], code=donor.code), donor, submit=_("Void entry"))


@bp.route("/<int:donor_id>/determination", methods=["GET", "POST"])
@requires("donor.determine")
def sign(donor_id: int):
    donor = get_or_404(Donor, donor_id)
    row = active_criteria()
    form = forms.SignDeterminationForm()
    if submitted(
        form,
        lambda: services.sign_determination(
            db(), donor, g.user, form.signature_password.data, form.decision.data, form.comment.data
        ),
        form.comment.data,
    ):
        flash(
            t("Determination signed: donor %(code)s is %(status)s.", code=donor.code, status=t(donor.status)),
            "success",
        )
        return redirect(url_for("donors.show", donor_id=donor.id))
    return render_template(
        "donors/sign.html",
        form=form,
        donor=donor,
        criteria=row,
        det=services.evaluate(db(), donor, row),
        meaning=DETERMINATION_MEANING,
    )


@bp.route("/<int:donor_id>/serology/panel", methods=["GET", "POST"])
@requires("donor.edit")
def serology_panel(donor_id: int):
    """The criteria set's markers as rows on one form; the sample window is shown and checked as the date
    is typed (bounds in the page) and again by the service on submit."""
    donor = get_or_404(Donor, donor_id)
    criteria = parse(active_criteria())
    form = forms.serology_panel_form(criteria)

    def rows() -> list[services.SerologyRow]:
        return [
            services.SerologyRow(
                marker=m.marker,
                result=form[f"{m.marker}__result"].data or "",
                method=(form[f"{m.marker}__method"].data or "").strip(),
                kit=(form[f"{m.marker}__kit"].data or "").strip(),
                kit_lot=(form[f"{m.marker}__kit_lot"].data or "").strip(),
                sample_date=form[f"{m.marker}__sample_date"].data,
                test_date=form[f"{m.marker}__test_date"].data,
            )
            for m in criteria.markers
        ]

    done = posted(
        form, lambda: services.record_serology_panel(db(), donor, rows()), "serology panel recorded"
    )
    if done.ok:
        flash(_("%(count)s serology result(s) recorded.", count=len(done.value)), "success")
        return redirect(url_for("donors.show", donor_id=donor.id) + "#serology")
    window = sample_window(donor.harvest_date, criteria) if donor.harvest_date else None
    return render_template(
        "donors/serology_panel.html", form=form, donor=donor, criteria=criteria, window=window
    )


# Per kind of entry that can be corrected: its record, its correction form, the choices the form offers
# from the active criteria set, and the service that records the correction.
CORRECTABLE = {"medication": MedicationCourse, "serology": SerologyTest}
CORRECTION = {
    "medication": (forms.CorrectMedicationForm, _offer_kinds, services.correct_medication),
    "serology": (forms.CorrectSerologyForm, _offer_markers, services.correct_serology),
}


@bp.route("/<int:donor_id>/correct/<kind>/<int:entry_id>", methods=["GET", "POST"])
@requires("donor.edit")
def correct(donor_id: int, kind: str, entry_id: int):
    """Correct a medication course or a serology result: the original stays, struck through, with the
    reason; the determination signed on it is flagged for re-review."""
    donor = get_or_404(Donor, donor_id)
    if kind not in CORRECTABLE:
        abort(404)
    entry = get_or_404(CORRECTABLE[kind], entry_id)
    if entry.donor_id != donor.id:
        abort(404)
    form_class, offer, record = CORRECTION[kind]
    form = form_class(obj=entry)
    offer(form, parse(active_criteria()))
    # The form's fields besides the reason are the service's parameters.
    if submitted(
        form, lambda: record(db(), entry, form.reason.data, **entered(form, "reason")), form.reason.data
    ):
        flash(ENTRY_CORRECTED[kind], "success")
        return redirect(url_for("donors.show", donor_id=donor.id) + f"#{kind}s")
    title = t(CORRECT_TITLES[kind], code=donor.code)
    return form_page(form, title, donor, submit=_("Record the correction"))


def resolve_scan(session, scan):
    """Scan box: a donor code (as printed on the donor's records, any case) opens the donor."""
    if scan.isbt is not None or len(scan.text) > 20:
        return None
    donor_id = session.scalar(select(Donor.id).where(func.upper(Donor.code) == scan.text.upper()))
    return url_for("donors.show", donor_id=donor_id) if donor_id else None
