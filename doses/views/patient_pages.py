"""Patient pages: the list (search, filters, pages), registration, weights, the signed enrolment
checklist, the patient's schedule with its doses, and emergency unblinding."""

from __future__ import annotations

from flask import abort, current_app, g, redirect, render_template, request, url_for
from sqlalchemy import select

from bank.esign import signature_valid
from bank.i18n import N_, t
from bank.languages import flash
from bank.lists import Export, SortColumn, listed
from bank.models import Signature
from bank.status import status_history
from bank.web import db, get_or_404, posted, requires, submitted
from donors.models import Donor
from doses import services
from doses.blueprint import (
    bp,
    ensure_protocols,
    is_masked,
    log_unblinded_view,
    protocol_codes,
    subject_filters,
)
from doses.forms import PatientForm, UnblindForm, WeightForm, checklist_form, registration
from doses.models import Patient, ProtocolVersion, Unblinding
from doses.rules import checklist_computed
from doses.states import ATTESTED_MEANING, PATIENT_STATES, PATIENT_WORKFLOW, UNBLINDING_MEANING

PATIENT_COLUMNS = (
    SortColumn("subject", N_("Subject"), Patient.subject_id),
    SortColumn("site", N_("Site"), Patient.site),
    SortColumn("status", N_("Status"), Patient.status),
    SortColumn("dose_1", N_("Dose 1 planned"), Patient.first_dose_on),
)
PATIENT_EXPORT = Export(
    "patients.csv",
    ("subject_id", "protocol", "site", "sex", "status", "dose_1_planned"),
    lambda p: (p.subject_id, p.protocol_version.label, p.site, p.sex, p.status, p.first_dose_on),
)


@bp.route("/patients")
@requires("patient.view")
def patients():
    ensure_protocols()
    stmt = select(Patient).join(ProtocolVersion).order_by(Patient.id.desc())
    stmt, filters = subject_filters(stmt, Patient.status, PATIENT_STATES)
    # What the list shows in CSV (no arm: the list never shows one), every row as filtered; newest first
    # pages by key, another order chosen in a header pages by OFFSET.
    order, page = listed(stmt, PATIENT_COLUMNS, Patient.id, PATIENT_EXPORT, keyset=Patient.id)
    return render_template(
        "doses/patients.html",
        page=page,
        **filters,
        codes=protocol_codes(),
        statuses=PATIENT_STATES,
        workflow=PATIENT_WORKFLOW,
        sorting=order,
    )


@bp.route("/patients/new", methods=["GET", "POST"])
@requires("patient.enroll")
def new_patient():
    ensure_protocols()
    rows = services.active_protocols(db())
    form = PatientForm()
    form.protocol_version_id.choices = [(r.id, f"{r.code} v{r.version}") for r in rows]
    form.site.choices = sorted({(s, s) for r in rows for s in r.protocol().sites})
    done = posted(form, lambda: services.register_patient(db(), **registration(form)), "patient registered")
    if done.ok:
        flash(
            t(
                "Subject %(subject)s registered; next: the enrolment checklist.",
                subject=done.value.subject_id,
            ),
            "success",
        )
        return redirect(url_for("doses.patient", patient_id=done.value.id))
    return render_template(
        "doses/patient_new.html", form=form
    ), 422 if form.errors or form.form_errors else 200


def _patient_page(patient: Patient, weight_form=None, code=200):
    session = db()
    protocol = patient.protocol_version.protocol()
    masked = is_masked(protocol)
    allocations = services.allocations_of(session, patient)
    by_dose = {}
    for a in allocations:
        if a.status != "deallocated":
            by_dose[a.dose_number] = a
    texts = {a.id: services.dose_text(protocol, a, g.actor.permissions) for a in allocations}
    sequence = None if masked else services.sequence_of(session, patient)
    history = status_history(session, patient)
    attestations = [
        (r, session.get(Signature, r.signature_id)) for r in services.attestations_of(session, patient)
    ]
    valid = {r.id: signature_valid(sig, services.attestation_content(patient, r)) for r, sig in attestations}
    log_unblinded_view([patient], f"patient {patient.subject_id}")
    # Panels other domains add to the patient page (biovigilance: follow-up visits, adverse events).
    panels = [panel(patient) for panel in current_app.extensions.get("bank.patient_panels", ())]
    return render_template(
        "doses/patient.html",
        patient=patient,
        p=protocol,
        masked=masked,
        schedule=services.patient_schedule(session, patient),
        by_dose=by_dose,
        allocations=allocations,
        texts=texts,
        sequence=sequence,
        randomised=services.is_randomised(session, patient),
        weights=services.weights_of(session, patient),
        weight_form=weight_form or WeightForm(),
        history=history,
        attestations=attestations,
        valid=valid,
        workflow=PATIENT_WORKFLOW,
        own_donor=session.get(Donor, patient.donor_id).code if patient.donor_id else None,
        unblindings=[
            (u, session.get(Signature, u.signature_id).printed_name)
            for u in session.scalars(select(Unblinding).where(Unblinding.patient_id == patient.id))
        ],
        panels=panels,
    ), code


