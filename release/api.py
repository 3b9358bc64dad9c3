"""Release endpoints of the JSON API: QC results from instruments and LIMS (entered, then verified by a
second person) and the release status of a lot with every blocker. Releasing and rejecting are signed
acts done on screen with the password re-entered (21 CFR 11.200), not through the API. Refusals are answered by
bank.api's one handler (422 input, 409 rule)."""

from __future__ import annotations

from flask import g, jsonify

from bank.api import ApiInputError, api_route, api_write, fields_of
from bank.forms import entered
from bank.i18n import localize, t
from bank.web import db, get_or_404
from lots.models import Lot
from release import services
from release.forms import ResultForm
from release.models import TestResult


class ApiResultForm(ResultForm):
    attachment = None  # raw data files are uploaded on screen
    retest_of = None  # retests are entered on screen, where the original result is shown
    markers = None  # a JSON object here (MARKERS), not the screen's error slot


def result_json(r: TestResult) -> dict:
    return {
        **fields_of(r, "id", "lot_id", "test_code", "value", "unit", "entered_by_id", "retest_of_id"),
        **fields_of(r, "verdict", "verdict_message", "conditional", "corrects", "voided", "void_reason"),
        "performed_on": r.performed_on.isoformat(),
        "verified": r.verified_by_id is not None,
    }


MARKERS = {
    "markers": {
        "type": "object",
        "additionalProperties": {"type": ["string", "number"]},
        "description": 'Marker panel values in % (e.g. {"CD73": 98.1}); panel tests only',
    }
}


def _markers(markers) -> dict[str, str] | None:
    """The marker panel object of the body, its values as text (None when not given or empty)."""
    if markers is not None and (
        not isinstance(markers, dict)
        or len(markers) > 40
        or not all(
            isinstance(k, str)
            and len(k) <= 20
            and isinstance(v, (str, int, float))
            and not isinstance(v, bool)
            for k, v in markers.items()
        )
    ):
        raise ApiInputError({"markers": t("an object of at most 40 marker names with numeric values")})
    return {k: str(v) for k, v in (markers or {}).items()} or None


@api_write(
    "/lots/<int:lot_id>/results",
    Lot,
    form=ApiResultForm,
    read_first={"markers": _markers},
    permission="result.enter",
    reason=lambda form, _lot: form.retest_reason.data or "result entered (API)",
    answer=result_json,
    extra_properties=MARKERS,
    summary="Enter one QC result; its verdict is computed from the specification",
)
def release_enter_result(lot: Lot, form: ApiResultForm, markers: dict[str, str] | None) -> TestResult:
    # A retest's reason is the reason of its unit of work (the audit trail's), not a field of the result.
    return services.enter_result(db(), lot, **entered(form, "retest_reason"), markers=markers)


@api_route(
    "/lots/<int:lot_id>/release",
    permission="release.view",
    summary="Release status of a lot: results with verdicts and every reason it cannot be released now",
)
def release_status(lot_id: int):
    lot = get_or_404(Lot, lot_id)
    session = db()
    spec = services.lot_specification(session, lot)
    decision = services.decision_signature(session, lot)
    return jsonify(
        {
            "lot_id": lot.id,
            "din": lot.din,
            "status": lot.status,
            "specification": f"{spec.product_key} v{spec.version}" if spec else None,
            "results": [result_json(r) for r in services.results_of(session, lot)],
            "blockers": [
                {"rule_id": p.rule_id, "message": localize(p.message), "evidence": p.evidence}
                for p in services.release_problems(session, lot, g.user.id, False)
            ],
            "decision": None
            if decision is None
            else {
                "meaning": decision[0].meaning,
                "signed_by": decision[0].printed_name,
                "signed_at": decision[0].signed_at.isoformat(),
                "valid": decision[1],
            },
        }
    )
