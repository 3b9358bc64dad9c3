"""Forms of the doses domain: field shape only. Numbers and dates that could be impossible (weight 0,
a birth date in the future, a dose beyond the protocol) are judged by the services, whose messages
are put next to the field, so the API and the screens share one rule."""

from __future__ import annotations

from datetime import time

from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, HiddenField, IntegerField, RadioField, SelectField, StringField, TimeField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from bank.forms import BankForm, SignatureFields, entered
from bank.i18n import t
from doses.rules.protocol import CriterionKind, Protocol


def int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class PatientForm(BankForm):
    protocol_version_id = SelectField(t("Protocol"), coerce=int_or_none, validate_choice=False)
    subject_id = StringField(
        t("Subject id (trial-site-number, no names)"), validators=[DataRequired(), Length(max=40)]
    )
    site = SelectField(t("Site"), choices=[], validate_choice=False)
    sex = SelectField(t("Sex"), choices=[("F", "F"), ("M", "M")], validate_choice=False)
    date_of_birth = DateField(
        t("Date of birth"), validators=[InputRequired(message=t("Required (YYYY-MM-DD)."))]
    )
    first_dose_on = DateField(
        t("Planned date of dose 1"), validators=[InputRequired(message=t("Required (YYYY-MM-DD)."))]
    )
    donor_code = StringField(
        t("Own donor record (autologous protocols: DN-…)"), validators=[Optional(), Length(max=20)]
    )
    weight_kg = StringField(t("Weight (kg)"), validators=[Optional(), Length(max=20)])
    weight_measured_on = DateField(t("Weighed on"), validators=[Optional()])


def registration(form: PatientForm) -> dict:
    """A patient's registration as entered, as services.register_patient takes it (the screen and the API
    register alike): a weight left empty is no weight."""
    return entered(form, "weight_kg") | {"weight_kg": (form.weight_kg.data or "").strip() or None}


class WeightForm(BankForm):
    weight_kg = StringField(
        t("Weight (kg)"), validators=[DataRequired(message=t("Required.")), Length(max=20)]
    )
    measured_on = DateField(t("Weighed on"), validators=[InputRequired(message=t("Required (YYYY-MM-DD)."))])


def checklist_form(protocol: Protocol, field_name) -> type[BankForm]:
    """A form class with one yes/no question per attested item of the protocol's checklist."""

    class ChecklistForm(SignatureFields, BankForm):
        evaluation_date = DateField(
            t("Screening visit date"), validators=[InputRequired(message=t("Required."))]
        )
        edss = StringField(t("EDSS"), validators=[Optional(), Length(max=8)])
        diagnosis_date = DateField(t("Date of diagnosis"), validators=[Optional()])

    for c in protocol.checklist:
        if c.computed:
            continue
        question = t("Met?") if c.kind is CriterionKind.INCLUSION else t("Applies?")
        setattr(
            ChecklistForm,
            field_name(c.id),
            RadioField(
                t("%(item)s — %(criterion)s — %(question)s", item=c.id, criterion=c.text, question=question),
                choices=[("yes", t("yes")), ("no", t("no"))],
                validators=[Optional()],
                validate_choice=False,
            ),
        )
    return ChecklistForm


class RandomisationForm(BankForm):
    file = FileField(
        t("Randomisation list (CSV: subject_id,sequence)"), validators=[FileRequired(t("Choose the file."))]
    )


class AllocateForm(BankForm):
    dose_number = IntegerField(
        t("Dose number"), validators=[InputRequired(message=t("Required (a whole number)."))]
    )
    planned_date = DateField(
        t("Planned administration date"), validators=[InputRequired(message=t("Required."))]
    )
    planned_time = TimeField(t("Planned time (facility time)"), default=time(9, 0), validators=[Optional()])
    container_ids = HiddenField()


class DeallocateForm(BankForm):
    reason = StringField(
        t("Reason for de-allocation"), validators=[DataRequired(message=t("Say why.")), Length(max=500)]
    )


class UnblindForm(SignatureFields, BankForm):
    reason = StringField(
        t("Emergency: why the treatment must be known"),
        validators=[DataRequired(message=t("Say why.")), Length(max=500)],
    )


class LiftHoldForm(SignatureFields, BankForm):
    reason = StringField(
        t("Reason (investigation closed)"), validators=[DataRequired(message=t("Say why.")), Length(max=500)]
    )
