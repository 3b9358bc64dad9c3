"""Issue 24: lists sort by their column headers and export as CSV with their filters applied (bank.lists),
shown on the administrator's lists."""

import csv
import io
import re

from tests.support import PASSWORD, WebClient


def _names(html: str, names: list[str]) -> list[str]:
    return sorted((n for n in names if n in html), key=html.index)


def test_users_sort_by_a_header_both_ways_and_keep_the_search(login_as, make_user):
    admin = login_as("admin")
    # Created in the reverse of the name order, so the list's own order (user name) cannot pass for it.
    make_user("qa", name="Sortcheck Beta")
    make_user("qa", name="Sortcheck Alpha")
    names = ["Sortcheck Alpha", "Sortcheck Beta"]
    page = admin.get("/admin/users?q=sortcheck&sort=name").get_data(as_text=True)
    assert _names(page, names) == names
    assert 'aria-sort="ascending"' in page
    assert 'href="/admin/users?q=sortcheck&amp;sort=-name"' in page  # a second click: descending
    page = admin.get("/admin/users?q=sortcheck&sort=-name").get_data(as_text=True)
    assert _names(page, names) == names[::-1] and 'aria-sort="descending"' in page


def test_users_export_as_csv_with_the_search_applied(login_as, make_user):
    admin = login_as("admin")
    make_user("technician", name="Exportonly Person")
    page = admin.get("/admin/users?q=exportonly").get_data(as_text=True)
    assert 'href="/admin/users?q=exportonly&amp;export=csv"' in page
    resp = admin.get("/admin/users?q=exportonly&export=csv")
    assert resp.mimetype == "text/csv" and "users.csv" in resp.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True))))
    assert rows[0][:3] == ["username", "printed_name", "roles"]
    assert [r[1] for r in rows[1:]] == ["Exportonly Person"] and rows[1][2] == "technician"


def test_sign_in_attempts_sort_and_export_filtered(app, login_as, make_user):
    user = make_user("technician")
    for _ in range(2):
        WebClient(app.test_client()).login(user.username, "not-the-password-1")
    WebClient(app.test_client()).login(user.username, PASSWORD)
    admin = login_as("admin")
    page = admin.get(f"/admin/sign-in-attempts?username={user.username}&show=all&sort=-outcome").get_data(
        as_text=True
    )
    # Newest first would put the success on top: sorted by outcome, descending, the failures come first.
    assert page.index('data-outcome="wrong_password"') < page.index('data-outcome="success"')
    resp = admin.get(f"/admin/sign-in-attempts?username={user.username}&show=failures&export=csv")
    rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True))))
    assert rows[0] == ["at_utc", "username", "user_id", "address", "outcome"]
    assert [r[4] for r in rows[1:]] == ["wrong_password", "wrong_password"]  # the filter applied


def test_lots_sort_by_status_and_export_the_filtered_list(app, login_as, make_user, session):
    from bank.uow import unit_of_work
    from bank.users import actor_for
    from lots import services
    from tests.factories import lots as f

    tech, qa = make_user("technician"), make_user("qa")
    donor = f.signed_donor(session, tech, qa)
    first = f.harvest(session, tech, donor)
    held = f.harvest(session, tech, donor)
    with unit_of_work(session, actor_for(qa)):
        services.hold_lot(session, held, "incubator alarm")
    web = login_as("technician")
    dins = [first.din, held.din]
    # Newest first puts the held lot on top; sorted by status (in process < on hold), the first lot is.
    assert _names(web.get("/lots/?tier=master").get_data(as_text=True), dins) == dins[::-1]
    page = web.get("/lots/?tier=master&sort=status").get_data(as_text=True)
    assert 'aria-sort="ascending"' in page
    # The same order in the export, which holds every lot (lots in process left by earlier tests can push
    # the held one off the first page).
    export = web.get("/lots/?tier=master&sort=status&export=csv").get_data(as_text=True)
    assert [row[0] for row in csv.reader(io.StringIO(export)) if row[0] in dins] == dins
    resp = web.get("/lots/?status=on_hold&export=csv")
    rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True))))
    assert rows[0][:2] == ["din", "product"] and held.din in [r[0] for r in rows[1:]]
    assert first.din not in [r[0] for r in rows[1:]] and {r[4] for r in rows[1:]} == {"on_hold"}


def _first_rows(web, url: str, pattern: str, n: int = 2) -> list[str]:
    """The first `n` values matching `pattern` in the table body of the list at `url` (a shared database holds
    other rows)."""
    body = web.get(url).get_data(as_text=True).split("<tbody>", 1)[1]
    return re.findall(pattern, body)[:n]


def test_donors_sort_by_code_both_ways_and_export_the_searched_donor(login_as, make_user, session):
    from tests.factories import lots as f

    tech = make_user("technician")
    first, second = f.donor(session, tech), f.donor(session, tech)
    web = login_as("technician")
    code = r'class="mono">(DN-[0-9-]+)<'
    assert _first_rows(web, "/donors/?sort=-code", code) == [second.code, first.code]
    lowest = _first_rows(web, "/donors/?sort=code", code, 1)[0]
    assert lowest <= first.code and lowest != second.code  # newest first would have put `second` on top
    rows = list(
        csv.reader(io.StringIO(web.get(f"/donors/?q={second.code}&export=csv").get_data(as_text=True)))
    )
    assert rows[0][0] == "code" and [r[0] for r in rows[1:]] == [second.code]


def test_patients_sort_by_planned_dose_and_export_the_searched_patient(login_as, make_user, session):
    from datetime import timedelta

    from tests.factories import doses as fd

    clinician = make_user("clinical")
    # Two years ahead, so no other test's patient comes before them; registered latest-planned first, so
    # the list's own order (newest first) is the reverse of the planned-dose order.
    later = fd.registered_patient(
        session, clinician, "MAESTRO-4MS", first_dose_on=fd.TODAY + timedelta(days=720)
    )
    sooner = fd.registered_patient(
        session, clinician, "MAESTRO-4MS", first_dose_on=fd.TODAY + timedelta(days=710)
    )
    web = login_as("clinical")
    subject = r'patients/[0-9]+">([A-Z0-9-]+)<'
    assert _first_rows(web, "/doses/patients", subject) == [sooner.subject_id, later.subject_id]
    assert _first_rows(web, "/doses/patients?sort=-dose_1", subject) == [later.subject_id, sooner.subject_id]
    resp = web.get(f"/doses/patients?q={later.subject_id}&export=csv")
    rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True))))
    assert rows[0][0] == "subject_id" and [r[0] for r in rows[1:]] == [later.subject_id]
