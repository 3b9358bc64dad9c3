"""Forms of the verification pages and API: the filter of the list, and the signed act. An entry is
posted as `kind:id@digest`, the digest of the entry as the confirmation page showed it."""

from __future__ import annotations

from wtforms import BooleanField, HiddenField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional

from bank.forms import BankForm, SignatureFields
from bank.i18n import t


class VerifyFilterForm(BankForm):
    class Meta:
        csrf = False

    kind = SelectField(t("Kind of entry"), choices=[], validators=[Optional()], validate_choice=False)
    subject = StringField(t("Lot (DIN) or donor"), validators=[Optional(), Length(max=40)])


class VerifyEntriesApiForm(SignatureFields, BankForm):
    entries = SelectMultipleField(
        t("Entries (kind:id@digest, as listed)"),
        choices=[],
        validate_choice=False,
        validators=[DataRequired(message=t("Choose at least one entry to verify."))],
    )


class VerifyEntriesForm(VerifyEntriesApiForm):
    confirm = BooleanField(
        t("I have checked every value of these entries against the source records"),
        validators=[DataRequired(message=t("Tick the box to confirm."))],
    )
    next = HiddenField(validators=[Optional(), Length(max=300)])
