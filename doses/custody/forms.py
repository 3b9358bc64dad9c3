"""Forms of labels and custody: field shape only; the services judge the scan, the order of events and
the signatures, so the screens and the API share one rule."""

from __future__ import annotations

from flask_wtf.file import FileField
from wtforms import BooleanField, FloatField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from bank.forms import BankForm, LocalDateTimeField
from bank.i18n import t
from bank.labels import LABEL_SIZES
from doses.custody.states import EVENTS, KINDS
from doses.rules import MAX_COPIES

EVENT_CHOICES = [(e, t(KINDS[e].label)) for e in EVENTS]


def _text(label: str, length: int = 200, required: bool = False, **kw):
    first = DataRequired(message=t("Required.")) if required else Optional()
    return StringField(label, validators=[first, Length(max=length)], **kw)


class CustodyEventForm(BankForm):
    scanned_code = _text(
        t("Scan the dose label (DIN bar code or Data Matrix) or type the DIN with its check character"),
        120,
        required=True,
    )
    event = SelectField(
        t("Event"),
        choices=EVENT_CHOICES,
        validate_choice=False,
        validators=[DataRequired(message=t("Choose the event."))],
    )
    occurred_at = LocalDateTimeField(t("When (%(zone)s; empty = now)"), validators=[Optional()])
    place = _text(t("Where (room, site)"), required=True)
    shipper = _text(t("Shipper (courier)"), 120)
    logger_id = _text(t("Temperature logger id"), 80)
    temperature_min_c = FloatField(t("Logger minimum (°C)"), validators=[Optional()])
    temperature_max_c = FloatField(t("Logger maximum (°C)"), validators=[Optional()])
    excursion = BooleanField(t("Temperature excursion"))
    excursion_description = _text(t("Excursion: what happened"), 1000)
    condition_on_receipt = _text(t("Condition on receipt"))
    subject_id_checked = _text(t("Patient wristband (subject id; required to administer)"), 40)
    notes = _text(t("Notes"), 1000)
    signature_password = PasswordField(
        t("Your password (handing over: electronic signature)"),
        validators=[DataRequired(message=t("Re-enter your password to sign.")), Length(max=256)],
    )
    receiver_username = _text(t("Receiving person: user name"), 64, required=True)
    receiver_password = PasswordField(
        t("Receiving person: password (their electronic signature)"),
        validators=[
            DataRequired(message=t("The receiving person enters their password to sign.")),
            Length(max=256),
        ],
    )


class LabelPrintForm(BankForm):
    """Print request: a POST with CSRF, since printing writes the print log (issue 17)."""

    size = SelectField(
        t("Label size"),
        choices=[(s, s.replace("x", " × ") + " mm") for s in LABEL_SIZES],
        default="100x100",
        validate_choice=False,
    )
    packaging = SelectField(
        t("Label for"),
        choices=[
            ("", t("The size's default (100 × 100 outer packaging, 100 × 50 immediate container)")),
            ("outer", t("Outer packaging (every Annex VI particular)")),
            ("immediate", t("Immediate container (the reduced Annex VI set)")),
        ],
        default="",
        validate_choice=False,
    )
    copies = StringField(
        t("Copies of each label"),
        default="1",
        validators=[Length(max=4)],
        description=t("1 to %(max)s", max=MAX_COPIES),
    )
    show_utc = BooleanField(t("Print UTC beneath the local expiry (shipping across time zones)"))
    output = SelectField(
        t("Output"),
        choices=[("pdf", "PDF"), ("zpl", t("ZPL (Zebra printer)"))],
        default="pdf",
        validate_choice=False,
    )
    dpi = SelectField(
        t("Printer resolution (ZPL)"),
        choices=[("203", "203 dpi"), ("300", "300 dpi")],
        default="203",
        validate_choice=False,
    )


class DigestCheckForm(BankForm):
    digest = _text(t("Content SHA-256 printed in the report's footer"), 100, required=True)


def event_details(form: CustodyEventForm) -> dict:
    """The keyword arguments of services.record_custody_event that the form carries: the screen and the
    API pass the same ones."""
    return dict(
        password=form.signature_password.data,
        receiver_username=form.receiver_username.data,
        receiver_password=form.receiver_password.data,
        place=form.place.data,
        occurred_at=form.occurred_at.data,
        shipper=form.shipper.data,
        logger_id=form.logger_id.data,
        temperature_min_c=form.temperature_min_c.data,
        temperature_max_c=form.temperature_max_c.data,
        excursion=form.excursion.data,
        excursion_description=form.excursion_description.data,
        condition_on_receipt=form.condition_on_receipt.data,
        subject_id_checked=form.subject_id_checked.data,
        notes=form.notes.data,
    )


class LoggerFileForm(BankForm):
    """The shipper's logger export (CSV) for one event of the dose (doses.custody.rules.logger)."""

    event_number = SelectField(t("Event"), choices=[], coerce=int, validate_choice=False)
    logger_file = FileField(t("Logger file (CSV: time and temperature per line)"))
