"""HTTP views of the release domain."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("release", __name__, url_prefix="/release")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
