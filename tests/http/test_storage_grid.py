"""The storage grid as technicians read it (issue 21): every used position shows its lot, product and
what the container may be used for, in colour and in words with a legend, so a held container never
looks like a released one; a free position is clicked to store a container exactly there; storage
events name the box."""

from __future__ import annotations

import re

from sqlalchemy import select

from bank.uow import unit_of_work
from bank.users import actor_for
from lots import services as lot_services
from lots.models import Container
from tests.factories import lots as lf
from tests.factories import release as fr


def cell(page: str, row: int, col: int) -> str:
    found = re.search(rf'<td class="[^"]*" data-pos="{row},{col}"[^>]*>(.*?)</td>', page, re.S)
    assert found, (row, col)
    return found.group(0)


def formulate(session, tech, lot, n=1) -> None:
    lf.formulate(session, tech, lot, n, "vial", 1.0e6, 1.8)


def test_cells_show_lot_product_and_state_in_words_with_a_legend(session, login_as, make_user):
    tech, qa, qa2 = make_user("technician"), make_user("qa"), make_user("qa")
    released = fr.released_lot(session, tech, qa, qa, qa2, containers=1)
    held = fr.qc_lot(session, tech, qa, qa, containers=1)
    box = lf.box(session, tech, rows=3, cols=3)
    with unit_of_work(session, actor_for(tech), "stored"):
        lot_services.store_lot_containers(session, released, box, 1, 1)
        lot_services.store_lot_containers(session, held, box, 1, 2)
    with unit_of_work(session, actor_for(qa), "investigation"):
        lot_services.hold_lot(session, held, "Incubator excursion under investigation")
    page = login_as("technician").get(f"/storage/boxes/{box.id}").get_data(as_text=True)

    ok = cell(page, 1, 1)
    assert 'data-state="released"' in ok and ">released<" in ok
    assert released.din[-6:] in ok and released.product_type.key in ok
    on_hold = cell(page, 1, 2)
    assert 'data-state="on_hold"' in on_hold and ">on hold<" in on_hold and "released" not in on_hold
    legend = page[page.index('data-testid="grid-legend"') :]
    for words in ("released", "on hold", "quarantine", "rejected", "awaiting QC", "free"):
        assert words in legend


def test_a_free_position_is_clicked_to_store_a_container_exactly_there(session, login_as, make_user):
    tech_user, qa = make_user("technician"), make_user("qa")
    lot = lf.grown_lot(session, tech_user, qa)
    formulate(session, tech_user, lot)
    box = lf.box(session, tech_user, rows=4, cols=4)
    container = session.scalar(select(Container).where(Container.lot_id == lot.id))
    tech = login_as("technician")
    grid = tech.get(f"/storage/boxes/{box.id}").get_data(as_text=True)
    target = f"/storage/boxes/{box.id}/positions/3/2"
    assert f'href="{target}"' in cell(grid, 3, 2)
    choose = tech.get(target).get_data(as_text=True)
    assert f'data-store="{container.id}"' in choose
    resp = tech.post(f"{target}/{container.id}")
    assert resp.status_code == 302
    grid = tech.get(f"/storage/boxes/{box.id}").get_data(as_text=True)
    assert f"/lots/containers/{container.id}" in cell(grid, 3, 2)
    shown = tech.get(f"/lots/containers/{container.id}").get_data(as_text=True)
    place = re.search(r'data-testid="event-place">(.*?)</td>', shown).group(1)
    assert box.name in place and "row 3, column 2" in place and "#" not in place

    # The position is taken now: storing another container there is refused on the page, nothing moves.
    formulate(session, tech_user, lot_again := lf.grown_lot(session, tech_user, qa))
    other = session.scalar(select(Container).where(Container.lot_id == lot_again.id))
    tech.get(target)
    refused = tech.post(f"{target}/{other.id}")
    assert refused.status_code == 409 and 'data-testid="position-taken"' in refused.get_data(as_text=True)
    session.rollback()
    assert session.get(Container, other.id).box_id is None
    assert tech.get(f"/storage/boxes/{box.id}/positions/5/1").status_code == 404


def test_people_who_only_view_storage_see_no_store_links(session, login_as, make_user):
    box = lf.box(session, make_user("technician"), rows=2, cols=2)
    qa = login_as("qa")
    grid = qa.get(f"/storage/boxes/{box.id}").get_data(as_text=True)
    assert "/positions/" not in grid and grid.count('class="free"') == 4
    assert qa.get(f"/storage/boxes/{box.id}/positions/1/1").status_code == 403


def test_storage_use_per_tank_rack_and_box_in_the_chart_and_its_table(session, login_as, make_user):
    tech_user, qa = make_user("technician"), make_user("qa")
    lot = lf.grown_lot(session, tech_user, qa)
    formulate(session, tech_user, lot, n=3)
    box = lf.box(session, tech_user, rows=2, cols=5)  # a tank of its own: 10 positions
    with unit_of_work(session, actor_for(tech_user), "stored"):
        lot_services.store_lot_containers(session, lot, box, 1, 1)
    page = login_as("qa").get("/storage/use").get_data(as_text=True)
    table = page[page.index('data-testid="storage-use-numbers"') :]
    rows = re.findall(
        r'<tr data-level="(\w+)"[^>]*>\s*<td[^>]*>(.*?)</td>\s*<td>(\d+)</td><td>(\d+)</td><td>(\d+)</td>',
        table,
        re.S,
    )
    mine = [r for r in rows if box.tank in r[1]]
    assert [(level, used, size, pct) for level, _, used, size, pct in mine] == [("tank", "3", "10", "30")]
    at = rows.index(mine[0])
    assert [(r[0], r[2], r[3]) for r in rows[at + 1 : at + 3]] == [("rack", "3", "10"), ("box", "3", "10")]
    svg = page[page.index("<svg") : page.index("</svg>")]
    assert f"tank {box.tank}" in svg and "3 / 10" in svg
