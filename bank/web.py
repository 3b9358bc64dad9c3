"""Request plumbing shared by every blueprint: the request's database session, the signed-in user,
permission tags checked centrally (fail closed), form errors and pagination helpers."""

from __future__ import annotations

import math
from dataclasses import dataclass

from flask import abort, current_app, g, request
from sqlalchemy import func, select
from sqlalchemy.orm import Session

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


def get_or_404(model, ident):
    try:
        ident = int(ident)
    except (TypeError, ValueError):
        abort(404)
    obj = db().get(model, ident)
    if obj is None:
        abort(404)
    return obj


@dataclass
class Page:
    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def paginate(stmt, per_page: int | None = None) -> Page:
    """Run `stmt` for the page named in ?page= (bad values fall back to page 1)."""
    per_page = per_page or current_app.config["PAGE_SIZE"]
    try:
        page = max(1, int(request.args.get("page", 1)))
    except ValueError:
        page = 1
    session = db()
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    items = list(session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)))
    return Page(items, page, per_page, total or 0)


def apply_errors(form, errors: dict[str, str]) -> None:
    """Put service errors next to the form fields they concern (unknown keys go to the form top)."""
    for field_name, message in errors.items():
        field = getattr(form, field_name, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = list(field.errors) + [message]
        else:
            form.form_errors.append(message)

