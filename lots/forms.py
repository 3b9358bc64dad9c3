"""WTForms of the lots domain: field shapes only. Ranges, required values and cross-field rules are
checked by the services (lots.rules), whose messages are put next to these fields."""

from __future__ import annotations

from wtforms import (
    BooleanField,
    DateField,
    FloatField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import HiddenInput

from bank.forms import BankForm, CellCountField, LocalDateTimeField, SignatureFields
from bank.i18n import t
from lots.states import MATERIAL_LOT_WORKFLOW, MATERIAL_STATUSES

TISSUE_CHOICES = [("lipoaspirate", t("Lipoaspirate")), ("bone_marrow_aspirate", t("Bone-marrow aspirate"))]
TIER_CHOICES = [
    ("master", t("Master cell bank")),
    ("working", t("Working cell bank")),
    ("dose", t("Dose lot")),
]
CONTAINER_CHOICES = [("bag", t("Bag")), ("vial", t("Vial"))]
# The received status first (a new lot stays quarantined until its certificate is reviewed).
MATERIAL_STATUS_WORDS = {
    "approved": t("Approved"),
    "quarantined": t("Quarantined"),
    "rejected": t("Rejected"),
}
MATERIAL_STATUS_CHOICES = [
    (s, MATERIAL_STATUS_WORDS[s])
    for s in sorted(MATERIAL_STATUSES, key=lambda s: s != MATERIAL_LOT_WORKFLOW.initial)
]


def _text(label: str, length: int = 120):
    return StringField(label, validators=[Optional(), Length(max=length)])


def _number(label: str):
    return FloatField(label, validators=[Optional()])


def _cells(label: str):
    """A cell count, typed in millions beside its "× 10⁶" (bank.forms.CellCountField)."""
    return CellCountField(label, validators=[Optional()])


def _materials():
    return SelectMultipleField(
        t("Material lots used"), coerce=int, choices=[], validate_choice=False, validators=[Optional()]
    )


class HarvestForm(BankForm):
    # Typed or scanned (screens); the API may give donor_id instead. Resolved and checked by the service.
    donor_code = StringField(
        t("Donor code"),
        validators=[Optional(), Length(max=40)],
        render_kw={"autocomplete": "off", "list": "donor-options", "data-picker": "donor"},
    )
    donor_id = IntegerField(t("Donor id (API)"), validators=[Optional()], widget=HiddenInput())
    product_type_id = SelectField(t("Product"), coerce=int, choices=[], validate_choice=False)
    tissue = SelectField(t("Tissue"), choices=TISSUE_CHOICES, validate_choice=False)
    mass_g = _number(t("Mass (g)"))
    volume_ml = _number(t("Volume (mL)"))
    collected_at = LocalDateTimeField(t("Collected at (%(zone)s)"), validators=[Optional()])
    site = _text(t("Collection site"))
    operator = _text(t("Operator"))
    tier = SelectField(t("Bank tier"), choices=TIER_CHOICES, validate_choice=False)
    material_lot_ids = _materials()


class PlaceboLotForm(BankForm):
    product_type_id = SelectField(t("Placebo product"), coerce=int, choices=[], validate_choice=False)


class DeriveLotForm(BankForm):
    tier = SelectField(t("Tier of the new lot"), choices=TIER_CHOICES[1:], validate_choice=False)


class IsolationForm(BankForm):
    cell_count = _cells(t("Viable cells isolated"))
    viability_pct = _number(t("Viability (%)"))
    isolated_on = DateField(t("Isolated on"), validators=[Optional()])
    operator = _text(t("Operator"))
    material_lot_ids = _materials()


class PassageForm(BankForm):
    seeded_cells = _cells(t("Viable cells seeded"))
    harvested_cells = _cells(t("Viable cells harvested"))
    viability_pct = _number(t("Viability (%)"))
    vessels = IntegerField(t("Culture vessels"), validators=[Optional()])
    seeded_on = DateField(t("Seeded on"), validators=[Optional()])
    harvested_on = DateField(t("Harvested on"), validators=[Optional()])
    operator = _text(t("Operator"))
    material_lot_ids = _materials()
    # Asked for (and shown) once a value is outside a soft plausibility limit (lots.rules.plausibility).
    confirm_plausibility = BooleanField(t("I confirm the flagged values are right"))
    plausibility_comment = TextAreaField(
        t("Why the flagged values are right"), validators=[Optional(), Length(max=2000)]
    )


SOFT_FIELDS = ("confirm_plausibility", "plausibility_comment")


class CorrectPassageForm(PassageForm):
    material_lot_ids = None  # the materials used stay those of the original entry
    reason = StringField(
        t("Reason for the correction"),
        validators=[DataRequired(message=t("A reason is required.")), Length(max=500)],
    )


class CorrectIsolationForm(IsolationForm):
    material_lot_ids = None
    reason = StringField(
        t("Reason for the correction"),
        validators=[DataRequired(message=t("A reason is required.")), Length(max=500)],
    )


class FormulationForm(BankForm):
    n_containers = IntegerField(t("Number of containers"), validators=[Optional()])
    container_type = SelectField(t("Container"), choices=CONTAINER_CHOICES, validate_choice=False)
    cells_per_container = _cells(t("Viable cells per container"))
    volume_ml = _number(t("Volume per container (mL)"))
    cryoprotectant = _text(t("Cryoprotectant"), 80)
    frozen_at = LocalDateTimeField(t("Frozen at (%(zone)s)"), validators=[Optional()])
    material_lot_ids = _materials()


class PositionForm(BankForm):
    box_id = SelectField(t("Box"), coerce=int, choices=[], validate_choice=False)
    row = IntegerField(t("Row"), validators=[Optional()])
    col = IntegerField(t("Column"), validators=[Optional()])
    reason = _text(t("Reason (for a move)"), 500)


class ReasonForm(BankForm):
    reason = StringField(
        t("Reason"), validators=[DataRequired(message=t("A reason is required.")), Length(max=500)]
    )


class LiftHoldForm(SignatureFields, ReasonForm):
    pass


class DeviationForm(BankForm):
    description = TextAreaField(t("What happened"), validators=[Optional(), Length(max=4000)])
    impact = TextAreaField(t("Impact on the product"), validators=[Optional(), Length(max=4000)])
    corrective_action = TextAreaField(t("Corrective action"), validators=[Optional(), Length(max=4000)])


class CloseDeviationForm(BankForm):
    corrective_action = TextAreaField(t("Corrective action"), validators=[Optional(), Length(max=4000)])
    signature_password = PasswordField(
        t("Your password (electronic signature)"),
        validators=[DataRequired(message=t("re-enter your password to sign")), Length(max=256)],
    )


class BoxForm(BankForm):
    site = _text(t("Site"), 80)
    tank = _text(t("Tank"), 40)
    rack = _text(t("Rack"), 40)
    name = _text(t("Box"), 40)
    row_count = IntegerField(t("Rows of positions"), validators=[Optional()])
    col_count = IntegerField(t("Columns"), validators=[Optional()])


class MaterialForm(BankForm):
    name = _text(t("Material"))
    supplier = _text(t("Supplier"))
    catalogue_number = _text(t("Catalogue number"), 60)
    animal_origin = BooleanField(t("Animal origin (TSE risk)"))


class MaterialLotForm(BankForm):
    lot_number = _text(t("Lot number"), 60)
    expiry = DateField(t("Expiry"), validators=[Optional()])
    status = SelectField(t("Status"), choices=MATERIAL_STATUS_CHOICES, validate_choice=False)


class MaterialLotStatusForm(BankForm):
    status = SelectField(t("Status"), choices=MATERIAL_STATUS_CHOICES, validate_choice=False)
    reason = StringField(
        t("Reason"), validators=[DataRequired(message=t("A reason is required.")), Length(max=500)]
    )
