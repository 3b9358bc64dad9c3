"""HTTP views of the donors domain."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("donors", __name__, url_prefix="/donors")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
