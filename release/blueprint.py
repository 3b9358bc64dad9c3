"""The release blueprint, shared by the screens (release.views) and the JSON API routes (release.api)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("release", __name__, url_prefix="/release")
