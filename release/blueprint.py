"""The release blueprint, shared by the screens (release.views) and the JSON API routes (release.api)."""

from __future__ import annotations

from flask import Blueprint

from bank.languages import parse_number

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
