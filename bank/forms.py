"""Core forms: login, password change, e-signature, user administration, audit filter; and BankForm,
the base every form uses so that a control character in any field is a field error, never a 500."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal

import wtforms
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    HiddenField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from bank.clock import LocalTimeError, from_local, to_local
from bank.i18n import Text, localize, t
from bank.languages import facility_zone, number_text, parse_number
from bank.permissions import ROLE_LABELS, ROLES
from bank.refusals import control_character_errors


def no_control_characters(value):
    """WTForms filter: text holding a control character (a NUL byte, which PostgreSQL cannot store, or
    any other people never type; tab and line breaks are text) is refused as this field's error."""
    values = value if isinstance(value, list) else [value]
    if control_character_errors({str(i): v for i, v in enumerate(values)}):
        raise ValueError(t("Contains a control character that cannot be recorded; remove it."))
    return value


class ReadsLocalNumbers:
    """A number field that reads what people type in their language: "81,5" in French (bank.languages)."""

    def process_formdata(self, valuelist):
        self.data = None
        text = valuelist[0] if valuelist else ""
        if text is None or not str(text).strip():
            return
        if isinstance(text, int | float | Decimal) and not isinstance(text, bool):
            text = repr(text)  # a JSON number from the API
        number = parse_number(str(text))
        self.data = float(number) if isinstance(self, wtforms.FloatField) else number


class LocalFloatField(ReadsLocalNumbers, wtforms.FloatField):
    pass


class LocalDecimalField(ReadsLocalNumbers, wtforms.DecimalField):
    pass


MILLION = Decimal(1_000_000)


class CellCountField(LocalFloatField):
    """A number of cells typed in millions, as the bench counts them: "12.5" beside "× 10⁶" is 12 500 000
    cells, and `data` is always the number of cells. The API's JSON gives the number of cells itself: its
    forms are made with meta `cells_in_millions=False` (bank.api.form_from_json)."""

    def _in_millions(self) -> bool:
        return getattr(self.meta, "cells_in_millions", True)

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None and self._in_millions():
            self.data = float(
                Decimal(repr(self.data)) * MILLION
            )  # exact: 2.1 is 2 100 000, not 2 100 000.0000002

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]  # what was typed, shown again as typed
        if self.data is None:
            return ""
        return number_text(Decimal(repr(self.data)) / MILLION if self._in_millions() else self.data)

    def __call__(self, **kwargs):
        if not self._in_millions():
            return super().__call__(**kwargs)
        unit = f"{self.id}-unit"
        kwargs.setdefault("inputmode", "decimal")
        html = super().__call__(**{"aria-describedby": unit, **kwargs})
        # The multiplier is read as words by screen readers ("in millions of cells").
        return Markup(
            '<div class="input-group input-group-sm cells-input">{}<span class="input-group-text multiplier" '
            'id="{}"><span aria-hidden="true">× 10⁶</span><span class="visually-hidden">{}</span></span></div>'
        ).format(html, unit, localize(t("in millions of cells")))


def _reading_local_numbers(field_class):
    if issubclass(field_class, ReadsLocalNumbers):
        return field_class
    if issubclass(field_class, wtforms.DecimalField):
        return LocalDecimalField
    if issubclass(field_class, wtforms.FloatField):
        return LocalFloatField
    return field_class


class BankForm(FlaskForm):
    """The base of every form (bank and domains): each field refuses control characters, and every
    decimal number field reads the reader's decimal mark ("81,5" in French)."""

    class Meta:
        def bind_field(self, form, unbound_field, options):
            filters = unbound_field.kwargs.get("filters") or ()
            options["filters"] = (no_control_characters, *filters)
            unbound_field.field_class = _reading_local_numbers(unbound_field.field_class)
            return unbound_field.bind(form=form, **options)


# A date and time as typed: wall clock of the facility, or with an offset ("Z", "+01:00").
_WALL_CLOCK = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2})?"
_OFFSET = r"(Z|[+-][0-9]{2}:[0-9]{2})"
TYPED_TIME = re.compile(f"{_WALL_CLOCK}{_OFFSET}?")
API_TIME_PATTERN = f"^{_WALL_CLOCK}{_OFFSET}$"  # the API requires the offset (OpenAPI `pattern`)
FOLD_SUFFIX = "_fold"  # the form key of the "first / second" choice in the hour repeated in autumn


def _fold_widget(field, **kwargs):
    html = field.input_widget(field, **kwargs)
    if not field.fold_choices:
        return html
    radios = []
    for fold, text in field.fold_choices:
        ident = f"{field.id}{FOLD_SUFFIX}_{fold}"
        radios.append(
            f'<div class="form-check form-check-inline"><input class="form-check-input" type="radio" '
            f'name="{field.name}{FOLD_SUFFIX}" id="{ident}" value="{fold}">'
            f'<label class="form-check-label" for="{ident}">{escape(text)}</label></div>'
        )
    return Markup(html + Markup('<div class="mt-1" data-fold-choice>' + "".join(radios) + "</div>"))


