"""No N+1 on the main pages (issue 9): the SQL statements a page runs, counted with an engine listener,
do not grow with the rows it shows — the same pages are counted before and after the records grow."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event, select

from bank.uow import unit_of_work
from bank.users import actor_for
from lots import services
from lots.models import Container
from tests.factories import lots as f

BOUND = 30  # statements per page, whatever the data: session user, permissions, the page's own queries


@contextmanager
def counting(engine):
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def add_containers(session, tech, lot, box, n: int) -> None:
    f.formulate(session, tech, lot, n, "vial", 1e5, 1.0, reason=None)
    used = len(services.occupancy(session, box))  # fill the box row by row after what is there
    with unit_of_work(session, actor_for(tech)):
        services.store_lot_containers(session, lot, box, used // box.col_count + 1, used % box.col_count + 1)


def test_main_pages_run_a_bounded_number_of_statements_whatever_the_rows(
    app, login_as, make_user, db_session
):
    tech, verifier, qa = make_user("technician"), make_user("technician"), make_user("qa")
    lot = f.grown_lot(db_session, tech, verifier, qa=qa)
    box = f.box(db_session, tech, 9, 9)
    add_containers(db_session, tech, lot, box, 3)
    container = db_session.scalar(select(Container).where(Container.lot_id == lot.id).limit(1))
    client = login_as("technician", "qa")
    pages = [
        "/donors/",
        "/lots/",
        f"/lots/{lot.id}",
        f"/lots/{lot.id}/genealogy",
        f"/lots/donors/{lot.donor_id}",
        "/storage/",
        f"/storage/boxes/{box.id}",
        f"/lots/containers/{container.id}",
        f"/audit/?entity=lots&entity_id={lot.id}",
        "/audit/",
        f"/lots/?q={lot.din[-6:]}",
    ]

    def measure() -> dict[str, int]:
        counts = {}
        for path in pages:
            with counting(app.extensions["bank.engine"]) as statements:
                assert client.get(path).status_code == 200, path
            counts[path] = len(statements)
        return counts

    before = measure()
    # More of everything the pages list: containers in the lot and the box, lots and donors, audit rows.
    add_containers(db_session, tech, lot, box, 30)
    for _ in range(3):
        f.grown_lot(db_session, tech, verifier, qa=qa)
    after = measure()
    # A list that fits its first page skips its COUNT; the lots added may be the ones that first overflow
    # the page (other tests share the database), which adds that single COUNT. An N+1 would add one
    # statement per row: 30 containers, 3 lots and their audit rows.
    # A lot's audit trail holds its children's rows (issue 21): the 30 containers make it overflow its page.
    lists = {"/donors/", "/lots/", "/storage/", "/audit/", f"/audit/?entity=lots&entity_id={lot.id}"}
    grown = {path: after[path] - before[path] for path in pages if after[path] != before[path]}
    assert all(path in lists and extra == 1 for path, extra in grown.items()), (before, after)
    assert max(after.values()) <= BOUND, after
