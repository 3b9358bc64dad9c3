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
from bank.i18n import t
from donors.rules import RESULTS, CriteriaSet
from donors.rules.criteria import PARAM_NAMES

SEX_CHOICES = [("", "—"), ("F", t("F (female)")), ("M", t("M (male)"))]
ANSWER_CHOICES = [("yes", t("yes")), ("no", t("no")), ("unknown", t("unknown"))]
REQUIRED = DataRequired(message=t("required"))
# Serology results are stored as these English words; the choice shows them in the reader's language.
RESULT_CHOICES = [("", "—")] + [(r, t(r)) for r in RESULTS]


class RegisterDonorForm(BankForm):
    sex = SelectField(t("Sex"), choices=SEX_CHOICES, validators=[REQUIRED])
    birth_date = DateField(t("Date of birth"), validators=[REQUIRED])
    weight_kg = FloatField(t("Weight at donation (kg)"), validators=[Optional()])
    height_cm = FloatField(t("Height (cm)"), validators=[Optional()])
    consent_version = StringField(t("Consent form version"), validators=[REQUIRED, Length(max=40)])
    consent_date = DateField(t("Consent date"), validators=[REQUIRED])
    is_autologous = BooleanField(t("Autologous donor (the patient gives their own tissue)"))
    full_name = StringField(
        t("Name (identifying; shown only to roles that need it)"), validators=[Optional(), Length(max=160)]
    )


class EditDonorForm(RegisterDonorForm):
    version = HiddenField()
    hbc_risk_assessment = TextAreaField(
        t("Documented risk assessment (anti-HBc positive, HBsAg negative)"),
        validators=[Optional(), Length(max=2000)],
    )
    reason = StringField(t("Reason for the change"), validators=[REQUIRED, Length(max=500)])


class HarvestDateForm(BankForm):
    harvest_date = DateField(t("Date of tissue collection (harvest)"), validators=[REQUIRED])


class MedicationForm(BankForm):
    kind = SelectField(t("Kind"), choices=[])
    name = StringField(t("Medication (name, dose)"), validators=[REQUIRED, Length(max=120)])
    start_date = DateField(t("Start"), validators=[REQUIRED])
    stop_date = DateField(t("Stop (empty if ongoing)"), validators=[Optional()])


class SerologyForm(BankForm):
    marker = SelectField(t("Marker"), choices=[])
    method = StringField(t("Method (e.g. CMIA, NAT)"), validators=[REQUIRED, Length(max=60)])
    kit = StringField(t("Kit"), validators=[REQUIRED, Length(max=120)])
    kit_lot = StringField(t("Kit lot"), validators=[REQUIRED, Length(max=60)])
    sample_date = DateField(t("Sample drawn"), validators=[REQUIRED])
    test_date = DateField(t("Tested"), validators=[REQUIRED])
    result = SelectField(t("Result"), choices=RESULT_CHOICES, validators=[REQUIRED])


class VoidForm(BankForm):
    reason = StringField(
        t("Reason for voiding (entered in error, wrong donor, ...)"), validators=[REQUIRED, Length(max=500)]
    )


class LookbackForm(BankForm):
    reason = StringField(t("Reason for the look-back"), validators=[REQUIRED, Length(max=500)])


class SignDeterminationForm(SignatureFields, BankForm):
    decision = SelectField(
        t("Decision"),
        choices=[
            ("eligible", t("Eligible")),
            ("ineligible", t("Ineligible")),
            ("incomplete", t("Incomplete (quarantine continues)")),
        ],
    )
    comment = TextAreaField(
        t("Comment (required for an ineligible decision no rule supports)"),
        validators=[Optional(), Length(max=2000)],
    )
    confirm = BooleanField(
        t("I have reviewed the evidence; this signature cannot be undone"),
        validators=[DataRequired(message=t("tick to confirm before signing"))],
    )


class SignForm(SignatureFields, BankForm):
    confirm = BooleanField(
        t("I confirm this signature"), validators=[DataRequired(message=t("tick to confirm"))]
    )


class RetireForm(BankForm):
    reason = StringField(t("Reason"), validators=[REQUIRED, Length(max=500)])


def slug(question_id: str) -> str:
    return question_id.lower().replace("-", "_")


def questionnaire_form(criteria: CriteriaSet, data: dict) -> BankForm:
    """One form with, per question: yes / no / unknown (radio buttons, none preselected), the date when
    the question asks it, and a detail; field names a_<q>, d_<q>, t_<q>; and the reason for changes."""

    class QuestionnaireForm(BankForm):
        pass

    QuestionnaireForm.reason = StringField(
        t("Reason for changing recorded answers (the originals stay on record)"),
        validators=[Optional(), Length(max=500)],
    )
    for q in criteria.questions:
        s = slug(q.question_id)
        # Every item answered explicitly: nothing preselected; a missing answer is flagged on its row.
        setattr(
            QuestionnaireForm,
            f"a_{s}",
            RadioField(
                t(q.text),  # the criteria set's question (stored English, shown translated)
                choices=ANSWER_CHOICES,
                validators=[InputRequired(message=t("answer yes, no or unknown"))],
            ),
        )
        if q.asks_date:
            setattr(
                QuestionnaireForm,
                f"d_{s}",
                DateField(t("Date of the most recent episode"), validators=[Optional()]),
            )
        setattr(
            QuestionnaireForm, f"t_{s}", StringField(t("Detail"), validators=[Optional(), Length(max=300)])
        )
    return QuestionnaireForm(data=data)  # the request's form data when submitted, else `data`


def draft_form(thresholds, days_before: int, days_after: int) -> BankForm:
    """Thresholds of the source version, one number field each (name = "RULE-ID.param" slugged)."""

    class DraftForm(BankForm):
        note = StringField(t("What changes in this version, and why"), validators=[REQUIRED, Length(max=500)])
        window_before = IntegerField(
            t("Serology sample: days before harvest"), default=days_before, validators=[InputRequired()]
        )
        window_after = IntegerField(
            t("Serology sample: days after harvest"), default=days_after, validators=[InputRequired()]
        )

    for key, criterion, param, value in thresholds:
        setattr(
            DraftForm,
            threshold_field(key),
            FloatField(
                t(
                    "%(rule)s — %(criterion)s: %(parameter)s",
                    rule=criterion.rule_id,
                    criterion=t(criterion.text),
                    parameter=t(PARAM_NAMES.get(param, param)),
                ),
                default=value,
                validators=[InputRequired()],
            ),
        )
    return DraftForm()


def threshold_field(key: str) -> str:
    return "p_" + key.lower().replace("-", "_").replace(".", "__")


class CorrectMedicationForm(MedicationForm):
    reason = StringField(t("Why is it corrected?"), validators=[REQUIRED, Length(max=500)])


class CorrectSerologyForm(SerologyForm):
    reason = StringField(t("Why is it corrected?"), validators=[REQUIRED, Length(max=500)])


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
            SelectField(t(m.name), choices=RESULT_CHOICES, default=""),
        )
        setattr(
            PanelForm, f"{key}__method", StringField(t("Method"), validators=[Optional(), Length(max=60)])
        )
        setattr(PanelForm, f"{key}__kit", StringField(t("Kit"), validators=[Optional(), Length(max=120)]))
        setattr(
            PanelForm, f"{key}__kit_lot", StringField(t("Kit lot"), validators=[Optional(), Length(max=60)])
        )
        setattr(PanelForm, f"{key}__sample_date", DateField(t("Sample drawn"), validators=[Optional()]))
        setattr(PanelForm, f"{key}__test_date", DateField(t("Tested"), validators=[Optional()]))
    return PanelForm()
