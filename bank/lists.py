"""Sortable list columns and the CSV export of a list with its filters applied (issue 24).

A list view names its sortable columns once (`SortColumn`); the header links sort by one (`?sort=key`,
`?sort=-key` for descending, templates/_macros/lists.html), and the same filtered statement in the same
order gives the CSV export (`?export=csv`). The list's own order (newest first) keeps keyset pagination
(bank.web.paginate with `keyset=`); another order pages with OFFSET.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask import Response, abort, request, url_for

from bank.web import db, paginate

EXPORT_LIMIT = 100_000  # rows in one CSV file: a list that long is narrowed with its filters first


@dataclass(frozen=True)
class SortColumn:
    key: str  # the value of ?sort=
    label: str  # the header's words (marked with N_ or t, shown in the reader's language)
    expr: Any  # what the statement is ordered by (a list gathered in Python: a function of one item)


@dataclass(frozen=True)
class Sorting:
    columns: tuple[SortColumn, ...]
    key: str | None  # None: the list's own order
    descending: bool

    @property
    def default(self) -> bool:
        return self.key is None

    def column(self, key: str) -> SortColumn:
        return next(c for c in self.columns if c.key == key)

    def apply(self, stmt, tiebreak):
        """`stmt` in the chosen order; rows with equal values stay in a fixed order (`tiebreak`)."""
        if self.key is None:
            return stmt
        expr = self.column(self.key).expr
        return stmt.order_by(None).order_by(expr.desc() if self.descending else expr.asc(), tiebreak.desc())

    def arrange(self, items: Iterable) -> list:
        """A list gathered in Python (its columns' `expr`: a function of one item) in the chosen order;
        items with equal values keep the list's own order."""
        items = list(items)
        if self.key is None:
            return items
        return sorted(items, key=self.column(self.key).expr, reverse=self.descending)

    def url(self, key: str) -> str:
        """This page sorted by `key` (ascending first, then descending), its filters kept, from page 1."""
        args = _filters()
        ascending_now = self.key == key and not self.descending
        args["sort"] = f"-{key}" if ascending_now else key
        return url_for(request.endpoint, **(request.view_args or {}), **args)

    def default_url(self) -> str:
        """This page in the list's own order (newest first), its filters kept."""
        return url_for(request.endpoint, **(request.view_args or {}), **_filters())

    def aria(self, key: str) -> str:
        if self.key != key:
            return "none"
        return "descending" if self.descending else "ascending"


def _filters() -> dict:
    """This request's filters: its arguments without the order, the page and the export."""
    return {k: v for k, v in request.args.items() if k not in ("sort", "page", "after", "before", "export")}


def sorting(*columns: SortColumn) -> Sorting:
    """The order this request asks for (an unknown key is the list's own order)."""
    asked = request.args.get("sort", "")
    key, descending = (asked[1:], True) if asked.startswith("-") else (asked, False)
    if key not in {c.key for c in columns}:
        return Sorting(columns, None, False)
    return Sorting(columns, key, descending)


def by_status(stmt, column, states, default: str = "") -> tuple:
    """A list narrowed to the status chosen in ?status= (`default` when none is asked): `(stmt, status)`.
    A status that is not one of `states` narrows nothing; it is returned as asked, for the page's filter."""
    status = request.args.get("status", default)
    return (stmt.where(column == status) if status in states else stmt), status


def wants_csv() -> bool:
    return request.args.get("export") == "csv"


def export_url() -> str:
    """This list as CSV: the same filters and order, every row."""
    args = {k: v for k, v in request.args.items() if k not in ("page", "after", "before")}
    return url_for(request.endpoint, **(request.view_args or {}), **args, export="csv")


def shown_time(value) -> str:
    """A time in a CSV cell as the page shows it: the facility's wall clock with its zone."""
    from bank.languages import local_time

    return local_time(value) if value is not None else ""


def shown_status(status: str, workflow=None) -> str:
    """A stored status in a CSV cell as the page's badge words it (the workflow's label, else the
    workflows' one word for it), in the reader's language."""
    from bank.i18n import localize
    from bank.workflow import status_label

    return localize(workflow.label(status) if workflow is not None else status_label(status))


@dataclass(frozen=True)
class Export:
    """A list's CSV export: the file's name, its stable column names, one row of it from one item, and what
    the rows read of other tables, loaded with the items rather than one query per row."""

    filename: str
    header: tuple[str, ...]
    row: Callable[[Any], Iterable]
    load: tuple = ()  # loader options for what `row` reads beyond the item (selectinload(Lot.product_type))

    def download(self, stmt) -> Response:
        """The CSV file of every row of the filtered, ordered statement (up to EXPORT_LIMIT)."""
        return self.of(db().scalars(stmt.options(*self.load).limit(EXPORT_LIMIT)))

    def of(self, items: Iterable) -> Response:
        """The CSV file of these items, one row each."""
        return csv_download(self.filename, self.header, (self.row(item) for item in items))


@dataclass(frozen=True)
class ExportedBy:
    """A list's CSV export written by a function of the filtered, ordered statement: for a list whose rows
    are read in batches, or whose export is itself an audited event (the dose and custody lists)."""

    download: Callable[[Any], Response]


def listed(
    stmt, columns: Iterable[SortColumn], tiebreak, export: Export | ExportedBy, *, keyset=None, per_page=None
):
    """The page of a filtered list in the order the reader asked for, with that order: `(sorting, page)`.
    With ?export=csv, the CSV file of every row as filtered is the answer instead (aborts with it), written by
    `export` (an Export, or an ExportedBy for a list whose export is more than one row per item).
    `keyset`: the list's own (newest first) key, used for paging only while the list keeps its own order."""
    order = sorting(*columns)
    stmt = order.apply(stmt, tiebreak)
    if wants_csv():
        abort(export.download(stmt))
    return order, paginate(stmt, per_page=per_page, keyset=keyset if order.default else None)


def csv_download(filename: str, header: Iterable, rows: Iterable[Iterable]) -> Response:
    """A CSV file of `rows` under `header`: stable column names and stored values, the same in every
    language, so a spreadsheet or a script reads every export alike."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={filename}"},
    )


def whole_table(stmt, columns: Iterable[SortColumn], tiebreak, export: Export) -> tuple:
    """A short table shown whole (no pages) in the order the reader asked for: `(sorting, rows)`.
    With ?export=csv, the CSV file of the table as shown is the answer instead (aborts with it)."""
    order = sorting(*columns)
    rows = db().scalars(order.apply(stmt, tiebreak).options(*export.load).limit(EXPORT_LIMIT)).all()
    if wants_csv():
        abort(export.of(rows))
    return order, rows
