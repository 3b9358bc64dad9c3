"""Forms of the release domain: field shape only; the services judge the values against the specification
(so a unit that does not match or a percentage over 100 is refused next to its field by the service)."""

from __future__ import annotations

from flask_wtf.file import FileField
from wtforms import BooleanField, DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from bank.forms import BankForm, SignatureFields
from bank.i18n import t


class ResultForm(BankForm):
    """One result; a marker panel's values come as `marker-<name>` inputs beside this form's fields, and
    their error (the service's `markers` input error) is shown from `markers`."""

    test_code = SelectField(
        t("Test"),
        choices=[],
        validate_choice=False,  # the service names a foreign code
        validators=[DataRequired(message=t("Choose the test."))],
    )
    method = StringField(t("Method"), validators=[Length(max=200)])
    instrument = StringField(t("Instrument"), validators=[Optional(), Length(max=120)])
    performed_on = DateField(
        t("Date performed"), validators=[InputRequired(message=t("Give the date performed."))]
    )
    value = StringField(t("Result"), validators=[Optional(), Length(max=500)])
    unit = StringField(t("Unit"), validators=[Optional(), Length(max=40)])
    attachment = FileField(t("Raw data (optional, at most 5 MB)"))
    retest_of = HiddenField()
    retest_reason = StringField(t("Reason for the retest"), validators=[Optional(), Length(max=500)])
    markers = HiddenField()  # never typed: the panel's inputs are `marker-<name>`
    confirm_out_of_specification = BooleanField(
        t("I checked this value: record it as out of specification (it stays on the certificate of analysis)")
    )


class CorrectResultForm(ResultForm):
    """A correction of a result typed wrongly: the same fields, and the reason (the original is kept)."""

    test_code = None  # the test of the result corrected
    retest_of = None
    retest_reason = None
    attachment = None
    reason = StringField(
        t("Why is it corrected (what was typed wrongly)?"),
        validators=[DataRequired(message=t("Say why the result is corrected.")), Length(max=500)],
    )


class VoidResultForm(BankForm):
    reason = StringField(
        t("Why is it voided (entered in error, wrong lot, ...)?"),
        validators=[DataRequired(message=t("Say why the result is voided.")), Length(max=500)],
    )


class PanelForm(BankForm):
    """The lot's QC panel on one page: each test's inputs are `<code>__method`, `__instrument`,
    `__value`, `__unit`, `__m_<marker>` beside these shared fields (rows left empty are not entered)."""

    performed_on = DateField(t("Date performed (rows may give their own)"), validators=[Optional()])
    method = StringField(t("Method (rows may give their own)"), validators=[Optional(), Length(max=200)])
    instrument = StringField(
        t("Instrument (rows may give their own)"), validators=[Optional(), Length(max=120)]
    )
    confirm_out_of_specification = BooleanField(
        t("I checked these values: record the out-of-specification rows as such")
    )


class ReleaseForm(SignatureFields, BankForm):
    conditional = BooleanField(
        t(
            "Conditional release: accept interim results the specification allows "
            "(sterility 'no growth to date'); the final result is still required"
        )
    )
    confirm = BooleanField(
        t("I have reviewed every result of this lot and release it for clinical use"),
        validators=[DataRequired(message=t("Tick the box to confirm."))],
    )


class RejectForm(SignatureFields, BankForm):
    reason = StringField(
        t("Reason for rejection"), validators=[DataRequired(message=t("Give the reason.")), Length(max=500)]
    )
    confirm = BooleanField(
        t("I reject this lot: it will never be used"),
        validators=[DataRequired(message=t("Tick the box to confirm."))],
    )


class SpecDraftForm(BankForm):
    """The draft's limits are `<code>__min`, `<code>__max`, `<code>__r<n>`, `<code>__conditional` inputs
    beside these fields (one per test, listed by release.services.editable_fields)."""

    version = HiddenField()
    change_note = TextAreaField(t("What changed and why"), validators=[Length(max=2000)])


class ApproveSpecForm(SignatureFields, BankForm):
    confirm = BooleanField(
        t("I approve this specification version"),
        validators=[DataRequired(message=t("Tick the box to confirm."))],
    )


class ConfirmStepForm(BankForm):
    """A bare POST with CSRF (new draft, make effective, load the seed)."""


class AcknowledgeForm(BankForm):
    note = TextAreaField(
        t("What was done (clinician informed, doses held, investigation)"),
        validators=[DataRequired(message=t("Say what was done.")), Length(max=2000)],
    )


class DigestCheckForm(BankForm):
    class Meta:
        csrf = False  # a read-only lookup, safe as GET

    din = StringField(t("DIN (13 characters, as printed)"), validators=[DataRequired(), Length(max=40)])
    digest = StringField(
        t("Content SHA-256 printed on the certificate"), validators=[DataRequired(), Length(max=100)]
    )


class BatchRecordCheckForm(DigestCheckForm):
    digest = StringField(
        t("Content SHA-256 printed in the batch record's footer"),
        validators=[DataRequired(), Length(max=100)],
    )


ROW_FIELDS = ("method", "instrument", "value", "unit")
ROW_ERROR_SLOTS = (
    "markers",
    "performed_on",
    "test_code",
    "attachment",
    "retest_reason",
    "confirm_out_of_specification",
)


def panel_form(codes: list[str]) -> PanelForm:
    """PanelForm with, per test code, `<code>__method`, `__instrument`, `__value`, `__unit` inputs and
    hidden slots for the errors of its markers and date (a marker's input is `<code>__m_<marker>`)."""

    class RowsForm(PanelForm):
        pass

    for code in codes:
        for name in ROW_FIELDS:
            setattr(RowsForm, f"{code}__{name}", StringField(name, validators=[Optional(), Length(max=500)]))
        for name in ROW_ERROR_SLOTS:
            setattr(RowsForm, f"{code}__{name}", HiddenField())
    return RowsForm()
