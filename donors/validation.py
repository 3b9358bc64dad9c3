"""Impossible donor input, field by field (the form shows each message next to its field).

Eligibility thresholds are not checked here: a 45 kg donor is possible (and ineligible), 0 kg is not.
"""

from __future__ import annotations

from datetime import date

from donors.models import SEXES
from donors.rules import weight_errors

MAX_AGE_YEARS = 120
HEIGHT_RANGE_CM = (30, 250)


class DonorError(ValueError):
    """Input refused; `errors` maps a field name to the message shown next to it."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


def text_error(value: str | None, label: str, max_len: int, required: bool = True) -> str | None:
    value = (value or "").strip()
    if required and not value:
        return f"{label} is required"
    if len(value) > max_len:
        return f"{label}: at most {max_len} characters"
    return None


def donor_errors(today: date, sex: str | None, birth_date: date | None, weight_kg: float | None,
                 height_cm: float | None, consent_version: str | None, consent_date: date | None,
                 full_name: str | None = None, hbc_risk_assessment: str | None = None) -> dict[str, str]:
    errors: dict[str, str] = {}
    if sex not in SEXES:
        errors["sex"] = "choose F or M"
    if birth_date is None:
        errors["birth_date"] = "date of birth is required"
    elif birth_date > today:
        errors["birth_date"] = f"date of birth {birth_date} is in the future"
    elif today.year - birth_date.year > MAX_AGE_YEARS:
        errors["birth_date"] = f"more than {MAX_AGE_YEARS} years ago: check the date"
    errors.update(weight_errors(weight_kg))
    low, high = HEIGHT_RANGE_CM
    if height_cm is not None and not (low <= height_cm <= high):
        errors["height_cm"] = f"height must be between {low} and {high} cm"
    if message := text_error(consent_version, "consent version", 40):
        errors["consent_version"] = message
    if consent_date is None:
        errors["consent_date"] = "consent date is required"
    elif consent_date > today:
        errors["consent_date"] = f"consent date {consent_date} is in the future"
    elif birth_date is not None and consent_date < birth_date:
        errors["consent_date"] = "consent date is before the date of birth"
    if message := text_error(full_name, "name", 160, required=False):
        errors["full_name"] = message
    if message := text_error(hbc_risk_assessment, "risk assessment", 2000, required=False):
        errors["hbc_risk_assessment"] = message
    return errors


def raise_if(errors: dict[str, str]) -> None:
    if errors:
        raise DonorError(errors)