@bp.route("/patients/<int:patient_id>")
@requires("patient.view")
def patient(patient_id: int):
    return _patient_page(get_or_404(Patient, patient_id))


@bp.route("/patients/<int:patient_id>/weights", methods=["POST"])
@requires("patient.enroll")
def add_weight(patient_id: int):
    patient = get_or_404(Patient, patient_id)
    form = WeightForm()
    if submitted(
        form,
        lambda: services.record_weight(db(), patient, form.weight_kg.data.strip(), form.measured_on.data),
        "weight recorded",
    ):
        flash(t("Weight recorded."), "success")
        return redirect(url_for("doses.patient", patient_id=patient.id))
    return _patient_page(patient, weight_form=form, code=422)


@bp.route("/patients/<int:patient_id>/checklist", methods=["GET", "POST"])
@requires("patient.enroll")
def checklist(patient_id: int):
    patient = get_or_404(Patient, patient_id)
    protocol = patient.protocol_version.protocol()
    form = checklist_form(protocol, services.field_name)()
    if patient.status == "enrolled":
        flash(t("%(subject)s is already enrolled.", subject=patient.subject_id), "info")
        return redirect(url_for("doses.patient", patient_id=patient.id))
    done = posted(
        form,
        lambda: services.attest_eligibility(
            db(),
            patient,
            g.user,
            form.signature_password.data,
            evaluation_date=form.evaluation_date.data,
            edss=form.edss.data,
            diagnosis_date=form.diagnosis_date.data,
            answers={
                c.id: getattr(form, services.field_name(c.id)).data
                for c in protocol.checklist
                if not c.computed
            },
        ),
        "eligibility checklist attested",
    )
    if done.ok:
        eligible = done.value.outcome == "eligible"
        flash(
            t("Checklist signed: enrolled.")
            if eligible
            else t("Checklist signed: not eligible (reasons in the history)."),
            "success" if eligible else "warning",
        )
        return redirect(url_for("doses.patient", patient_id=patient.id))
    computed = []
    if form.evaluation_date.data:
        computed = checklist_computed(
            protocol,
            patient.date_of_birth,
            form.evaluation_date.data,
            form.edss.data or None,
            form.diagnosis_date.data,
        )
    items = [(c, getattr(form, services.field_name(c.id), None)) for c in protocol.checklist]
    return render_template(
        "doses/checklist.html",
        patient=patient,
        p=protocol,
        form=form,
        items=items,
        computed=computed,
        meaning=ATTESTED_MEANING,
    ), 422 if request.method == "POST" else 200


@bp.route("/patients/<int:patient_id>/unblind", methods=["GET", "POST"])
@requires("patient.enroll")
def unblind(patient_id: int):
    """Emergency unblinding by the investigator: reason + e-signature; the answer is shown once, logged."""
    patient = get_or_404(Patient, patient_id)
    protocol = patient.protocol_version.protocol()
    if not protocol.blinded:
        abort(404)
    form = UnblindForm()
    revealed = None
    done = posted(
        form,
        lambda: services.emergency_unblind(
            db(), patient, g.user, form.signature_password.data, form.reason.data
        ),
        "emergency unblinding",
    )
    if done.ok:
        revealed = services.sequence_text(protocol, done.value)
    code = 422 if request.method == "POST" and revealed is None else 200
    return render_template(
        "doses/unblind.html",
        patient=patient,
        p=protocol,
        form=form,
        revealed=revealed,
        meaning=UNBLINDING_MEANING,
    ), code
