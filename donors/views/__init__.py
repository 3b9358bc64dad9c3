"""HTTP views of the donors domain: registry (`registry`), the donor page, screening entries and the
signed determination (`screening`), criteria set versions (`criteria`). Thin: form -> service ->
redirect; a refusal is shown on the form (bank.web.attempt) and writes nothing."""

from __future__ import annotations

from flask import Flask

from bank.i18n import N_
from donors import api, cli
from donors.blueprint import bp
from donors.views import criteria, registry, screening

ROUTE_MODULES = (registry, screening, criteria, api)  # importing them defines their routes


def init_app(app: Flask) -> None:
    """Register the blueprint, the menu entry and the domain's commands (`flask init` seeds through them)."""
    app.register_blueprint(bp)
    app.extensions["bank.nav"].append((N_("Donors"), "donors.index", "donor.view"))
    app.extensions["bank.scan_resolvers"].append(screening.resolve_scan)
    cli.register(app)
