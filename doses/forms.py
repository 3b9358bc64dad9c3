"""Forms of the doses domain: field shape only. Numbers and dates that could be impossible (weight 0,
a birth date in the future, a dose beyond the protocol) are judged by the services, whose messages
are put next to the field, so the API and the screens share one rule."""

from __future__ import annotations

from datetime import time

from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, HiddenField, IntegerField, RadioField, SelectField, StringField, TimeField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from bank.forms import BankForm, SignatureFields
from doses.rules.protocol import CriterionKind, Protocol


def int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class PatientForm(BankForm):
    protocol_version_id = SelectField("Protocol", coerce=int_or_none, validate_choice=False)
    subject_id = StringField(
        "Subject id (trial-site-number, no names)", validators=[DataRequired(), Length(max=40)]
    )
    site = SelectField("Site", choices=[], validate_choice=False)
    sex = SelectField("Sex", choices=[("F", "F"), ("M", "M")], validate_choice=False)
    date_of_birth = DateField("Date of birth", validators=[InputRequired(message="Required (YYYY-MM-DD).")])
    first_dose_on = DateField(
        "Planned date of dose 1", validators=[InputRequired(message="Required (YYYY-MM-DD).")]
    )
    donor_code = StringField(
        "Own donor record (autologous protocols: DN-…)", validators=[Optional(), Length(max=20)]
    )
    weight_kg = StringField("Weight (kg)", validators=[Optional(), Length(max=20)])
    weight_measured_on = DateField("Weighed on", validators=[Optional()])


class WeightForm(BankForm):
    weight_kg = StringField("Weight (kg)", validators=[DataRequired(message="Required."), Length(max=20)])
    measured_on = DateField("Weighed on", validators=[InputRequired(message="Required (YYYY-MM-DD).")])


def checklist_form(protocol: Protocol, field_name) -> type[BankForm]:
    """A form class with one yes/no question per attested item of the protocol's checklist."""

    class ChecklistForm(SignatureFields, BankForm):
        evaluation_date = DateField("Screening visit date", validators=[InputRequired(message="Required.")])
        edss = StringField("EDSS", validators=[Optional(), Length(max=8)])
        diagnosis_date = DateField("Date of diagnosis", validators=[Optional()])

    for c in protocol.checklist:
        if c.computed:
            continue
        label = "Met?" if c.kind is CriterionKind.INCLUSION else "Applies?"
        setattr(
            ChecklistForm,
            field_name(c.id),
            RadioField(
                f"{c.id} — {c.text} — {label}",
                choices=[("yes", "yes"), ("no", "no")],
                validators=[Optional()],
                validate_choice=False,
            ),
        )
    return ChecklistForm


class RandomisationForm(BankForm):
    file = FileField(
        "Randomisation list (CSV: subject_id,sequence)", validators=[FileRequired("Choose the file.")]
    )


class AllocateForm(BankForm):
    dose_number = IntegerField(
        "Dose number", validators=[InputRequired(message="Required (a whole number).")]
    )
    planned_date = DateField("Planned administration date", validators=[InputRequired(message="Required.")])
    planned_time = TimeField("Planned time (facility time)", default=time(9, 0), validators=[Optional()])
    container_ids = HiddenField()


class DeallocateForm(BankForm):
    reason = StringField(
        "Reason for de-allocation", validators=[DataRequired(message="Say why."), Length(max=500)]
    )


class UnblindForm(SignatureFields, BankForm):
    reason = StringField(
        "Emergency: why the treatment must be known",
        validators=[DataRequired(message="Say why."), Length(max=500)],
    )


class LiftHoldForm(SignatureFields, BankForm):
    reason = StringField(
        "Reason (investigation closed)", validators=[DataRequired(message="Say why."), Length(max=500)]
    )
