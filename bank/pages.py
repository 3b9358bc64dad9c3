"""View shapes the lots, release and donors screens repeat, written once on top of bank.web and bank.lists:
the outcome of a posted form when the view names what was recorded (`submission`), a small form posted
from a record's or a list's page whose refusal is flashed (`step`), and a whole table (no pages) with its
CSV export (`whole_table`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from flask import abort

from bank.i18n import localize, t
from bank.languages import flash
from bank.lists import EXPORT_LIMIT, Export, SortColumn, csv_download, sorting, wants_csv
from bank.web import Attempt, attempt, db


def submission(form, action: Callable[[], object], reason: str | None = None) -> Attempt:
    """bank.web.submitted for a view that needs what `action()` returned (the lot opened, the entry made):
    the attempt when the form was posted and valid, else a failed one with nothing run. A refusal is shown
    on the form. `done = submission(form, lambda: services.x(db(), ...), "x recorded")`, then
    `if done.ok:` flash what `done.value` is and redirect; else the form page again."""
    if not form.validate_on_submit():
        return Attempt(False)
    return attempt(form, action, reason)


def step(
    form,
    action: Callable[[], object],
    reason: str | None = None,
    refused: str | None = None,
    invalid: str | None = None,
) -> Attempt:
    """A step posted from a record's or a list's page with a small form (a confirm button, a status and
    its reason): run it when the form is valid, else flash `invalid` (when given). A refusal is flashed
    with all its reasons (every_reason), as `refused` (a message marked with N_, its %(why)s the reasons)
    or alone. The view flashes its success and goes back to the page either way."""
    if not form.validate_on_submit():
        if invalid:
            flash(invalid, "danger")
        return Attempt(False)
    done = attempt(form, action, reason)
    if not done.ok:
        why = every_reason(form, done)
        flash(t(refused, why=why) if refused else why, "danger")
    return done


def every_reason(form, done: Attempt) -> str:
    """A refused step's reasons in one line: its problems and what the refusal put next to the form's
    fields (a form posted from another page has no page of its own to show them on)."""
    return " ".join(localize(m) for m in [*done.problems, *(e for f in form for e in f.errors)])


def whole_table(stmt, columns: Iterable[SortColumn], tiebreak, export: Export) -> tuple:
    """A short table shown whole (no pages) in the order the reader asked for: `(sorting, rows)`.
    With ?export=csv, the CSV file of the table as shown is the answer instead (aborts with it)."""
    order = sorting(*columns)
    rows = db().scalars(order.apply(stmt, tiebreak).limit(EXPORT_LIMIT)).all()
    if wants_csv():
        abort(csv_download(export.filename, export.header, (export.row(item) for item in rows)))
    return order, rows
