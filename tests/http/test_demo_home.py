"""Issue 20 on the demo facility: each role's home page shows the items and counts the demo's known state
implies (derived from the database, as a reviewer checking the demo would), and doing the work removes
the item."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from bank.uow import unit_of_work
from bank.users import actor_for
from bank.verification.services import awaiting_verification, registry_of
from tests.support import DEMO_PASSWORD, WebClient


@pytest.fixture
def db(demo_app):
    session = demo_app.extensions["bank.sessions"]()
    yield session
    session.close()


def home(demo_app, username: str) -> tuple[str, dict[str, int]]:
    web = WebClient(demo_app.test_client())
    web.login(username, DEMO_PASSWORD)
    html = web.get("/").get_data(as_text=True)
    return html, {k: int(n) for k, n in re.findall(r'data-queue="([^"]+)" data-count="(\d+)"', html)}


def count(db, stmt) -> int:
    return db.scalar(select(func.count()).select_from(stmt.subquery()))


def user(db, username: str):
    from bank.models import User

    return db.scalar(select(User).where(User.username == username))


def expected(pairs: dict[str, int]) -> dict[str, int]:
    """The queues a page lists: those with something waiting."""
    return {k: n for k, n in pairs.items() if n}


def test_qa_home_lists_what_the_demo_leaves_to_qa(demo_app, db):
    from donors.models import Donor
    from doses.models import Allocation
    from lots.models import Deviation, Lot

    html, shown = home(demo_app, "qa.claire")
    qa = actor_for(user(db, "qa.claire"))
    assert shown == expected(
        {
            "verify.entries": len(awaiting_verification(db, registry_of(demo_app), qa)),
            "donors.lookbacks": count(db, select(Donor).where(Donor.under_lookback.is_(True))),
            # autologous donors need no determination (21 CFR 1271.90): none of the demo's to sign
            "donors.to_sign": count(
                db,
                select(Donor).where(
                    Donor.status == "pending", Donor.under_lookback.is_(False), Donor.is_autologous.is_(False)
                ),
            ),
            "release.awaiting": count(db, select(Lot).where(Lot.status == "awaiting_qc")),
            "lots.deviations": count(db, select(Deviation).where(Deviation.status == "open")),
            "lots.holds": count(db, select(Lot).where(Lot.status == "on_hold")),
            "doses.holds": count(db, select(Allocation).where(Allocation.status == "on_hold")),
        }
    )
    assert shown["donors.lookbacks"] and shown["lots.holds"] and shown["doses.holds"]  # the demo's stories
    # the demo's look-back and custody excursion were notified to QA
    assert 'data-notification="lookback"' in html and 'data-notification="custody_excursion"' in html


def test_technician_and_clinical_homes(demo_app, db):
    from doses.models import Allocation
    from lots.models import Lot

    allocated = count(db, select(Allocation).where(Allocation.status == "allocated"))
    on_hold = count(db, select(Allocation).where(Allocation.status == "on_hold"))
    issued = count(db, select(Allocation).where(Allocation.status == "issued"))
    _, tech = home(demo_app, "tech.ben")
    ben = actor_for(user(db, "tech.ben"))
    assert tech["lots.in_process"] == count(db, select(Lot).where(Lot.status == "in_process"))
    assert tech.get("verify.entries", 0) == len(awaiting_verification(db, registry_of(demo_app), ben))
    assert tech.get("doses.allocated", 0) == allocated and tech.get("doses.on_their_way", 0) == issued
    html, clinical = home(demo_app, "clin.eva")
    assert clinical.get("doses.allocated", 0) == allocated and clinical.get("doses.holds", 0) == on_hold
    assert not {k for k in clinical if k.startswith(("lots.", "release.", "donors.", "verify."))}
    main = html[html.index("<main") :]
    for din in db.scalars(select(Lot.din)):
        assert din not in main  # a blinded clinician is shown no lot


def test_closing_the_open_deviation_removes_it_from_qa_home(demo_app, db):
    from lots.models import Deviation
    from lots.services import close_deviation

    deviation = db.scalar(select(Deviation).where(Deviation.status == "open").order_by(Deviation.id))
    before = home(demo_app, "qa.claire")[1]["lots.deviations"]
    claire = user(db, "qa.claire")
    with unit_of_work(db, actor_for(claire)):
        close_deviation(
            db, deviation, claire, DEMO_PASSWORD, "Alarm contacts replaced; incubator requalified."
        )
    assert home(demo_app, "qa.claire")[1].get("lots.deviations", 0) == before - 1


@pytest.mark.parametrize("username", ["tech.ana", "qa.claire", "clin.eva", "pharm.farid"])
def test_every_link_of_a_home_page_opens_for_its_reader(demo_app, username):
    web = WebClient(demo_app.test_client())
    web.login(username, DEMO_PASSWORD)
    html = web.get("/").get_data(as_text=True)
    sections = re.findall(r'data-queue="[^"]+" data-count="\d+">(.*?)</section>', html, re.S)
    links = sorted(
        {href.replace("&amp;", "&") for s in sections for href in re.findall(r'href="([^"]+)"', s)}
    )
    assert links
    for link in links:
        assert web.get(link).status_code == 200, (username, link)
