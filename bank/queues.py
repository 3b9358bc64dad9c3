"""Work queues (issue 20): what awaits each person, computed by the domains' own queries and rules.

Each domain registers its queues (`register(app, Queue(...))`, from its `queues.py`, called by the app
factory); the home page lists those whose permission the user holds. A queue answers a bounded `Listing`:
its most urgent items first (LIMIT), and a count capped like every list (bank.web.COUNT_CAP)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bank.clock import utcnow
from bank.i18n import N_, Text, t
from bank.models import SignInAttempt, User
from bank.permissions import ENTRY_VERIFY
from bank.signin import FAILURES
from bank.uow import Actor
from bank.web import COUNT_CAP

REGISTRY = "bank.queues"  # app.extensions key: list of Queue
ITEMS_SHOWN = 8  # items listed per queue on the home page; the count says how many there are


@dataclass(frozen=True)
class Item:
    """One piece of work: what (`text`), where it is done (`endpoint`, `arguments`), when it falls due
    (`due`, a date: the home page says how many days are left) and a `note` (blockers, the window)."""

    text: Text
    endpoint: str
    arguments: dict = field(default_factory=dict)
    due: date | None = None
    note: Text | None = None
    query: dict = field(default_factory=dict)  # query-string arguments of the link
    since: date | None = None  # when the work appeared (entered, created), shown after `since_label`
    since_label: str = N_("since")

    @property
    def link_arguments(self) -> dict:
        """The page's arguments and the link's query string, as url_for takes them."""
        return {**self.arguments, **self.query}


@dataclass(frozen=True)
class Listing:
    items: list[Item]
    count: int  # exact unless `capped` (then COUNT_CAP: there are more)
    capped: bool = False


@dataclass(frozen=True)
class Context:
    """What a queue is asked: for whom (the actor's id and permissions: blinding follows them), today in
    the facility's zone, the horizons (days) and how many items to list."""

    actor: Actor
    today: date
    material_days: int = 30
    dose_days: int = 7
    limit: int = ITEMS_SHOWN


@dataclass(frozen=True)
class Queue:
    """A queue of work: `permissions` (any of them) decide who sees it; `items(session, context)` lists it;
    `more` (endpoint) is the page with the whole list, when there is one. `rank` orders queues on the page."""

    key: str
    title: str  # marked with N_, shown with |tr
    permissions: frozenset[str]
    items: Callable[[Session, Context], Listing]
    more: str | None = None
    rank: int = 50


def register(app, queue: Queue) -> None:
    queues = app.extensions.setdefault(REGISTRY, [])
    if any(q.key == queue.key for q in queues):
        raise ValueError(f"work queue {queue.key} registered twice")
    queues.append(queue)


def queues_for(app, permissions) -> list[Queue]:
    held = set(permissions)
    return sorted((q for q in app.extensions.get(REGISTRY, []) if q.permissions & held), key=lambda q: q.rank)


def listing(session: Session, stmt, to_item: Callable[..., Item], limit: int, rows: bool = False) -> Listing:
    """The first `limit` rows of `stmt` (ordered most urgent first) as items, and the count of all of them
    up to COUNT_CAP. `rows`: `to_item` receives the row's columns (a multi-entity select)."""
    found = list(session.execute(stmt.limit(limit))) if rows else list(session.scalars(stmt.limit(limit)))
    items = [to_item(*r) if rows else to_item(r) for r in found]
    if len(found) < limit:
        return Listing(items, len(found))
    total = session.scalar(
        select(func.count()).select_from(stmt.order_by(None).limit(COUNT_CAP + 1).subquery())
    )
    return Listing(items, min(total, COUNT_CAP), total > COUNT_CAP)


# ---- the kernel's own queues: entries to verify, accounts ------------------------------------------


def _entries_to_verify(app):
    def items(session: Session, ctx: Context) -> Listing:
        from bank.verification.services import awaiting_verification, registry_of

        found = awaiting_verification(session, registry_of(app), ctx.actor, limit=COUNT_CAP + 1)
        shown = [
            Item(
                t(
                    "%(entry)s of %(subject)s, entered by %(person)s",
                    entry=e.title,
                    subject=e.subject,
                    person=e.entered_by,
                ),
                "verify.confirm",
                query={"entries": e.key},
                since=e.entered_at.date(),
                since_label=N_("entered"),
            )
            for e in found[: ctx.limit]
        ]
        return Listing(shown, min(len(found), COUNT_CAP), len(found) > COUNT_CAP)

    return items


def locked_accounts(session: Session, ctx: Context) -> Listing:
    stmt = select(User).where(User.locked_until > utcnow()).order_by(User.locked_at)
    return listing(
        session,
        stmt,
        lambda u: Item(
            t(
                "%(name)s (%(username)s) is locked after repeated wrong passwords",
                name=u.full_name,
                username=u.username,
            ),
            "admin.edit_user",
            {"user_id": u.id},
        ),
        ctx.limit,
    )


def accounts_never_used(session: Session, ctx: Context) -> Listing:
    stmt = (
        select(User)
        .where(User.is_active.is_(True), User.last_login_at.is_(None))
        .order_by(User.created_at, User.id)
    )
    return listing(
        session,
        stmt,
        lambda u: Item(
            t("%(name)s (%(username)s) has never signed in", name=u.full_name, username=u.username),
            "admin.edit_user",
            {"user_id": u.id},
            since=u.created_at.date(),
            since_label=N_("created on"),
        ),
        ctx.limit,
    )


FAILED_SIGN_IN_HOURS = 24


def failed_sign_ins(session: Session, ctx: Context) -> Listing:
    """Failed sign-ins of the last day, by user name typed, most failures first."""
    since = utcnow() - timedelta(hours=FAILED_SIGN_IN_HOURS)
    failures = func.count().label("failures")
    stmt = (
        select(SignInAttempt.username, failures)
        .where(SignInAttempt.at > since, SignInAttempt.outcome.in_(FAILURES))
        .group_by(SignInAttempt.username)
        .order_by(failures.desc(), SignInAttempt.username)
    )
    return listing(
        session,
        stmt,
        lambda name, n: Item(
            t("%(count)s failed sign-ins as '%(username)s' in the last 24 hours", count=n, username=name),
            "admin.sign_in_attempts",
        ),
        ctx.limit,
        rows=True,
    )


def init_app(app) -> None:
    register(
        app,
        Queue(
            "verify.entries",
            N_("Entries awaiting your verification"),
            frozenset({ENTRY_VERIFY}),
            _entries_to_verify(app),
            more="verify.index",
            rank=10,
        ),
    )
    register(
        app,
        Queue(
            "admin.locked",
            N_("Locked accounts"),
            frozenset({"user.manage"}),
            locked_accounts,
            "admin.users",
            10,
        ),
    )
    register(
        app,
        Queue(
            "admin.never_used",
            N_("Accounts never used"),
            frozenset({"user.manage"}),
            accounts_never_used,
            "admin.users",
            20,
        ),
    )
    register(
        app,
        Queue(
            "admin.failed_sign_ins",
            N_("Failed sign-ins"),
            frozenset({"user.manage"}),
            failed_sign_ins,
            "admin.sign_in_attempts",
            30,
        ),
    )
