"""Screens of the release domain: the QC queue and lot QC pages (views.lots), specifications
(views.specifications), late-result alerts (views.alerts), certificates of analysis and raw data
(views.documents); `init_app` registers the blueprint, the JSON API routes, the menu entry and the
`release` commands."""

from __future__ import annotations

from flask import Flask

from bank.i18n import N_
from bank.verification.services import register_kind
from release.blueprint import bp
from release.rules import name_of
from release.services.verifiable import VERIFIABLE_KINDS
from release.views import (  # noqa: F401  (routes)
    alerts,
    batch_records,
    documents,
    entries,
    lots,
    specifications,
    trends,
)


@bp.context_processor
def release_helpers() -> dict:
    """Every release page names a test in the reader's language (release.rules.name_of)."""
    return {"name_of": name_of}


def init_app(app: Flask) -> None:
    from release import api  # noqa: F401  (JSON API routes)
    from release.cli import release_group

    app.register_blueprint(bp)
    app.extensions["bank.nav"].append((N_("Release"), "release.index", "release.view"))
    app.cli.add_command(release_group)
    for kind in VERIFIABLE_KINDS:  # test results on the "Entries to verify" page
        register_kind(app, kind)
