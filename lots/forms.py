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
from lots.states import MATERIAL_LOT_WORKFLOW, MATERIAL_STATUSES

TISSUE_CHOICES = [("lipoaspirate", "Lipoaspirate"), ("bone_marrow_aspirate", "Bone-marrow aspirate")]
TIER_CHOICES = [("master", "Master cell bank"), ("working", "Working cell bank"), ("dose", "Dose lot")]
CONTAINER_CHOICES = [("bag", "Bag"), ("vial", "Vial")]
# The received status first (a new lot stays quarantined until its certificate is reviewed).
MATERIAL_STATUS_CHOICES = [
    (s, s.capitalize()) for s in sorted(MATERIAL_STATUSES, key=lambda s: s != MATERIAL_LOT_WORKFLOW.initial)
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
        "Material lots used", coerce=int, choices=[], validate_choice=False, validators=[Optional()]
    )


class HarvestForm(BankForm):
    # Typed or scanned (screens); the API may give donor_id instead. Resolved and checked by the service.
    donor_code = StringField(
        "Donor code",
        validators=[Optional(), Length(max=40)],
        render_kw={"autocomplete": "off", "list": "donor-options", "data-picker": "donor"},
    )
    donor_id = IntegerField("Donor id (API)", validators=[Optional()], widget=HiddenInput())
    product_type_id = SelectField("Product", coerce=int, choices=[], validate_choice=False)
    tissue = SelectField("Tissue", choices=TISSUE_CHOICES, validate_choice=False)
    mass_g = _number("Mass (g)")
    volume_ml = _number("Volume (mL)")
    collected_at = LocalDateTimeField("Collected at ({zone})", validators=[Optional()])
    site = _text("Collection site")
    operator = _text("Operator")
    tier = SelectField("Bank tier", choices=TIER_CHOICES, validate_choice=False)
    material_lot_ids = _materials()


class PlaceboLotForm(BankForm):
    product_type_id = SelectField("Placebo product", coerce=int, choices=[], validate_choice=False)


class DeriveLotForm(BankForm):
    tier = SelectField("Tier of the new lot", choices=TIER_CHOICES[1:], validate_choice=False)


class IsolationForm(BankForm):
    cell_count = _cells("Viable cells isolated")
    viability_pct = _number("Viability (%)")
    isolated_on = DateField("Isolated on", validators=[Optional()])
    operator = _text("Operator")
    material_lot_ids = _materials()


class PassageForm(BankForm):
    seeded_cells = _cells("Viable cells seeded")
    harvested_cells = _cells("Viable cells harvested")
    viability_pct = _number("Viability (%)")
    vessels = IntegerField("Culture vessels", validators=[Optional()])
    seeded_on = DateField("Seeded on", validators=[Optional()])
    harvested_on = DateField("Harvested on", validators=[Optional()])
    operator = _text("Operator")
    material_lot_ids = _materials()
    # Asked for (and shown) once a value is outside a soft plausibility limit (lots.rules.plausibility).
    confirm_plausibility = BooleanField("I confirm the flagged values are right")
    plausibility_comment = TextAreaField(
        "Why the flagged values are right", validators=[Optional(), Length(max=2000)]
    )


SOFT_FIELDS = ("confirm_plausibility", "plausibility_comment")


class CorrectPassageForm(PassageForm):
    material_lot_ids = None  # the materials used stay those of the original entry
    reason = StringField(
        "Reason for the correction",
        validators=[DataRequired(message="A reason is required."), Length(max=500)],
    )


class CorrectIsolationForm(IsolationForm):
    material_lot_ids = None
    reason = StringField(
        "Reason for the correction",
        validators=[DataRequired(message="A reason is required."), Length(max=500)],
    )


class FormulationForm(BankForm):
    n_containers = IntegerField("Number of containers", validators=[Optional()])
    container_type = SelectField("Container", choices=CONTAINER_CHOICES, validate_choice=False)
    cells_per_container = _cells("Viable cells per container")
    volume_ml = _number("Volume per container (mL)")
    cryoprotectant = _text("Cryoprotectant", 80)
    frozen_at = LocalDateTimeField("Frozen at ({zone})", validators=[Optional()])
    material_lot_ids = _materials()


class PositionForm(BankForm):
    box_id = SelectField("Box", coerce=int, choices=[], validate_choice=False)
    row = IntegerField("Row", validators=[Optional()])
    col = IntegerField("Column", validators=[Optional()])
    reason = _text("Reason (for a move)", 500)


class ReasonForm(BankForm):
    reason = StringField(
        "Reason", validators=[DataRequired(message="A reason is required."), Length(max=500)]
    )


class LiftHoldForm(SignatureFields, ReasonForm):
    pass


class DeviationForm(BankForm):
    description = TextAreaField("What happened", validators=[Optional(), Length(max=4000)])
    impact = TextAreaField("Impact on the product", validators=[Optional(), Length(max=4000)])
    corrective_action = TextAreaField("Corrective action", validators=[Optional(), Length(max=4000)])


class CloseDeviationForm(BankForm):
    corrective_action = TextAreaField("Corrective action", validators=[Optional(), Length(max=4000)])
    signature_password = PasswordField(
        "Your password (electronic signature)",
        validators=[DataRequired(message="re-enter your password to sign"), Length(max=256)],
    )


class BoxForm(BankForm):
    site = _text("Site", 80)
    tank = _text("Tank", 40)
    rack = _text("Rack", 40)
    name = _text("Box", 40)
    row_count = IntegerField("Rows", validators=[Optional()])
    col_count = IntegerField("Columns", validators=[Optional()])


class MaterialForm(BankForm):
    name = _text("Material")
    supplier = _text("Supplier")
    catalogue_number = _text("Catalogue number", 60)
    animal_origin = BooleanField("Animal origin (TSE risk)")


class MaterialLotForm(BankForm):
    lot_number = _text("Lot number", 60)
    expiry = DateField("Expiry", validators=[Optional()])
    status = SelectField("Status", choices=MATERIAL_STATUS_CHOICES, validate_choice=False)


class MaterialLotStatusForm(BankForm):
    status = SelectField("Status", choices=MATERIAL_STATUS_CHOICES, validate_choice=False)
    reason = StringField(
        "Reason", validators=[DataRequired(message="A reason is required."), Length(max=500)]
    )
