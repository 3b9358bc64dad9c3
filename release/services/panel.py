"""A lot's QC panel entered on one form (issue 18): every test of the lot's specification as a row, the
filled rows stored together in one unit of work or none at all, every row's errors named at once."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

from sqlalchemy.orm import Session

from bank.i18n import t
from bank.refusals import FORM, Refused
from lots.models import Lot
from release.models import TestResult
from release.rules import SpecTest
from release.services.results import enter_result, lot_specification


@dataclass(frozen=True)
class PanelRow:
    """One test's row as typed: an empty row (no value, no marker) is not entered."""

    method: str = ""
    instrument: str = ""
    performed_on: date | None = None
    value: str = ""
    unit: str = ""
    markers: dict[str, str] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.value.strip() and not any((v or "").strip() for v in self.markers.values())


def panel_rows(session: Session, lot: Lot) -> list[SpecTest]:
    """The tests a panel form shows: those of the lot's specification (recorded or effective)."""
    spec_row = lot_specification(session, lot)
    return list(spec_row.spec().tests) if spec_row else []


def enter_panel(
    session: Session, lot: Lot, rows: dict[str, PanelRow], *, confirm_out_of_specification: bool = False
) -> list[TestResult]:
    """Enter every filled row as a result of its test (release.services.enter_result: same rules, same
    verdicts). Refused with every row's errors keyed "<test code>__<field>" and every problem when any row
    is wrong: the caller's unit of work rolls back on the refusal the rows entered before the failing one,
    so nothing is stored unless every filled row is valid. An out-of-specification row needs the
    confirmation."""
    filled = {code: row for code, row in rows.items() if not row.empty}
    if not filled:
        raise Refused({FORM: t("Fill in at least one row: empty rows are not entered.")})
    errors: dict[str, str] = {}
    problems = []
    entered: list[TestResult] = []
    for code, row in filled.items():
        try:
            entered.append(
                enter_result(
                    session,
                    lot,
                    test_code=code,
                    method=row.method,
                    instrument=row.instrument,
                    performed_on=row.performed_on,
                    value=row.value,
                    unit=row.unit,
                    markers=row.markers or None,
                    confirm_out_of_specification=confirm_out_of_specification,
                )
            )
        except Refused as refused:
            errors.update({f"{code}__{name}": message for name, message in refused.errors.items()})
            # next to the row it concerns
            problems.extend(replace(p, field=f"{code}__{p.field or 'value'}") for p in refused.problems)
    if errors or problems:
        raise Refused(errors, problems)
    return entered
