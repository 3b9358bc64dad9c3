"""Issue 20: each role's home page lists its work queues (counts, most urgent first, a link to where the work
is done) computed by the domains' own rules; doing the work removes the item; a blinded user's queue
reveals no arm; what cannot wait is notified in the application and e-mailed through a real local SMTP
server, as each user chose, every delivery recorded."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select

from bank.notifications.models import Delivery, Notification
from bank.uow import unit_of_work
from bank.users import actor_for
from donors.services import sign_determination
from doses.custody import services as custody
from tests.factories import custody as fc
from tests.factories import doses as fd
from tests.factories import lots as lf
from tests.factories import release as fr
from tests.fixtures import user_maker
from tests.support import PASSWORD, LocalSmtpServer, WebClient, client_for, new_database, verify_signed


@pytest.fixture(scope="module")
def smtp():
    server = LocalSmtpServer()
    yield server
    server.stop()


@pytest.fixture
def facility(tmp_path_factory, smtp):
    """An empty facility of its own (exact counts), e-mailing through the local SMTP server."""
    from bank.app import create_app
    from bank.migrate import upgrade

    url, drop = new_database(tmp_path_factory)
    upgrade(url)
    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "test-secret",
            "FACILITY_NAME": "Test CTU",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": smtp.port,
            "SMTP_FROM": "msc-bank@ctu.example",
        }
    )
    yield app
    app.extensions["bank.engine"].dispose()
    drop()


@pytest.fixture
def db(facility):
    """A session of the facility. Outside any application context, like the factories' callers: an event
    recorded in an application context (a request, a command, `with facility.app_context()`) e-mails."""
    session = facility.extensions["bank.sessions"]()
    yield session
    session.close()


@pytest.fixture
def people(db):
    return fd.Staff(user_maker(db))


@dataclass
class Shown:
    count: int
    html: str


def queues_of(client: WebClient) -> dict[str, Shown]:
    """The work queues on the home page: key → count and the queue's HTML."""
    html = client.get("/").get_data(as_text=True)
    found = re.findall(r'data-queue="([^"]+)" data-count="(\d+)">(.*?)</section>', html, re.S)
    return {key: Shown(int(count), body) for key, count, body in found}


def choose_emails(client: WebClient, address: str, kinds: list[str]):
    client.get("/account/notifications")
    return client.post("/account/notifications", {"email": address, "kinds": kinds})


def test_entries_by_others_await_verification_and_leave_the_queue_once_verified(facility, db, people):
    second = user_maker(db)("technician")
    donor = lf.signed_donor(db, people.tech, people.qa)
    lot = lf.harvest(db, people.tech, donor)
    entry = lf.isolate(db, people.tech, None, lot)
    verifier = client_for(facility, second)
    queues = queues_of(verifier)
    assert queues["verify.entries"].count == 1 and "Isolation" in queues["verify.entries"].html
    assert re.search(f'entries=isolation(:|%3A){entry.id}"', queues["verify.entries"].html)  # opens the act
    assert lot.din in queues["lots.in_process"].html  # with its next step, as the lot page offers it
    assert "Next: Record passage" in queues["lots.in_process"].html
    assert "verify.entries" not in queues_of(client_for(facility, people.tech))  # never one's own entry
    assert verify_signed(verifier, [f"isolation:{entry.id}"]).status_code == 302
    assert "verify.entries" not in queues_of(verifier)


def test_qa_signs_the_pending_determination_and_it_leaves_the_queue(facility, db, people):
    donor = lf.screened_donor(db, people.tech)
    qa = client_for(facility, people.qa)
    queues = queues_of(qa)
    assert queues["donors.to_sign"].count == 1 and donor.code in queues["donors.to_sign"].html
    assert f"/donors/{donor.id}/determination" in queues["donors.to_sign"].html
    with unit_of_work(db, actor_for(people.qa)):
        sign_determination(db, donor, people.qa, PASSWORD, "eligible", "")
    assert "donors.to_sign" not in queues_of(qa)
    assert "donors.to_sign" not in queues_of(client_for(facility, people.clinician))  # not their work


