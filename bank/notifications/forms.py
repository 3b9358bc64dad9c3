"""The e-mail preferences form: the address and the kinds of notification sent by e-mail."""

from __future__ import annotations

from wtforms import SelectMultipleField, StringField, widgets
from wtforms.validators import Length, Optional

from bank.forms import BankForm
from bank.i18n import t


class PreferencesForm(BankForm):
    email = StringField(t("E-mail address"), validators=[Optional(), Length(max=254)])
    kinds = SelectMultipleField(
        t("Send me an e-mail for"),
        choices=[],
        validate_choice=False,
        widget=widgets.ListWidget(prefix_label=False),
        option_widget=widgets.CheckboxInput(),
    )
