"""The release blueprint, shared by the screens (release.views) and the JSON API routes (release.api)."""

from __future__ import annotations

from flask import Blueprint, request

from bank.languages import parse_number
from release.rules import MarkerPanelTest, NumericTest

bp = Blueprint("release", __name__, url_prefix="/release")


def typed_number(text: str | None) -> str:
    """A number as the reader typed it ("88,5" in French) in the notation the release rules read ("88.5",
    every digit kept); anything else as typed, for the rules to say what is wrong with it. Only for numeric
    inputs: a qualitative result may hold a comma ("46,XX")."""
    try:
        return str(parse_number(text or ""))
    except ValueError:
        return text or ""


def typed_numbers(values: dict[str, str]) -> dict[str, str]:
    """typed_number of each marker value of a panel."""
    return {name: typed_number(value) for name, value in values.items()}


def typed_markers(test) -> dict[str, str]:
    """The marker values typed on a result form (inputs marker-<name>) of a marker panel test, else none."""
    if not isinstance(test, MarkerPanelTest):
        return {}
    return {m: request.form.get(f"marker-{m}", "") for rule in test.rules for m in rule.markers}


def typed_result(form, test) -> dict:
    """What a result form (entry or correction) says of the measurement, as the result services take it:
    the value of a numeric test in the rules' notation, every text "" when empty."""
    return {
        "method": form.method.data or "",
        "instrument": form.instrument.data or "",
        "performed_on": form.performed_on.data,
        "value": typed_number(form.value.data) if isinstance(test, NumericTest) else form.value.data or "",
        "unit": form.unit.data or "",
        "confirm_out_of_specification": form.confirm_out_of_specification.data,
    }
