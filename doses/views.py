"""HTTP views of the doses domain."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("doses", __name__, url_prefix="/doses")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