def test_a_lot_awaiting_release_is_listed_with_its_blockers_until_released(facility, db, people):
    lot = fr.qc_lot(db, people.tech, people.qa, people.qa)
    qa = client_for(facility, people.qa2)
    shown = queues_of(qa)["release.awaiting"]
    assert shown.count == 1 and lot.din in shown.html and "blockers, first:" in shown.html
    fr.complete_results(db, people.tech, people.qa, lot)
    assert "Ready for release" in queues_of(qa)["release.awaiting"].html
    fr.release(db, people.qa2, lot)
    assert "release.awaiting" not in queues_of(qa)


def test_late_positive_sterility_mails_qa_alerts_their_home_and_holds_the_pharmacy_doses(
    facility, db, people, smtp
):
    lot = fd.cell_lot(db, people, n=2, conditional=True)
    patient = fd.enrolled_patient(db, people.clinician, "MAESTRO-4MS")
    dose = fd.allocate(db, people.clinician, patient, 1, fc.NOW, [fd.containers(db, lot)[0].id])
    qa, quiet_qa = client_for(facility, people.qa), client_for(facility, people.qa2)
    address = f"{people.qa.username}@ctu.example"
    assert choose_emails(qa, address, ["late_result"]).status_code == 302
    assert choose_emails(quiet_qa, f"{people.qa2.username}@ctu.example", []).status_code == 302
    pending = queues_of(qa)["release.conditional"]
    due = fr.PERFORMED_ON + timedelta(days=14)
    assert lot.din in pending.html and f'data-due="{due.isoformat()}"' in pending.html

    with facility.app_context():  # as the result entry page records it
        fr.enter(db, people.tech, lot, "STERILITY", "growth")

    mails = smtp.to(address)
    assert len(mails) == 1 and lot.din in mails[0].get_content()
    assert (
        mails[0]["Subject"] == "Test CTU: Late result after release"
        and mails[0]["From"] == "msc-bank@ctu.example"
    )
    assert "/release/alerts" in mails[0].get_content()
    assert not smtp.to(f"{people.qa2.username}@ctu.example")  # chose no e-mail: in the application only
    home = qa.get("/").get_data(as_text=True)
    assert 'data-notification="late_result"' in home and lot.din in home
    queues = queues_of(qa)
    assert queues["release.alerts"].count == 1 and "release.conditional" not in queues
    assert 'data-notification="late_result"' in quiet_qa.get("/").get_data(as_text=True)
    held = queues_of(client_for(facility, people.pharmacist))["doses.holds"]
    assert (
        held.count == 1 and patient.subject_id in held.html and f"/doses/allocations/{dose.id}" in held.html
    )
    delivery = db.scalar(select(Delivery).where(Delivery.address == address))
    assert delivery.outcome == "sent" and delivery.attempted_at is not None and delivery.error is None
    assert 'data-delivery="sent"' in qa.get("/account/notifications").get_data(as_text=True)


def test_a_refused_e_mail_is_recorded_with_the_servers_error(facility, db, people, smtp):
    admin = user_maker(db)("admin")
    web = client_for(facility, admin)
    assert choose_emails(web, "refused-admin@ctu.example", ["account_locked"]).status_code == 302
    victim = user_maker(db)("technician")
    for _ in range(facility.config["MAX_FAILED_LOGINS"]):
        WebClient(facility.test_client()).login(victim.username, "wrong-password-1")
    db.expire_all()
    delivery = db.scalar(select(Delivery).where(Delivery.user_id == admin.id))
    assert delivery.outcome == "failed" and "550" in delivery.error
    page = web.get("/account/notifications").get_data(as_text=True)
    assert 'data-delivery="failed"' in page and "550 No such mailbox here" in page
    everyone = page[page.index('data-testid="all-deliveries"') :]  # administrators review every e-mail
    assert admin.full_name in everyone and "refused-admin@ctu.example" in everyone


