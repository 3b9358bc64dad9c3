"""Core forms: login, password change, e-signature, user administration, audit filter."""

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


class LoginForm(FlaskForm):
    username = StringField("User name", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=256)])


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired(), Length(max=256)])
    new_password = PasswordField("New password", validators=[DataRequired(), Length(max=256)])
    confirm = PasswordField("Repeat the new password", validators=[DataRequired(), Length(max=256)])


class SignatureFields:
    """Mixin for forms that apply an electronic signature: the signer re-enters the password."""

    signature_password = PasswordField("Your password (electronic signature)",
                                       validators=[DataRequired(message="re-enter your password to sign"),
                                                   Length(max=256)])


ROLE_CHOICES = [(r, ROLE_LABELS[r]) for r in ROLES]


class NewUserForm(FlaskForm):
    username = StringField("User name", validators=[DataRequired(), Length(max=64)])
    full_name = StringField("Printed name", validators=[DataRequired(), Length(max=120)])
    roles = SelectMultipleField("Roles", choices=ROLE_CHOICES, validators=[DataRequired()])
    unblinded = BooleanField("Unblinded (may see the treatment behind blinded doses)")


class EditUserForm(FlaskForm):
    version = HiddenField()
    full_name = StringField("Printed name", validators=[DataRequired(), Length(max=120)])
    roles = SelectMultipleField("Roles", choices=ROLE_CHOICES, validators=[DataRequired()])
    unblinded = BooleanField("Unblinded (may see the treatment behind blinded doses)")
    is_active = BooleanField("Active")
    reason = StringField("Reason for the change", validators=[DataRequired(), Length(max=500)])


class ConfirmForm(FlaskForm):
    """A bare POST with CSRF, for buttons such as unlock or reset password."""

    reason = StringField("Reason", validators=[Optional(), Length(max=500)])


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    entity = StringField("Record type", validators=[Optional(), Length(max=64)])
    entity_id = StringField("Record id", validators=[Optional(), Length(max=64)])
    user = SelectField("User", choices=[], validators=[Optional()], validate_choice=False)
    date_from = DateField("From", validators=[Optional()])
    date_to = DateField("To", validators=[Optional()])


class TokenForm(FlaskForm):
    name = StringField("Token name (what will use it)", validators=[DataRequired(), Length(max=80)])
