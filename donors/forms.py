"""Donor forms: field shape and simple validation only (the services check every impossible value)."""

from __future__ import annotations

from wtforms import (
    BooleanField,
    DateField,
    FloatField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from bank.forms import BankForm, SignatureFields
from donors.rules import RESULTS, CriteriaSet

SEX_CHOICES = [("", "—"), ("F", "F (female)"), ("M", "M (male)")]
ANSWER_CHOICES = [("yes", "yes"), ("no", "no"), ("unknown", "unknown")]
REQUIRED = DataRequired(message="required")


class RegisterDonorForm(BankForm):
    sex = SelectField("Sex", choices=SEX_CHOICES, validators=[REQUIRED])
    birth_date = DateField("Date of birth", validators=[REQUIRED])
    weight_kg = FloatField("Weight at donation (kg)", validators=[Optional()])
    height_cm = FloatField("Height (cm)", validators=[Optional()])
    consent_version = StringField("Consent form version", validators=[REQUIRED, Length(max=40)])
    consent_date = DateField("Consent date", validators=[REQUIRED])
    is_autologous = BooleanField("Autologous donor (the patient gives their own tissue)")
    full_name = StringField(
        "Name (identifying; shown only to roles that need it)", validators=[Optional(), Length(max=160)]
    )


class EditDonorForm(RegisterDonorForm):
    version = HiddenField()
    hbc_risk_assessment = TextAreaField(
        "Documented risk assessment (anti-HBc positive, HBsAg negative)",
        validators=[Optional(), Length(max=2000)],
    )
    reason = StringField("Reason for the change", validators=[REQUIRED, Length(max=500)])


class HarvestDateForm(BankForm):
    harvest_date = DateField("Date of tissue collection (harvest)", validators=[REQUIRED])


class MedicationForm(BankForm):
    kind = SelectField("Kind", choices=[])
    name = StringField("Medication (name, dose)", validators=[REQUIRED, Length(max=120)])
    start_date = DateField("Start", validators=[REQUIRED])
    stop_date = DateField("Stop (empty if ongoing)", validators=[Optional()])


class SerologyForm(BankForm):
    marker = SelectField("Marker", choices=[])
    method = StringField("Method (e.g. CMIA, NAT)", validators=[REQUIRED, Length(max=60)])
    kit = StringField("Kit", validators=[REQUIRED, Length(max=120)])
    kit_lot = StringField("Kit lot", validators=[REQUIRED, Length(max=60)])
    sample_date = DateField("Sample drawn", validators=[REQUIRED])
    test_date = DateField("Tested", validators=[REQUIRED])
    result = SelectField("Result", choices=[("", "—")] + [(r, r) for r in RESULTS], validators=[REQUIRED])


class VoidForm(BankForm):
    reason = StringField(
        "Reason for voiding (entered in error, wrong donor, ...)", validators=[REQUIRED, Length(max=500)]
    )


class LookbackForm(BankForm):
    reason = StringField("Reason for the look-back", validators=[REQUIRED, Length(max=500)])


class SignDeterminationForm(SignatureFields, BankForm):
    decision = SelectField(
        "Decision",
        choices=[
            ("eligible", "Eligible"),
            ("ineligible", "Ineligible"),
            ("incomplete", "Incomplete (quarantine continues)"),
        ],
    )
    comment = TextAreaField(
        "Comment (required for an ineligible decision no rule supports)",
        validators=[Optional(), Length(max=2000)],
    )
    confirm = BooleanField(
        "I have reviewed the evidence; this signature cannot be undone",
        validators=[DataRequired(message="tick to confirm before signing")],
    )


class SignForm(SignatureFields, BankForm):
    confirm = BooleanField("I confirm this signature", validators=[DataRequired(message="tick to confirm")])


class RetireForm(BankForm):
    reason = StringField("Reason", validators=[REQUIRED, Length(max=500)])


def slug(question_id: str) -> str:
    return question_id.lower().replace("-", "_")


def questionnaire_form(criteria: CriteriaSet, data: dict) -> BankForm:
    """One form with, per question: yes / no / unknown (radio buttons, none preselected), the date when
    the question asks it, and a detail; field names a_<q>, d_<q>, t_<q>; and the reason for changes."""

    class QuestionnaireForm(BankForm):
        pass

    QuestionnaireForm.reason = StringField(
        "Reason for changing recorded answers (the originals stay on record)",
        validators=[Optional(), Length(max=500)],
    )
    for q in criteria.questions:
        s = slug(q.question_id)
        # Every item answered explicitly: nothing preselected; a missing answer is flagged on its row.
        setattr(
            QuestionnaireForm,
            f"a_{s}",
            RadioField(
                q.text,
                choices=ANSWER_CHOICES,
                validators=[InputRequired(message="answer yes, no or unknown")],
            ),
        )
        if q.asks_date:
            setattr(
                QuestionnaireForm,
                f"d_{s}",
                DateField("Date of the most recent episode", validators=[Optional()]),
            )
        setattr(QuestionnaireForm, f"t_{s}", StringField("Detail", validators=[Optional(), Length(max=300)]))
    return QuestionnaireForm(data=data)  # the request's form data when submitted, else `data`


def draft_form(thresholds, days_before: int, days_after: int) -> BankForm:
    """Thresholds of the source version, one number field each (name = "RULE-ID.param" slugged)."""

    class DraftForm(BankForm):
        note = StringField("What changes in this version, and why", validators=[REQUIRED, Length(max=500)])
        window_before = IntegerField(
            "Serology sample: days before harvest", default=days_before, validators=[InputRequired()]
        )
        window_after = IntegerField(
            "Serology sample: days after harvest", default=days_after, validators=[InputRequired()]
        )

    for key, criterion, param, value in thresholds:
        setattr(
            DraftForm,
            threshold_field(key),
            FloatField(
                f"{criterion.rule_id} — {criterion.text}: {param}",
                default=value,
                validators=[InputRequired()],
            ),
        )
    return DraftForm()


def threshold_field(key: str) -> str:
    return "p_" + key.lower().replace("-", "_").replace(".", "__")


class CorrectMedicationForm(MedicationForm):
    reason = StringField("Why is it corrected?", validators=[REQUIRED, Length(max=500)])


class CorrectSerologyForm(SerologyForm):
    reason = StringField("Why is it corrected?", validators=[REQUIRED, Length(max=500)])


class SerologyPanelForm(BankForm):
    """The serology panel: per marker of the criteria set `<marker>__result`, `__method`, `__kit`,
    `__kit_lot`, `__sample_date`, `__test_date` inputs beside this form (built by serology_panel_form)."""


def serology_panel_form(criteria: CriteriaSet) -> BankForm:
    class PanelForm(SerologyPanelForm):
        pass

    for m in criteria.markers:
        key = m.marker
        setattr(PanelForm, f"{key}__marker", HiddenField())  # error slot ("choose a marker")
        setattr(
            PanelForm,
            f"{key}__result",
            SelectField(m.name, choices=[("", "—")] + [(r, r) for r in RESULTS], default=""),
        )
        setattr(PanelForm, f"{key}__method", StringField("Method", validators=[Optional(), Length(max=60)]))
        setattr(PanelForm, f"{key}__kit", StringField("Kit", validators=[Optional(), Length(max=120)]))
        setattr(PanelForm, f"{key}__kit_lot", StringField("Kit lot", validators=[Optional(), Length(max=60)]))
        setattr(PanelForm, f"{key}__sample_date", DateField("Sample drawn", validators=[Optional()]))
        setattr(PanelForm, f"{key}__test_date", DateField("Tested", validators=[Optional()]))
    return PanelForm()
