"""Donor endpoints of the JSON API: register, screening entries, serology, and the eligibility outcome.

Same forms, services and permissions as the screens (bank/api.py)."""

from __future__ import annotations

from flask import jsonify, request
from sqlalchemy import select

from bank.api import PAGE_QUERY, api_route, api_write, fields_of, object_schema, page_json
from bank.forms import entered
from bank.i18n import t
from bank.web import LIKE_ESCAPE, can, db, get_or_404, like_pattern, paginate, text_arg
from donors import forms, services
from donors.blueprint import active_criteria
from donors.models import Donor
from donors.rules import stored_missing, stored_reasons
from donors.services.criteria import parse
from donors.states import DECISIONS, DONOR_STATUSES

DONOR = object_schema(
    id="integer",
    code="string",
    status={"type": "string", "enum": list(DONOR_STATUSES)},
    is_autologous="boolean",
    under_lookback="boolean",
    harvest_date={"type": ["string", "null"], "format": "date"},
)
OUTCOME = object_schema(
    outcome={"type": "string", "enum": list(DECISIONS)},
    criteria_set="string",
    reasons={"type": "array", "items": {"type": "object"}},
    missing={"type": "array", "items": {"type": "object"}},
    signed_status="string",
    eligible_signed="boolean",
)


def donor_json(d: Donor) -> dict:
    return {
        **fields_of(d, "id", "code", "status", "is_autologous", "under_lookback"),
        **fields_of(d, "sex", "weight_kg", "height_cm"),
        "birth_date": d.birth_date.isoformat(),
        "harvest_date": d.harvest_date.isoformat() if d.harvest_date else None,
    }


class AnswerForm(forms.BankForm):
    question_id = forms.SelectField(t("Question id (from the active criteria set)"), choices=[])
    answer = forms.SelectField(t("Answer"), choices=[("yes", t("yes")), ("no", t("no"))])
    event_date = forms.DateField(
        t("Date of the most recent episode (dated questions)"), validators=[forms.Optional()]
    )
    detail = forms.StringField(t("Detail"), validators=[forms.Optional(), forms.Length(max=300)])


def _questions(form):
    form.question_id.choices = [(q.question_id, t(q.text)) for q in parse(active_criteria()).questions]


def _markers(form):
    form.marker.choices = [(m.marker, t(m.name)) for m in parse(active_criteria()).markers]


def _kinds(form):
    form.kind.choices = [(k, t(k)) for k in parse(active_criteria()).medication_kinds]


def _register_form(form):
    if not can("donor.identify"):
        del form.full_name


@api_route(
    "/donors",
    permission="donor.view",
    summary="List donors (search by code, filter by status)",
    query={
        **PAGE_QUERY,
        "q": {"type": "string", "maxLength": 40},
        "status": {"type": "string", "enum": list(DONOR_STATUSES)},
    },
    response={"type": "object", "properties": {"items": {"type": "array", "items": DONOR}}},
)
def donors_list():
    stmt = select(Donor).order_by(Donor.id.desc())
    q = text_arg("q")
    if q:
        stmt = stmt.where(Donor.code.ilike(like_pattern(q), escape=LIKE_ESCAPE))
    if request.args.get("status") in DONOR_STATUSES:
        stmt = stmt.where(Donor.status == request.args["status"])
    return jsonify(page_json(paginate(stmt), donor_json))


@api_write(
    "/donors",
    form=forms.RegisterDonorForm,
    prepare=_register_form,
    permission="donor.edit",
    reason="donor registered (API)",
    answer=donor_json,
    response=DONOR,
    summary="Register a donor",
)
def donors_register(form: forms.RegisterDonorForm) -> Donor:
    # The name as sent (None when left out), and only from a token allowed to identify donors.
    full_name = form.full_name.data if "full_name" in form else None
    return services.register_donor(db(), **entered(form, "full_name"), full_name=full_name)


@api_route(
    "/donors/<int:donor_id>", permission="donor.view", summary="One donor with its serology", response=DONOR
)
def donors_show(donor_id: int):
    donor = get_or_404(Donor, donor_id)
    data = donor_json(donor)
    data["serology"] = [
        {
            "id": t.id,
            "marker": t.marker,
            "method": t.method,
            "kit": t.kit,
            "kit_lot": t.kit_lot,
            "sample_date": t.sample_date.isoformat(),
            "test_date": t.test_date.isoformat(),
            "result": t.result,
            "voided": t.voided_at is not None,
        }
        for t in services.serology(db(), donor)
    ]
    return jsonify(data)


@api_write(
    "/donors/<int:donor_id>/harvest-date",
    Donor,
    form=forms.HarvestDateForm,
    permission="donor.edit",
    reason="harvest date recorded (API)",
    answer=donor_json,
    status=200,
    response=DONOR,
    summary="Record the date of tissue collection (the serology window counts from it)",
)
def donors_harvest_date(donor: Donor, form: forms.HarvestDateForm) -> Donor:
    services.set_harvest_date(db(), donor, form.harvest_date.data)
    return donor


@api_write(
    "/donors/<int:donor_id>/serology",
    Donor,
    form=forms.SerologyForm,
    prepare=_markers,
    permission="donor.edit",
    reason="serology recorded (API)",
    answer=lambda test: fields_of(test, "id", "marker", "result"),
    summary="Record one infectious-marker result",
)
def donors_serology(donor: Donor, form: forms.SerologyForm):
    return services.record_serology(db(), donor, **entered(form))


@api_write(
    "/donors/<int:donor_id>/answers",
    Donor,
    form=AnswerForm,
    prepare=_questions,
    permission="donor.edit",
    reason="screening answer recorded (API)",
    summary="Answer one screening question",
)
def donors_answer(donor: Donor, form: AnswerForm) -> dict:
    yes = form.answer.data == "yes"
    services.record_answer(
        db(), donor, form.question_id.data, yes, form.event_date.data, form.detail.data or ""
    )
    return {"question_id": form.question_id.data, "answer": form.answer.data}


@api_write(
    "/donors/<int:donor_id>/medications",
    Donor,
    form=forms.MedicationForm,
    prepare=_kinds,
    permission="donor.edit",
    reason="medication recorded (API)",
    answer=lambda course: {"id": course.id},
    summary="Record a course of medication",
)
def donors_medication(donor: Donor, form: forms.MedicationForm):
    return services.record_medication(db(), donor, **entered(form))


@api_route(
    "/donors/<int:donor_id>/eligibility",
    permission="donor.view",
    summary="The eligibility outcome now (every reason and missing item) and the signed status",
    response=OUTCOME,
)
def donors_eligibility(donor_id: int):
    donor = get_or_404(Donor, donor_id)
    row = active_criteria()
    det = services.evaluate(db(), donor, row)
    use = services.donor_use_facts(db(), donor.id)
    return jsonify(
        {
            "outcome": det.outcome,
            "criteria_set": row.label,
            "reasons": stored_reasons(det.reasons),
            "missing": stored_missing(det.missing),
            "signed_status": donor.status,
            "eligible_signed": use.eligible_signed,
        }
    )