class LocalDateTimeField(DateTimeLocalField):
    """A date and time people type on the facility's wall clock (a label `t("… (%(zone)s)")` names the
    zone, in the reader's language); `data` is aware UTC, converted by bank.clock.from_local. An offset typed after the time
    ("2026-12-03T09:00+01:00", "Z") is taken as it is. A time in the hour repeated in autumn is refused
    until the person picks which (a first / second choice shown only then); with the form meta
    `naive_time = "refuse"` (the API) a time without an offset is refused."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, format="%Y-%m-%dT%H:%M", **kwargs)
        label = self.label.text
        if isinstance(label, Text) and "%(zone)s" in label.msgid:
            self.label.text = t(label.msgid, **{**label.params, "zone": facility_zone().key})
        self.input_widget, self.widget = self.widget, _fold_widget
        self.fold_choices: list[tuple[int, str]] = []
        self._fold: int | None = None

    def process(self, formdata, data=None, extra_filters=None):
        fold = formdata.get(self.name + FOLD_SUFFIX) if formdata is not None else None
        self._fold = int(fold) if fold in ("0", "1") else None
        super().process(formdata, data, extra_filters)

    def _value(self):
        if self.raw_data:
            return " ".join(self.raw_data)
        return to_local(self.data, facility_zone()).strftime("%Y-%m-%dT%H:%M") if self.data else ""

    def process_formdata(self, valuelist):
        self.data = None
        text = " ".join(valuelist).strip() if valuelist else ""
        if not text:
            return
        try:
            if not TYPED_TIME.fullmatch(text):
                raise ValueError
            typed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(t("Not a valid date and time: type YYYY-MM-DDTHH:MM.")) from None
        if typed.tzinfo is None and getattr(self.meta, "naive_time", "local") == "refuse":
            raise ValueError(
                t("Give the time with its offset, e.g. 2026-12-03T09:00+01:00 or 2026-12-03T08:00Z.")
            )
        try:
            self.data = from_local(typed, facility_zone(), self._fold)
        except LocalTimeError as e:
            self.fold_choices = getattr(e, "choices", [])
            raise ValueError(e.args[0]) from None
        except OverflowError:  # year 1 or 9999 pushed past the calendar by its offset
            raise ValueError(t("Not a valid date and time: out of range.")) from None


class LoginForm(BankForm):
    username = StringField(t("User name"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(t("Password"), validators=[DataRequired(), Length(max=256)])


class ChangePasswordForm(BankForm):
    current_password = PasswordField(t("Current password"), validators=[DataRequired(), Length(max=256)])
    new_password = PasswordField(t("New password"), validators=[DataRequired(), Length(max=256)])
    confirm = PasswordField(t("Repeat the new password"), validators=[DataRequired(), Length(max=256)])


class SignatureFields:
    """Mixin for forms that apply an electronic signature: the signer re-enters the password."""

    signature_password = PasswordField(
        t("Your password (electronic signature)"),
        validators=[DataRequired(message=t("re-enter your password to sign")), Length(max=256)],
    )


ROLE_CHOICES = [(r, ROLE_LABELS[r]) for r in ROLES]


class NewUserForm(BankForm):
    username = StringField(t("User name"), validators=[DataRequired(), Length(max=64)])
    full_name = StringField(t("Printed name"), validators=[DataRequired(), Length(max=120)])
    roles = SelectMultipleField(t("Roles"), choices=ROLE_CHOICES, validators=[DataRequired()])
    unblinded = BooleanField(t("Unblinded (may see the treatment behind blinded doses)"))


class EditUserForm(BankForm):
    version = HiddenField()
    full_name = StringField(t("Printed name"), validators=[DataRequired(), Length(max=120)])
    roles = SelectMultipleField(t("Roles"), choices=ROLE_CHOICES, validators=[DataRequired()])
    unblinded = BooleanField(t("Unblinded (may see the treatment behind blinded doses)"))
    is_active = BooleanField(t("Active"))
    reason = StringField(t("Reason for the change"), validators=[DataRequired(), Length(max=500)])


class ConfirmForm(BankForm):
    """A bare POST with CSRF, for buttons such as unlock or reset password."""

    reason = StringField(t("Reason"), validators=[Optional(), Length(max=500)])


class AuditFilterForm(BankForm):
    class Meta:
        csrf = False

    entity = SelectField(t("Record type"), choices=[], validators=[Optional()], validate_choice=False)
    entity_id = StringField(t("Record (number or name)"), validators=[Optional(), Length(max=64)])
    own_only = BooleanField(t("This record only (without its children)"))
    user = SelectField(t("User"), choices=[], validators=[Optional()], validate_choice=False)
    date_from = DateField(t("From"), validators=[Optional()])
    date_to = DateField(t("To"), validators=[Optional()])


class AuditReviewForm(SignatureFields, BankForm):
    """The periodic review of the audit trail, signed by QA (bank.audit_review)."""

    period_from = DateField(
        t("Rows written from"), validators=[DataRequired(message=t("Give the first day."))]
    )
    period_to = DateField(t("to (included)"), validators=[DataRequired(message=t("Give the last day."))])
    findings = TextAreaField(t("Findings"), validators=[Length(max=4000)])


class TokenForm(BankForm):
    name = StringField(t("Token name (what will use it)"), validators=[DataRequired(), Length(max=80)])


class SignInAttemptFilterForm(BankForm):
    class Meta:
        csrf = False

    username = StringField(t("User name"), validators=[Optional(), Length(max=64)])
    address = StringField(t("Address"), validators=[Optional(), Length(max=64)])
    show = SelectField(
        t("Show"),
        choices=[("failures", t("Failures")), ("all", t("All attempts"))],
        default="failures",
        validators=[Optional()],
    )


_TEXT_FIELDS = ("StringField", "TextAreaField")


def entered(form, *exclude: str) -> dict:
    """What the person entered, by field name, for a service whose parameters are named like the form's
    fields (the screen and the API pass the same values the same way). Empty text is "", never None."""
    skip = {"csrf_token", "submit", *exclude}
    return {
        name: ("" if f.data is None and f.type in _TEXT_FIELDS else f.data)
        for name, f in form._fields.items()
        if name not in skip
    }
