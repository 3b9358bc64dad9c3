"""The release blueprint and helpers its view modules share."""

from __future__ import annotations

from flask import Blueprint

from bank.esign import SignatureError
from bank.status import TransitionRefused
from bank.web import apply_errors
from release.services import ReleaseError

bp = Blueprint("release", __name__, url_prefix="/release")


def refuse(form, error: Exception) -> list[str]:
    """Put a service refusal on the form: field errors next to their fields, a wrong password under the
    password, workflow problems returned as a list for the page to show (each reason named)."""
    if isinstance(error, ReleaseError):
        apply_errors(form, error.errors)
        return []
    if isinstance(error, SignatureError):
        apply_errors(form, {"signature_password": str(error)})
        return []
    if isinstance(error, TransitionRefused):
        return list(error.problems)
    raise error
