"""Factories for release tests (and for the doses module's tests): lots brought to 'awaiting QC' and to
'released' through the real donor, lot and release services, never by setting a status."""

from __future__ import annotations

from datetime import timedelta

from bank.uow import unit_of_work
from bank.users import actor_for
from demo.facility import PASSING as DEMO_PASSING
from lots import services as lot_services
from release import services
from release.reference import CELLS_UNIT  # noqa: F401  (tests read it from here)
from tests.factories import lots as lf
from tests.support import PASSWORD

PERFORMED_ON = lf.TODAY - timedelta(days=1)

# One passing result per test code of the seed specifications: (value, unit, markers).
PASSING = DEMO_PASSING


def qc_lot(session, tech, verifier, qa=None, donor=None, containers: int = 2):
    """An allogeneic adipose lot of a signed-eligible donor, grown, formulated and submitted for QC."""
    lot = lf.grown_lot(session, tech, verifier, d=donor, qa=qa)
    lf.formulate(session, tech, lot, containers, "bag", 1.0e7, 5.0)
    with unit_of_work(session, actor_for(tech), "submitted for QC"):
        lot_services.submit_for_qc(session, lot)
    return lot


def enter(
    session,
    analyst,
    lot,
    code: str,
    value: str | None = None,
    unit: str | None = None,
    markers: dict | None = None,
    **kw,
):
    """Enter one result as `analyst`; value, unit and markers default to the passing ones; an
    out-of-specification value is confirmed unless `confirm_out_of_specification=False` is given."""
    default = PASSING[code]
    kw.setdefault("confirm_out_of_specification", True)
    with unit_of_work(session, actor_for(analyst), "result entered"):
        return services.enter_result(
            session,
            lot,
            test_code=code,
            method=kw.pop("method", "validated method"),
            instrument=kw.pop("instrument", "BacT/ALERT 3D"),
            performed_on=kw.pop("performed_on", PERFORMED_ON),
            value=default[0] if value is None else value,
            unit=default[1] if unit is None else unit,
            markers=default[2] if markers is None else markers,
            **kw,
        )


def verify(session, verifier, result) -> None:
    with unit_of_work(session, actor_for(verifier), "result verified"):
        services.verify_result(session, result)


def complete_results(session, analyst, verifier, lot, overrides: dict | None = None, skip=()):
    """Every test of the lot's specification entered by `analyst` and verified by `verifier`;
    `overrides` maps a test code to (value, unit, markers)."""
    with unit_of_work(session, actor_for(analyst)):
        spec = services.open_release_record(session, lot).specification.spec()
    made = {}
    for test in spec.tests:
        if test.code in skip:
            continue
        value, unit, markers = (overrides or {}).get(test.code, PASSING[test.code])
        made[test.code] = enter(session, analyst, lot, test.code, value, unit, markers)
        if verifier is not None:
            verify(session, verifier, made[test.code])
    return made


def release(session, qa, lot, conditional: bool = False):
    with unit_of_work(session, actor_for(qa), "lot released"):
        return services.release_lot(session, lot, qa, PASSWORD, conditional=conditional)


def released_lot(session, tech, verifier, qa, releaser, **kw):
    """A lot released for clinical use: every seed test passing, entered by `tech`, verified by `verifier`
    (QA, since donors and lot entries need it too), released by `releaser` (a second QA person)."""
    lot = qc_lot(session, tech, verifier, qa, **kw)
    complete_results(session, tech, verifier, lot)
    release(session, releaser, lot)
    return lot
