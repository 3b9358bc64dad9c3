"""HTTP views of the doses domain: protocols, patients and enrolment, allocation, blinding; registers the
blueprint, the JSON API routes, the menu entries and the `doses` commands."""

from __future__ import annotations

from flask import Flask, g

from bank.i18n import N_
from doses import cli, services
from doses.blueprint import bp
from doses.rules.protocol import Protocol
from doses.views import dose_pages, patient_pages, protocol_pages  # noqa: F401  (routes)


def shown_container(protocol_or_record, container) -> str:
    """A container's identifier as the signed-in user may read it (blinded code for masked users)."""
    return services.container_text(_protocol(protocol_or_record), container, g.actor.permissions)


def shown_code(protocol_or_record, container) -> str:
    """A container's product code as the signed-in user may read it."""
    protocol = _protocol(protocol_or_record)
    return (
        services.visible_code(protocol, container)
        if services.masked(protocol, g.actor.permissions)
        else container.product_code
    )


def _protocol(record) -> Protocol:
    if isinstance(record, Protocol):
        return record
    patient = getattr(record, "patient", record)
    return patient.protocol_version.protocol()


def init_app(app: Flask) -> None:
    from doses import api  # noqa: F401  (JSON API routes)

    app.register_blueprint(bp)
    app.add_template_global(shown_code, "shown_code")
    app.add_template_global(shown_container, "shown_container")
    app.extensions["bank.nav"].append((N_("Patients"), "doses.patients", "patient.view"))
    app.extensions["bank.nav"].append((N_("Doses"), "doses.doses", "dose.view"))
    app.extensions["bank.nav"].append((N_("Protocols"), "doses.protocols", "protocol.view"))
    app.extensions["bank.scan_resolvers"].append(dose_pages.resolve_scan)
    cli.register(app)
