"""Entries to verify (bank.verification) as people use it: the list of others' entries, the confirmation
that shows them side by side and signs, CSRF, permissions, the single-entry Verify link, and the API."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from bank.verification.models import VerificationRecord
from tests.support import PASSWORD, OpenApiClient, WebClient, token_for

pytestmark = pytest.mark.requirement("ER-ENTRY-CHECKS")


def listed(html: str) -> list[str]:
    return re.findall(r'<tr data-entry="([a-z]+:\d+)"', html)


def hidden_entries(html: str) -> list[str]:
    return re.findall(r'name="entries" value="([^"]+)"', html)


def sign(client, html: str, password=PASSWORD, **extra):
    data = {"entries": hidden_entries(html), "confirm": "y", "signature_password": password, **extra}
    return client.post("/verify/confirm", data)


def verified(db_session, entries) -> list[bool]:
    db_session.rollback()  # end the read transaction: see what the requests committed
    db_session.expire_all()
    return [db_session.get(type(e), e.id).verified_at is not None for e in entries]


def test_the_list_shows_others_entries_with_their_values_and_never_ones_own(login_as, bench):
    _tech, lot, _entries, keys = bench
    qa = login_as("qa")
    html = qa.get(f"/verify/?subject={lot.din}").get_data(as_text=True)
    assert "Entries to verify" in html and 'href="/verify/"' in html  # in the menu
    assert listed(html) == keys
    assert "Viable cells" in html and "Seeded cells" in html and lot.din_display in html
    only_passages = qa.get(f"/verify/?subject={lot.din}&kind=passage").get_data(as_text=True)
    assert listed(only_passages) == keys[1:]
    unknown_kind = qa.get("/verify/?kind=dose").get_data(as_text=True)
    assert "Not a kind of entry you verify." in unknown_kind


def test_ones_own_entries_are_not_listed(app, bench):
    tech, lot, _entries, _keys = bench
    client = WebClient(app.test_client())
    client.login(tech.username)
    assert listed(client.get(f"/verify/?subject={lot.din}").get_data(as_text=True)) == []


def test_three_entries_confirmed_side_by_side_and_verified_with_one_signature(login_as, bench, db_session):
    _tech, lot, entries, keys = bench
    qa = login_as("qa")
    page = qa.get("/verify/confirm", query_string={"entries": keys})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and html.count('class="card h-100"') == 3
    assert "Electronic signature: Verified" in html and "Viable cells" in html
    assert len(hidden_entries(html)) == 3

    wrong = sign(qa, html, password="Wrong-password-99")
    assert wrong.status_code == 200 and "password incorrect" in wrong.get_data(as_text=True)
    assert verified(db_session, entries) == [False] * 3

    done = sign(qa, html, next=f"/lots/{lot.id}")
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/lots/{lot.id}")
    assert verified(db_session, entries) == [True] * 3
    records = db_session.scalars(
        select(VerificationRecord).where(VerificationRecord.entry_id.in_([e.id for e in entries]))
    ).all()
    assert len({r.signature_id for r in records if r.verified_by_id == qa.user.id}) == 1
    lot_page = qa.get(f"/lots/{lot.id}").get_data(as_text=True)
    assert lot_page.count('data-testid="verification"') == 3
    assert lot_page.count(f"signed by <strong>{qa.user.full_name}</strong>") == 3


def test_confirmation_without_the_box_or_the_csrf_token_verifies_nothing(login_as, bench, db_session):
    _tech, _lot, entries, keys = bench
    qa = login_as("qa")
    html = qa.get("/verify/confirm", query_string={"entries": keys}).get_data(as_text=True)
    unticked = qa.post("/verify/confirm", {"entries": hidden_entries(html), "signature_password": PASSWORD})
    assert "Tick the box to confirm." in unticked.get_data(as_text=True)
    forged = qa.post(
        "/verify/confirm",
        {"entries": hidden_entries(html), "confirm": "y", "signature_password": PASSWORD},
        csrf=False,
    )
    assert forged.status_code == 400
    assert verified(db_session, entries) == [False] * 3


def test_own_entries_posted_are_refused_with_every_reason(app, login_as, bench, db_session):
    tech, _lot, entries, keys = bench
    client = WebClient(app.test_client())
    client.login(tech.username)
    page = client.get("/verify/confirm", query_string={"entries": keys}).get_data(as_text=True)
    assert page.count("a second person must verify it") == 3 and "Sign: Verified" not in page
    # Posted anyway, with the digests another person's confirmation shows: refused, each named.
    seen = login_as("technician").get("/verify/confirm", query_string={"entries": keys})
    forged = hidden_entries(seen.get_data(as_text=True))
    resp = client.post("/verify/confirm", {"entries": forged, "confirm": "y", "signature_password": PASSWORD})
    assert resp.status_code == 200
    assert resp.get_data(as_text=True).count("a second person must verify it") >= 3
    assert verified(db_session, entries) == [False] * 3


def test_an_entry_changed_meanwhile_refuses_the_whole_act(login_as, bench, db_session):
    _tech, _lot, entries, keys = bench
    qa, other = login_as("qa"), login_as("technician")
    html = qa.get("/verify/confirm", query_string={"entries": keys}).get_data(as_text=True)
    other_html = other.get("/verify/confirm", query_string={"entries": keys[1:2]}).get_data(as_text=True)
    assert sign(other, other_html).status_code == 302  # P0 verified by someone else meanwhile
    resp = sign(qa, html)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "was verified meanwhile" in body
    assert verified(db_session, entries) == [False, True, False]


def test_the_lot_page_verify_link_leads_to_the_confirmation(login_as, bench):
    _tech, lot, _entries, keys = bench
    qa = login_as("qa")
    html = qa.get(f"/lots/{lot.id}").get_data(as_text=True)
    links = re.findall(r'href="(/verify/confirm\?[^"]+)"', html)
    assert len(links) == 3 and 'action="/lots/isolations/' not in html
    confirm = qa.get(links[0].replace("&amp;", "&")).get_data(as_text=True)
    assert hidden_entries(confirm)[0].startswith(keys[0] + "@")
    assert f'name="next" type="hidden" value="/lots/{lot.id}"' in confirm


@pytest.mark.parametrize("role", ["clinical", "admin"])
def test_people_without_a_verify_permission_neither_see_nor_open_the_page(login_as, role):
    client = login_as(role)
    assert 'href="/verify/"' not in client.get("/").get_data(as_text=True)
    assert client.get("/verify/").status_code == 403
    assert client.get("/verify/confirm").status_code == 403
    assert client.post("/verify/confirm", {"entries": []}).status_code == 403


def test_api_lists_and_verifies_with_the_password_in_the_body(app, login_as, bench, db_session):
    _tech, lot, entries, keys = bench
    qa = login_as("qa")
    api = OpenApiClient(app.test_client(), token_for(qa))
    listing = api.call("api_verification_entries", {"subject": lot.din})
    assert listing.status_code == 200
    items = listing.json["items"]
    assert [i["key"] for i in items] == keys and items[0]["values"]["Viability"] == "92 %"
    chosen = [f"{i['key']}@{i['digest']}" for i in items]

    no_password = api.call("api_verification_verify", {"entries": chosen})
    assert no_password.status_code == 422 and "signature_password" in no_password.json["errors"]
    wrong = api.call("api_verification_verify", {"entries": chosen, "signature_password": "Wrong-pass-123"})
    assert wrong.status_code == 422 and "signature_password" in wrong.json["errors"]
    stale = api.call(
        "api_verification_verify", {"entries": [chosen[0][:-4] + "0000"], "signature_password": PASSWORD}
    )
    assert stale.status_code == 409 and stale.json["problems"][0]["rule_id"] == "verify.changed"
    assert verified(db_session, entries) == [False] * 3

    done = api.call("api_verification_verify", {"entries": chosen, "signature_password": PASSWORD})
    assert done.status_code == 200 and done.json["verified"] == keys
    assert verified(db_session, entries) == [True] * 3
    again = api.call("api_verification_verify", {"entries": chosen, "signature_password": PASSWORD})
    assert again.status_code == 409 and {p["rule_id"] for p in again.json["problems"]} == {"verify.already"}


def test_api_refuses_own_entries_and_people_without_a_verify_permission(app, bench, login_as):
    tech, _lot, _entries, keys = bench
    client = WebClient(app.test_client())
    client.login(tech.username)
    own = OpenApiClient(app.test_client(), token_for(client))
    assert not {i["key"] for i in own.call("api_verification_entries").json["items"]} & set(keys)
    qa = OpenApiClient(app.test_client(), token_for(login_as("qa")))
    chosen = [f"{i['key']}@{i['digest']}" for i in qa.call("api_verification_entries").json["items"]]
    chosen = [c for c in chosen if c.split("@")[0] in keys]
    refused = own.call("api_verification_verify", {"entries": chosen, "signature_password": PASSWORD})
    assert refused.status_code == 409
    assert [p["rule_id"] for p in refused.json["problems"]] == ["verify.four_eyes"] * 3
    clinical = OpenApiClient(app.test_client(), token_for(login_as("clinical")))
    assert clinical.call("api_verification_entries").status_code == 403
    assert clinical.call("api_verification_verify", {"entries": keys}).status_code == 403
