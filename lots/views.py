"""HTTP views of the lots domain."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("lots", __name__, url_prefix="/lots")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
