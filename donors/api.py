"""Donor endpoints of the JSON API: register, screening entries, serology, and the eligibility outcome.

Same forms, services and permissions as the screens (bank/api.py)."""

from __future__ import annotations

from flask import jsonify, request
from sqlalchemy import select

from bank.api import PAGE_QUERY, api_route, form_from_json, page_json
from bank.i18n import t
from bank.web import LIKE_ESCAPE, can, db, get_or_404, like_pattern, paginate, work
from donors import forms, services
from donors.blueprint import active_criteria
from donors.models import Donor
from donors.rules import stored_missing, stored_reasons
from donors.services.criteria import parse
from donors.states import DECISIONS, DONOR_STATUSES

DONOR = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "code": {"type": "string"},
        "status": {"type": "string", "enum": list(DONOR_STATUSES)},
        "is_autologous": {"type": "boolean"},
        "under_lookback": {"type": "boolean"},
        "harvest_date": {"type": ["string", "null"], "format": "date"},
    },
}
OUTCOME = {
    "type": "object",
    "properties": {
        "outcome": {"type": "string", "enum": list(DECISIONS)},
        "criteria_set": {"type": "string"},
        "reasons": {"type": "array", "items": {"type": "object"}},
        "missing": {"type": "array", "items": {"type": "object"}},
        "signed_status": {"type": "string"},
        "eligible_signed": {"type": "boolean"},
    },
}


def donor_json(d: Donor) -> dict:
    return {
        "id": d.id,
        "code": d.code,
        "status": d.status,
        "is_autologous": d.is_autologous,
        "under_lookback": d.under_lookback,
        "sex": d.sex,
        "birth_date": d.birth_date.isoformat(),
        "weight_kg": d.weight_kg,
        "height_cm": d.height_cm,
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
    q = request.args.get("q", "").strip()[:40]
    if q:
        stmt = stmt.where(Donor.code.ilike(like_pattern(q), escape=LIKE_ESCAPE))
    if request.args.get("status") in DONOR_STATUSES:
        stmt = stmt.where(Donor.status == request.args["status"])
    return jsonify(page_json(paginate(stmt), donor_json))


@api_route(
    "/donors",
    methods=("POST",),
    permission="donor.edit",
    summary="Register a donor",
    form=forms.RegisterDonorForm,
    prepare=_register_form,
    response=DONOR,
)
def donors_register():
    form = form_from_json(forms.RegisterDonorForm, _register_form)
    with work("donor registered (API)"):
        donor = services.register_donor(
            db(),
            sex=form.sex.data,
            birth_date=form.birth_date.data,
            weight_kg=form.weight_kg.data,
            height_cm=form.height_cm.data,
            consent_version=form.consent_version.data,
            consent_date=form.consent_date.data,
            is_autologous=form.is_autologous.data,
            full_name=form.full_name.data if "full_name" in form else None,
        )
    return jsonify(donor_json(donor)), 201


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


@api_route(
    "/donors/<int:donor_id>/harvest-date",
    methods=("POST",),
    permission="donor.edit",
    summary="Record the date of tissue collection (the serology window counts from it)",
    form=forms.HarvestDateForm,
    response=DONOR,
)
def donors_harvest_date(donor_id: int):
    donor = get_or_404(Donor, donor_id)
    form = form_from_json(forms.HarvestDateForm)
    with work("harvest date recorded (API)"):
        services.set_harvest_date(db(), donor, form.harvest_date.data)
    return jsonify(donor_json(donor))


@api_route(
    "/donors/<int:donor_id>/serology",
    methods=("POST",),
    permission="donor.edit",
    summary="Record one infectious-marker result",
    form=forms.SerologyForm,
    prepare=_markers,
)
def donors_serology(donor_id: int):
    donor = get_or_404(Donor, donor_id)
    form = form_from_json(forms.SerologyForm, _markers)
    with work("serology recorded (API)"):
        test = services.record_serology(
            db(),
            donor,
            marker=form.marker.data,
            method=form.method.data,
            kit=form.kit.data,
            kit_lot=form.kit_lot.data,
            sample_date=form.sample_date.data,
            test_date=form.test_date.data,
            result=form.result.data,
        )
    return jsonify({"id": test.id, "marker": test.marker, "result": test.result}), 201


@api_route(
    "/donors/<int:donor_id>/answers",
    methods=("POST",),
    permission="donor.edit",
    summary="Answer one screening question",
    form=AnswerForm,
    prepare=_questions,
)
def donors_answer(donor_id: int):
    donor = get_or_404(Donor, donor_id)
    form = form_from_json(AnswerForm, _questions)
    with work("screening answer recorded (API)"):
        services.record_answer(
            db(),
            donor,
            form.question_id.data,
            form.answer.data == "yes",
            form.event_date.data,
            form.detail.data or "",
        )
    return jsonify({"question_id": form.question_id.data, "answer": form.answer.data}), 201


@api_route(
    "/donors/<int:donor_id>/medications",
    methods=("POST",),
    permission="donor.edit",
    summary="Record a course of medication",
    form=forms.MedicationForm,
    prepare=_kinds,
)
def donors_medication(donor_id: int):
    donor = get_or_404(Donor, donor_id)
    form = form_from_json(forms.MedicationForm, _kinds)
    with work("medication recorded (API)"):
        course = services.record_medication(
            db(), donor, form.kind.data, form.name.data, form.start_date.data, form.stop_date.data
        )
    return jsonify({"id": course.id}), 201


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
