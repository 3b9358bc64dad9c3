"""The donor page (determination panel, serology, questionnaire, medications, history, signatures)
and the questionnaire form generated from the active criteria set."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for

from bank.web import can, db, get_or_404, requires, work
from donors import forms, queries, services
from donors.criteria_sets import parse
from donors.determination import signatures_with_validity
from donors.entries import record_answers
from donors.models import Donor
from donors.rules import autologous_serology_summary, sample_window
from donors.validation import DonorError
from donors.views import active_criteria, bp, refuse


@bp.route("/<int:donor_id>")
@requires("donor.view")
def show(donor_id: int):
    donor = get_or_404(Donor, donor_id)
    session = db()
    row = active_criteria()
    criteria = parse(row)
    facts = services.donor_facts(session, donor)
    det = services.evaluate(session, donor, row)
    answers = {a.question_id: a for a in queries.active_answers(session, donor)}
    window = sample_window(donor.harvest_date, criteria) if donor.harvest_date else None
    records = queries.determinations(session, donor)
    return render_template(
        "donors/show.html", donor=donor, criteria=criteria, criteria_row=row, det=det,
        identity=services.identity_of(session, donor) if can("donor.identify") else None,
        answers=answers, medications=queries.medications(session, donor),
        serology=queries.serology(session, donor), window=window,
        marker_names={m.marker: m.name for m in criteria.markers},
        findings=autologous_serology_summary(facts.serology, criteria) if donor.is_autologous else (),
        records=records, signatures=signatures_with_validity(session, donor, records),
        history=queries.status_history(session, donor),
        use=services.donor_use_facts(session, donor.id),
    )


@bp.route("/<int:donor_id>/questionnaire", methods=["GET", "POST"])
@requires("donor.edit")
def questionnaire(donor_id: int):
    donor = get_or_404(Donor, donor_id)
    criteria = parse(active_criteria())
    current = {a.question_id: a for a in queries.active_answers(db(), donor)}
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
        try:
            with work("screening questionnaire recorded"):
                changed = record_answers(db(), donor, answers)
        except DonorError as e:
            refuse(form, _field_errors(e))
        else:
            flash(f"Questionnaire saved ({changed} answer(s) changed).", "success")
            return redirect(url_for("donors.show", donor_id=donor.id) + "#questionnaire")
    return render_template("donors/questionnaire.html", form=form, donor=donor, criteria=criteria)


def _field_errors(error: DonorError) -> DonorError:
    """Service keys "answers.Q-X.event_date" -> form fields d_q_x (a_ for the answer, t_ for detail)."""
    prefixes = {"event_date": "d_", "detail": "t_"}
    mapped = {}
    for key, message in error.errors.items():
        parts = key.split(".")
        if parts[0] == "answers" and len(parts) >= 2:
            prefix = prefixes.get(parts[2], "a_") if len(parts) == 3 else "a_"
            mapped[prefix + forms.slug(parts[1])] = message
        else:
            mapped[key] = message
    return DonorError(mapped)
