"""HTTP views of the doses domain: protocols, patients and enrolment, allocation, blinding; registers the
blueprint, the JSON API routes, the menu entries and the `doses` commands."""

from __future__ import annotations

from flask import Flask

from doses import cli
from doses.blueprint import bp
from doses.views import dose_pages, patient_pages, protocol_pages  # noqa: F401  (routes)


def init_app(app: Flask) -> None:
    from doses import api  # noqa: F401  (JSON API routes)

    app.register_blueprint(bp)
    app.extensions["bank.nav"].append(("Patients", "doses.patients", "patient.view"))
    app.extensions["bank.nav"].append(("Doses", "doses.doses", "dose.view"))
    app.extensions["bank.nav"].append(("Protocols", "doses.protocols", "protocol.view"))
    cli.register(app)
