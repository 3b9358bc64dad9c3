"""Core forms: login, password change, e-signature, user administration, audit filter; and BankForm,
the base every form uses so that a control character in any field is a field error, never a 500."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, Length, Optional

from bank.permissions import ROLE_LABELS, ROLES
from bank.refusals import control_character_errors


def no_control_characters(value):
    """WTForms filter: text holding a control character (a NUL byte, which PostgreSQL cannot store, or
    any other people never type; tab and line breaks are text) is refused as this field's error."""
    values = value if isinstance(value, list) else [value]
    if control_character_errors({str(i): v for i, v in enumerate(values)}):
        raise ValueError("Contains a control character that cannot be recorded; remove it.")
    return value


class BankForm(FlaskForm):
    """The base of every form (bank and domains): each field refuses control characters."""

    class Meta:
        def bind_field(self, form, unbound_field, options):
            filters = unbound_field.kwargs.get("filters") or ()
            options["filters"] = (no_control_characters, *filters)
            return unbound_field.bind(form=form, **options)


class LoginForm(BankForm):
    username = StringField("User name", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=256)])


class ChangePasswordForm(BankForm):
    current_password = PasswordField("Current password", validators=[DataRequired(), Length(max=256)])
    new_password = PasswordField("New password", validators=[DataRequired(), Length(max=256)])
    confirm = PasswordField("Repeat the new password", validators=[DataRequired(), Length(max=256)])


class SignatureFields:
    """Mixin for forms that apply an electronic signature: the signer re-enters the password."""

    signature_password = PasswordField(
        "Your password (electronic signature)",
        validators=[DataRequired(message="re-enter your password to sign"), Length(max=256)],
    )


ROLE_CHOICES = [(r, ROLE_LABELS[r]) for r in ROLES]


class NewUserForm(BankForm):
    username = StringField("User name", validators=[DataRequired(), Length(max=64)])
    full_name = StringField("Printed name", validators=[DataRequired(), Length(max=120)])
    roles = SelectMultipleField("Roles", choices=ROLE_CHOICES, validators=[DataRequired()])
    unblinded = BooleanField("Unblinded (may see the treatment behind blinded doses)")


class EditUserForm(BankForm):
    version = HiddenField()
    full_name = StringField("Printed name", validators=[DataRequired(), Length(max=120)])
    roles = SelectMultipleField("Roles", choices=ROLE_CHOICES, validators=[DataRequired()])
    unblinded = BooleanField("Unblinded (may see the treatment behind blinded doses)")
    is_active = BooleanField("Active")
    reason = StringField("Reason for the change", validators=[DataRequired(), Length(max=500)])


class ConfirmForm(BankForm):
    """A bare POST with CSRF, for buttons such as unlock or reset password."""

    reason = StringField("Reason", validators=[Optional(), Length(max=500)])


class AuditFilterForm(BankForm):
    class Meta:
        csrf = False

    entity = StringField("Record type", validators=[Optional(), Length(max=64)])
    entity_id = StringField("Record id", validators=[Optional(), Length(max=64)])
    user = SelectField("User", choices=[], validators=[Optional()], validate_choice=False)
    date_from = DateField("From", validators=[Optional()])
    date_to = DateField("To", validators=[Optional()])


class TokenForm(BankForm):
    name = StringField("Token name (what will use it)", validators=[DataRequired(), Length(max=80)])


class SignInAttemptFilterForm(BankForm):
    class Meta:
        csrf = False

    username = StringField("User name", validators=[Optional(), Length(max=64)])
    address = StringField("Address", validators=[Optional(), Length(max=64)])
    show = SelectField(
        "Show",
        choices=[("failures", "Failures"), ("all", "All attempts")],
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
