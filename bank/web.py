"""Request plumbing shared by every blueprint: the request's database session, the signed-in user,
permission tags checked centrally (fail closed), form errors and pagination helpers."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Response, abort, current_app, g, request
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bank.i18n import localize, t
from bank.languages import flash
from bank.refusals import FORM, Refused
from bank.uow import Actor, unit_of_work

PUBLIC = "public"
AUTHENTICATED_VIEW = "authenticated"


def requires(permission: str):
    """Declare the permission an endpoint needs; `bank.app` enforces it before the view runs."""

    def decorate(view):
        view.permission = permission
        return view

    return decorate


def public(view):
    view.permission = PUBLIC
    return view


def db() -> Session:
    if "db" not in g:
        g.db = current_app.extensions["bank.sessions"]()
    return g.db


def actor() -> Actor:
    return g.actor


def can(permission: str) -> bool:
    return g.get("actor") is not None and permission in g.actor.permissions


def work(reason: str | None = None):
    """The request's unit of work, attributed to the signed-in user."""
    return unit_of_work(db(), g.actor, reason)


LIKE_ESCAPE = "\\"


def like_pattern(text: str) -> str:
    """`%text%` for a LIKE/ILIKE search that takes `%`, `_` and the escape character literally: use it
    with `escape=LIKE_ESCAPE`, e.g. `column.ilike(like_pattern(q), escape=LIKE_ESCAPE)`."""
    escaped = (
        text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
        .replace("%", LIKE_ESCAPE + "%")
        .replace("_", LIKE_ESCAPE + "_")
    )
    return f"%{escaped}%"


def get_or_404(model, ident):
    try:
        ident = int(ident)
    except (TypeError, ValueError):
        abort(404)
    obj = db().get(model, ident)
    if obj is None:
        abort(404)
    return obj


# Counting every matching row costs as much as reading them: on the audit trail's hundreds of thousands
# of rows the COUNT(*) was most of a page's time, and at 10,000 it still doubled the lot list's time
# from a tenth of the data to all of it. Lists count up to this many and then say "more than".
COUNT_CAP = 1_000
MAX_OFFSET_PAGE = 40  # lists paged by key: deeper pages only through Next/Previous


@dataclass
class Page:
    items: list
    page: int
    per_page: int
    total: int  # exact when `total_capped` is false, else COUNT_CAP (there are more)
    total_capped: bool = False
    more: bool = False  # a row exists after this page (read with the page: one row more)
    keyset: bool = False  # pages follow ?after= / ?before= (the last / first key shown), not ?page=
    next_after: int | None = None
    prev_before: int | None = None

    @property
    def pages(self) -> int:
        known = max(1, math.ceil(self.total / self.per_page))
        return max(known, self.page + (1 if self.more else 0)) if self.total_capped else known

    @property
    def total_text(self) -> str:
        return t("more than %(count)s", count=COUNT_CAP) if self.total_capped else str(self.total)

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.more


def _int_arg(name: str) -> int | None:
    try:
        value = int(request.args.get(name, ""))
    except ValueError:
        return None
    return value if value >= 1 else None


def paginate(stmt, per_page: int | None = None, keyset=None) -> Page:
    """Run `stmt` for the page named in ?page= (bad values fall back to page 1).

    `keyset`: the unique integer column `stmt` is ordered by, descending (e.g. AuditEntry.id). Next
    and previous pages then carry ?after=/?before= the last/first key shown and read with
    WHERE key < after instead of OFFSET, so page 10,000 costs what page 1 costs (?page= alone still
    works for the first MAX_OFFSET_PAGE pages and old links; deeper is refused with a 400 that says
    how to get there)."""
    per_page = per_page or current_app.config["PAGE_SIZE"]
    page = _int_arg("page") or 1
    after, before = (_int_arg("after"), _int_arg("before")) if keyset is not None else (None, None)
    if keyset is not None and not (after or before) and page > MAX_OFFSET_PAGE:
        # An OFFSET that deep reads every row before it, and lists by key grow for decades.
        abort(
            400,
            t(
                "Page %(page)s cannot be opened directly: go page by page with Next and Previous (they keep "
                "your place however long the list grows), or narrow the list with the search and filters. "
                "Pages 1 to %(last)s open directly.",
                page=page,
                last=MAX_OFFSET_PAGE,
            ),
        )
    session = db()
    if after:
        rows = list(session.scalars(stmt.where(keyset < after).limit(per_page + 1)))
        items, more = rows[:per_page], len(rows) > per_page
    elif before:
        rows = list(
            session.scalars(
                stmt.where(keyset > before).order_by(None).order_by(keyset.asc()).limit(per_page + 1)
            )
        )
        items, more = list(reversed(rows[:per_page])), True
        if len(rows) <= per_page:
            page = 1  # reached the newest rows: this is the first page whatever ?page= said
    else:
        rows = list(session.scalars(stmt.limit(per_page + 1).offset((page - 1) * per_page)))
        items, more = rows[:per_page], len(rows) > per_page
    if page == 1 and not (after or before or more):
        total = len(items)  # the whole list is on this page (most searches): no count to run
    else:
        total = session.scalar(
            select(func.count()).select_from(stmt.order_by(None).limit(COUNT_CAP + 1).subquery())
        )
    capped = (total or 0) > COUNT_CAP
    result = Page(items, page, per_page, min(total or 0, COUNT_CAP), capped, more, keyset is not None)
    if keyset is not None and items:
        key = keyset.key
        result.next_after, result.prev_before = getattr(items[-1], key), getattr(items[0], key)
    return result


