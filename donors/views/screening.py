"""The donor page (determination panel, serology, questionnaire, medications, history, signatures), the
screening entries (questionnaire generated from the active criteria set, medication courses, serology
results, voids) and the determination QA signs."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, url_for
from sqlalchemy import func, select

from bank.refusals import Refused
from bank.status import status_history
from bank.web import attempt, can, db, get_or_404, requires
from donors import forms, services
from donors.blueprint import active_criteria, bp
from donors.models import Donor, MedicationCourse, ScreeningAnswer, SerologyTest
from donors.rules import autologous_serology_summary, sample_window
from donors.services.criteria import parse
from donors.views.registry import form_page

VOIDABLE = {"answer": ScreeningAnswer, "medication": MedicationCourse, "serology": SerologyTest}


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
    )


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
            data[f"a_{s}"] = "yes" if a.answer else "no"
            data[f"d_{s}"], data[f"t_{s}"] = a.event_date, a.detail
    form = forms.questionnaire_form(criteria, data=data)
    if form.validate_on_submit():
        answers = {}
        for q in criteria.questions:
            s = forms.slug(q.question_id)
            choice = form[f"a_{s}"].data
            event_date = form[f"d_{s}"].data if q.asks_date else None
            answers[q.question_id] = ({"yes": True, "no": False}.get(choice), event_date, form[f"t_{s}"].data)
        done = attempt(
            form,
            lambda: _on_fields(services.record_answers, db(), donor, answers),
            "screening questionnaire recorded",
        )
        if done.ok:
            flash(f"Questionnaire saved ({done.value} answer(s) changed).", "success")
            return redirect(url_for("donors.show", donor_id=donor.id) + "#questionnaire")
    return render_template("donors/questionnaire.html", form=form, donor=donor, criteria=criteria)


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


@bp.route("/<int:donor_id>/medications/new", methods=["GET", "POST"])
@requires("donor.edit")
def add_medication(donor_id: int):
    donor = get_or_404(Donor, donor_id)
    form = forms.MedicationForm()
    form.kind.choices = [(k, k) for k in parse(active_criteria()).medication_kinds]
    if (
        form.validate_on_submit()
        and attempt(
            form,
            lambda: services.record_medication(
                db(), donor, form.kind.data, form.name.data, form.start_date.data, form.stop_date.data
            ),
            "medication recorded",
        ).ok
    ):
        return redirect(url_for("donors.show", donor_id=donor.id) + "#medications")
    return form_page(form, f"Medication course for {donor.code}", donor, submit="Record course")


@bp.route("/<int:donor_id>/serology/new", methods=["GET", "POST"])
@requires("donor.edit")
def add_serology(donor_id: int):
    donor = get_or_404(Donor, donor_id)
    form = forms.SerologyForm()
    form.marker.choices = [("", "—")] + [(m.marker, m.name) for m in parse(active_criteria()).markers]
    if (
        form.validate_on_submit()
        and attempt(
            form,
            lambda: services.record_serology(
                db(),
                donor,
                marker=form.marker.data,
                method=form.method.data,
                kit=form.kit.data,
                kit_lot=form.kit_lot.data,
                sample_date=form.sample_date.data,
                test_date=form.test_date.data,
                result=form.result.data,
            ),
            "serology result recorded",
        ).ok
    ):
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
    if (
        form.validate_on_submit()
        and attempt(form, lambda: services.void_entry(db(), entry, form.reason.data), form.reason.data).ok
    ):
        flash(f"The {kind} entry was voided.", "success")
        return redirect(url_for("donors.show", donor_id=donor.id))
    return form_page(form, f"Void a {kind} entry of {donor.code}", donor, submit="Void entry")


@bp.route("/<int:donor_id>/determination", methods=["GET", "POST"])
@requires("donor.determine")
def sign(donor_id: int):
    donor = get_or_404(Donor, donor_id)
    row = active_criteria()
    form = forms.SignDeterminationForm()
    if (
        form.validate_on_submit()
        and attempt(
            form,
            lambda: services.sign_determination(
                db(), donor, g.user, form.signature_password.data, form.decision.data, form.comment.data
            ),
            form.comment.data,
        ).ok
    ):
        flash(f"Determination signed: donor {donor.code} is {donor.status}.", "success")
        return redirect(url_for("donors.show", donor_id=donor.id))
    return render_template(
        "donors/sign.html", form=form, donor=donor, criteria=row, det=services.evaluate(db(), donor, row)
    )


def resolve_scan(session, scan):
    """Scan box: a donor code (as printed on the donor's records, any case) opens the donor."""
    if scan.isbt is not None or len(scan.text) > 20:
        return None
    donor_id = session.scalar(select(Donor.id).where(func.upper(Donor.code) == scan.text.upper()))
    return url_for("donors.show", donor_id=donor_id) if donor_id else None