def test_a_locked_account_is_notified_in_the_admins_language_and_queued_until_unlocked(
    facility, db, people, smtp
):
    admin = user_maker(db)("admin")
    with unit_of_work(db, actor_for(admin)):
        admin.language = "fr"
    web = client_for(facility, admin)
    assert choose_emails(web, "admin-fr@ctu.example", ["account_locked"]).status_code == 302
    victim = user_maker(db)("technician")
    for _ in range(facility.config["MAX_FAILED_LOGINS"]):
        WebClient(facility.test_client()).login(victim.username, "wrong-password-1")
    mails = smtp.to("admin-fr@ctu.example")
    assert (
        len(mails) == 1 and mails[0]["Content-Language"] == "fr" and victim.username in mails[0].get_content()
    )
    assert "verrouillé" in mails[0].get_content()  # written in the recipient's language
    shown = queues_of(web)["admin.locked"]
    assert shown.count == 1 and victim.username in shown.html
    assert victim.username in queues_of(web)["admin.failed_sign_ins"].html
    web.get(f"/admin/users/{victim.id}")
    assert web.post(f"/admin/users/{victim.id}/unlock").status_code == 302
    assert "admin.locked" not in queues_of(web)


def test_a_blinded_users_queue_reveals_no_arm(facility, db, people):
    active, dummy = fc.blinded_pair(db, people)
    blinded = client_for(facility, people.clinician)
    html = blinded.get("/").get_data(as_text=True)
    shown = queues_of(blinded)["doses.allocated"]
    assert shown.count == 2
    for allocation in (active, dummy):
        assert allocation.patient.subject_id in shown.html
        for container in allocation.containers:
            assert container.lot.din not in html and container.product_code not in html
    main = html[html.index("<main") :]
    assert "placebo" not in main.lower() and "BM-MSC" not in main  # neither arm's product is named


def test_doses_due_are_listed_with_their_window_notified_the_day_before_and_gone_once_allocated(
    facility, db, people
):
    tomorrow = fd.TODAY + timedelta(days=1)
    lot = fd.cell_lot(db, people, n=1)
    patient = fd.enrolled_patient(db, people.clinician, "MAESTRO-4MS", first_dose_on=tomorrow)
    pharmacy = client_for(facility, people.pharmacist)
    shown = queues_of(pharmacy)["doses.due"]
    assert (
        shown.count == 1
        and patient.subject_id in shown.html
        and f"/doses/patients/{patient.id}/allocate" in shown.html
    )
    assert f'data-due="{tomorrow.isoformat()}"' in shown.html and "days left in its window" in shown.html
    runner = facility.test_cli_runner()
    assert "notifications made" in runner.invoke(args=["notifications", "due"]).output
    runner.invoke(args=["notifications", "due"])  # the daily job run twice tells nobody twice
    told = db.scalars(
        select(Notification).where(
            Notification.kind == "dose_due", Notification.user_id == people.pharmacist.id
        )
    ).all()
    assert len(told) == 1 and patient.subject_id in told[0].text
    assert 'data-notification="dose_due"' in pharmacy.get("/").get_data(as_text=True)
    fd.allocate(db, people.clinician, patient, 1, fd.planned(tomorrow), [fd.containers(db, lot)[0].id])
    queues = queues_of(pharmacy)
    assert "doses.due" not in queues and patient.subject_id in queues["doses.allocated"].html


def test_a_custody_excursion_notifies_qa_and_the_pharmacy_and_reading_marks_it_read(facility, db, people):
    dose = fc.open_dose(db, people)
    fc.record(
        db,
        people.clinician,
        people.pharmacist,
        dose,
        "issued_from_storage",
        excursion=True,
        excursion_description="Dry shipper lid open 10 minutes",
    )
    for user in (people.qa, people.pharmacist):
        rows = db.scalars(select(Notification).where(Notification.user_id == user.id)).all()
        assert [n.kind for n in rows] == ["custody_excursion"] and dose.patient.subject_id in rows[0].text
    web = client_for(facility, people.qa)
    assert 'data-testid="unread-count">1<' in web.get("/notifications/").get_data(as_text=True)
    row = db.scalar(select(Notification).where(Notification.user_id == people.qa.id))
    opened = web.post(f"/notifications/{row.id}/open")
    assert opened.headers["Location"].endswith(f"/custody/doses/{dose.id}")
    assert 'data-unread="no"' in web.get("/notifications/").get_data(as_text=True)
    assert "unread-count" not in web.get("/notifications/").get_data(as_text=True)
    assert custody.last_event(db, dose).excursion
