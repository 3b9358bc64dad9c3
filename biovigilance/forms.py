"""Forms of biovigilance: field shape only. Whether a grade, an imputability or an onset is possible is
judged by biovigilance.rules (through the services), so the screens and the API refuse the same input
with the same words, next to the field."""

from __future__ import annotations

from wtforms import DateField, SelectField, SelectMultipleField, TextAreaField, widgets
from wtforms.validators import InputRequired, Length, Optional

from bank.forms import BankForm, LocalDateTimeField, SignatureFields
from bank.i18n import t
from biovigilance.rules import GRADES, IMPUTABILITY, OUTCOMES, SERIOUSNESS


def int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _choices(words: dict) -> list[tuple]:
    return [(key, t(text)) for key, text in words.items()]


class CheckboxList(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class EventFields(BankForm):
    description = TextAreaField(t("What happened"), validators=[Length(max=4000)])
    seriousness = CheckboxList(
        t("Seriousness criteria (none: not serious)"), choices=_choices(SERIOUSNESS), validate_choice=False
    )
    grade = SelectField(
        t("Severity grade (CTCAE)"),
        choices=[("", t("not graded")), *((str(k), t(v)) for k, v in GRADES.items())],
        coerce=int_or_none,
        validate_choice=False,
    )
    outcome = SelectField(t("Outcome"), choices=_choices(OUTCOMES), validate_choice=False)
    imputability = SelectField(
        t("Imputability to the cells"), choices=_choices(IMPUTABILITY), validate_choice=False
    )


class EventForm(EventFields):
    allocation_id = SelectField(t("Dose it may come from"), coerce=int_or_none, validate_choice=False)
    onset_at = LocalDateTimeField(t("Onset (%(zone)s)"), validators=[Optional()])


class EventUpdateForm(EventFields):
    note = TextAreaField(t("What the follow-up found"), validators=[Length(max=4000)])


class CloseForm(SignatureFields, BankForm):
    conclusion = TextAreaField(t("Conclusion of the investigation"), validators=[Length(max=4000)])
    corrective_actions = TextAreaField(t("Corrective and preventive actions"), validators=[Length(max=4000)])


class HoldForm(SignatureFields, BankForm):
    pass


class FollowUpForm(BankForm):
    label = SelectField(t("Visit"), choices=[], validate_choice=False)
    visit_on = DateField(
        t("Date of the visit"), validators=[InputRequired(message=t("Required (YYYY-MM-DD)."))]
    )
    findings = TextAreaField(t("Findings"), validators=[Length(max=4000)])