def show_refusal(form, error: Refused) -> list[str]:
    """The one mapping of a refusal to a screen: input errors and problems that name a field go next to
    that field, the rest above the form (`form.form_errors`, also returned for pages that list them).
    Problems that would reveal a blinded arm are masked for users without the unblinded permission."""
    actor = g.get("actor")
    error = error.visible_to(actor.permissions if actor is not None else frozenset())
    general: list = []
    placed = {name: [message] for name, message in error.errors.items()}
    for p in error.problems:
        if p.field:
            placed.setdefault(p.field, []).append(p.message)
        else:
            general.append(p.message)
    for field_name, messages in placed.items():
        target = getattr(form, field_name, None) if form is not None else None
        if target is not None and hasattr(target, "errors") and field_name != FORM:
            target.errors = list(target.errors) + messages
        else:
            general.extend(messages)
    if form is not None:
        form.form_errors.extend(m for m in general if m not in form.form_errors)
    return general


@dataclass
class Attempt:
    ok: bool
    value: object = None
    problems: list[str] = field(default_factory=list)


def attempt(form, action: Callable[[], object], reason: str | None = None) -> Attempt:
    """Run `action()` in the request's unit of work. A refusal rolls it back and is shown on `form`
    (bank.web.show_refusal); nothing else is caught. Views: `if attempt(form, lambda: ...).ok: redirect`."""
    try:
        with work(reason):
            value = action()
    except Refused as e:
        return Attempt(False, problems=show_refusal(form, e))
    return Attempt(True, value)


def submitted(form, action: Callable[[], object], reason: str | None = None) -> bool:
    """The form was posted and is valid, and `action()` ran in the request's unit of work without a
    refusal (a refusal is shown on the form, bank.web.attempt). The one shape of a view that takes a
    form: `if submitted(form, lambda: services.x(db(), ...), "x recorded"): flash(...); return redirect(...)`."""
    return posted(form, action, reason).ok


def text_arg(name: str, limit: int = 40) -> str:
    """A list filter typed in the address (?q=…), trimmed and cut to `limit` characters."""
    return request.args.get(name, "").strip()[:limit]


def apply_errors(form, errors: dict[str, str]) -> None:
    """Put service errors next to the form fields they concern (unknown keys go to the form top)."""
    for field_name, message in errors.items():
        field = getattr(form, field_name, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = list(field.errors) + [message]
        else:
            form.form_errors.append(message)


def posted(form, action: Callable[[], object], reason: str | None = None) -> Attempt:
    """As `submitted`, for a view that reads what `action()` returned: the Attempt (bank.web.attempt) when
    the form was posted valid, else an Attempt that is not ok. `done = posted(form, lambda: ..., "x")`,
    then `if done.ok: ... done.value`."""
    if not form.validate_on_submit():
        return Attempt(False)
    return attempt(form, action, reason)


def own_or_404(model, ident):
    """A record that belongs to the signed-in user (its `user_id`), else 404: another user's session,
    token or notification is not found rather than forbidden, so its existence is not told."""
    row = get_or_404(model, ident)
    if row.user_id != g.user.id:
        abort(404)
    return row


def confirmed(form, action: Callable[[], object], reason: str):
    """A one-button act posted with its form (a ConfirmForm: the CSRF token, an optional reason): `action()`
    runs in the request's unit of work and its value is returned. A post that does not validate is refused
    (400): the button posts nothing else."""
    if not form.validate_on_submit():
        abort(400)
    with work(reason):
        return action()


def inline_pdf(body: bytes, filename: str) -> Response:
    """A PDF shown in the browser (inline), saved under `filename` if the reader keeps it."""
    return Response(
        body, mimetype="application/pdf", headers={"Content-Disposition": f"inline; filename={filename}"}
    )


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
