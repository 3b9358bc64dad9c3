"""Issue 24, point 4: every list sorts by its column headers both ways (search and filters kept), exports
as CSV with its filters applied, labels its filter boxes, and a blinded reader's export reveals no arm."""

import csv
import io
import re
from pathlib import Path

import pytest
from flask import url_for

from tests.support import token_for

# Every list page (a template that pages a list): its endpoint and the roles that read it.
EVERYONE = ("admin", "technician", "qa", "clinical")
LISTS = {
    "admin.users": ("admin",),
    "admin.sign_in_attempts": ("admin",),
    "lots.index": ("technician",),
    "donors.index": ("technician",),
    "materials.index": ("technician",),
    "storage.index": ("technician",),
    "release.index": ("qa",),
    "release.alerts": ("qa",),
    "doses.patients": ("clinical",),
    "doses.protocols": ("clinical",),
    "doses.doses": ("clinical",),
    "custody.index": ("clinical",),
    "biovigilance.index": EVERYONE,
    "audit.index": EVERYONE,
    "verify.index": ("qa",),
    # Short lists read whole, without pages or filters:
    "release.specs": ("qa",),
    "tokens.index": ("technician",),
    "auth.sessions": ("technician",),
    "donors.criteria_index": ("technician",),
    "lots.products": ("technician",),
}
UNPAGED = {"release.specs", "tokens.index", "auth.sessions", "donors.criteria_index", "lots.products"}
TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def _paged_endpoints() -> set[str]:
    found = set()
    for path in TEMPLATES.rglob("*.html"):
        found |= set(re.findall(r"pagination\(page, '([\w.]+)'", path.read_text(encoding="utf-8")))
    return found


def _url(app, endpoint: str, **args) -> str:
    with app.test_request_context():
        return url_for(endpoint, **args)


def _sorted_pages(web, url: str, key: str) -> tuple[str, str]:
    """The list at `url` (its query kept) sorted by `key` up, then down, as two pages of HTML."""
    sep = "&" if "?" in url else "?"
    return (
        web.get(f"{url}{sep}sort={key}").get_data(as_text=True),
        web.get(f"{url}{sep}sort=-{key}").get_data(as_text=True),
    )


def _sorts_both_ways(web, url: str, key: str, pattern: str) -> None:
    """The values `pattern` finds on the list at `url` (at least two different ones) sort up by `key`, then
    down."""
    up, down = (re.findall(pattern, page) for page in _sorted_pages(web, url, key))
    assert len(set(up)) >= 2 and up == sorted(up) and down == sorted(down, reverse=True), (up, down)


def _rows(resp) -> list[list[str]]:
    return list(csv.reader(io.StringIO(resp.get_data(as_text=True))))


def test_every_list_page_is_covered():
    paged = _paged_endpoints()
    assert paged, "no list page found in the templates"
    assert paged - set(LISTS) == set(), "a list page is not covered by this test"
    assert set(LISTS) - UNPAGED <= paged


def _bench_entries(session, make_user):
    """A lot with an isolation and two passages entered by a technician, none verified."""
    from tests.factories import lots as f

    tech, qa = make_user("technician"), make_user("qa")
    lot = f.harvest(session, tech, f.signed_donor(session, tech, qa))
    f.isolate(session, tech, None, lot)
    f.passage(session, tech, None, lot, 1.0e6, 1.6e7)
    f.passage(session, tech, None, lot, 2.0e6, 3.2e7)
    return lot


@pytest.mark.parametrize("endpoint", sorted(LISTS))
def test_each_sortable_column_sorts_both_ways_and_the_list_exports(
    app, login_as, make_user, session, endpoint
):
    if endpoint == "verify.index":  # the list shows its table only when something waits
        _bench_entries(session, make_user)
    web = login_as(*LISTS[endpoint])
    if endpoint == "tokens.index":
        token_for(web)
    if endpoint == "release.specs":
        web.get("/release/specifications")
        web.post("/release/specifications/seed")
    url = _url(app, endpoint)
    page = web.get(url).get_data(as_text=True)
    keys = list(dict.fromkeys(re.findall(r'data-sort="([\w-]+)"', page)))
    assert keys, f"{endpoint}: no sortable column"
    for key in keys:
        asc = web.get(f"{url}?sort={key}")
        assert asc.status_code == 200, (endpoint, key)
        html = asc.get_data(as_text=True)
        # A table header says its order with aria-sort; the sort links above a list of cards (late-result
        # alerts) mark the current one with aria-current and say the order in words (aria-sort is not
        # allowed on a link: axe-core, WCAG 4.1.2).
        assert re.search(rf'aria-sort="ascending"[^>]*>\s*<a[^>]*data-sort="{key}"', html) or re.search(
            rf'data-sort="{key}" aria-current="true">[^<]*<span aria-hidden="true">▲', html
        ), (endpoint, key)
        assert f"sort=-{key}" in html, (endpoint, key)  # the second click sorts descending
        desc = web.get(f"{url}?sort=-{key}").get_data(as_text=True)
        assert 'aria-sort="descending"' in desc or "(descending)" in desc
        resp = web.get(f"{url}?sort=-{key}&export=csv")
        assert resp.status_code == 200 and resp.mimetype == "text/csv", (endpoint, key)
    resp = web.get(f"{url}?export=csv")
    assert resp.mimetype == "text/csv" and "attachment" in resp.headers["Content-Disposition"]
    assert _rows(resp)[0], endpoint


@pytest.mark.parametrize("endpoint", sorted(set(LISTS) - UNPAGED))
def test_every_filter_box_has_a_visible_label(app, login_as, endpoint):
    web = login_as(*LISTS[endpoint])
    html = web.get(_url(app, endpoint)).get_data(as_text=True)
    forms = re.findall(r'<form class="filter[^"]*"[^>]*>(.*?)</form>', html, re.S)
    assert forms, endpoint
    labelled = set(re.findall(r'<label[^>]*for="([^"]+)"', forms[0]))
    boxes = re.findall(r"<(?:input|select)\b([^>]*)>", forms[0])
    assert boxes, endpoint
    for box in boxes:
        if 'type="hidden"' in box:
            continue
        ident = re.search(r'id="([^"]+)"', box)
        assert ident and ident.group(1) in labelled, (endpoint, box)


def test_export_link_keeps_the_filters_and_sort(app, login_as):
    web = login_as("technician")
    page = web.get("/storage/?q=zz&sort=-tank").get_data(as_text=True)
    assert 'href="/storage/?q=zz&amp;sort=-tank&amp;export=csv"' in page
    assert 'href="/storage/?q=zz&amp;sort=tank"' in page  # the header turns it back to ascending


def _body_order(html: str, values: list[str]) -> list[str]:
    body = html.split("<tbody>", 1)[1]
    return sorted((v for v in values if v in body), key=body.index)


def test_materials_sort_by_lot_both_ways_and_export_the_searched_material(login_as, make_user, session):
    from tests.factories import lots as f

    tech = make_user("technician")
    first, second = f.material_lot(session, tech), f.material_lot(session, tech)
    lots = sorted([first.lot_number, second.lot_number])
    web = login_as("technician")
    for key in ("lot",):
        up, down = _sorted_pages(web, "/materials/?q=Collagenase", key)
        assert _body_order(up, lots) == lots and _body_order(down, lots) == lots[::-1]
    rows = _rows(web.get(f"/materials/?q={second.lot_number}&export=csv"))
    assert rows[0][:4] == ["material", "supplier", "lot", "expiry"]
    assert [r[2] for r in rows[1:]] == [second.lot_number]
    assert rows[1][5] == "approved"  # the status in words, as the badge says it


def test_storage_boxes_sort_by_tank_both_ways_and_export_the_filtered_boxes(login_as, make_user, session):
    from tests.factories import lots as f

    tech = make_user("technician")
    boxes = [f.box(session, tech), f.box(session, tech)]
    tanks = sorted(b.tank for b in boxes)
    web = login_as("technician")
    # Other tests' boxes share the database and may fill the first page: the order is read from the
    # export of the whole sorted list, which follows the page's order.
    up = [
        r[1] for r in _rows(web.get("/storage/?site=Toulouse+CTU&sort=tank&export=csv"))[1:] if r[1] in tanks
    ]
    down = [
        r[1] for r in _rows(web.get("/storage/?site=Toulouse+CTU&sort=-tank&export=csv"))[1:] if r[1] in tanks
    ]
    assert up == tanks and down == tanks[::-1]
    rows = _rows(web.get(f"/storage/?q={tanks[1]}&export=csv"))
    assert rows[0] == ["site", "tank", "rack", "box", "size", "used"]
    assert [r[1] for r in rows[1:]] == [tanks[1]] and rows[1][4] == "9 × 9"


def test_protocols_sort_by_code_both_ways_and_export_the_search(login_as):
    web = login_as("clinical")
    web.get("/doses/protocols")  # the seed protocols are stored on first use
    _sorts_both_ways(web, "/doses/protocols", "protocol", r'protocols/[0-9]+">([A-Z0-9-]+)<')
    rows = _rows(web.get("/doses/protocols?q=MESEMS&export=csv"))
    assert rows[0][:2] == ["protocol", "version"] and {r[0] for r in rows[1:]} == {"MESEMS"}
    assert {r[6] for r in rows[1:]} == {"blinded"}  # the design in words, as the list shows it


def test_a_blinded_readers_exports_reveal_no_arm(app, staff, session):
    from tests.factories import custody as fc
    from tests.support import client_for

    active, placebo = fc.blinded_pair(session, staff)
    web = client_for(app, staff.clinician)  # blinded
    subjects = [active.patient.subject_id, placebo.patient.subject_id]
    for url in ("/doses/doses", "/custody/"):
        exported = {}
        for subject in subjects:
            resp = web.client.get(f"{url}?q={subject}&sort=-planned&export=csv")
            assert resp.mimetype == "text/csv"
            text = resp.get_data(as_text=True)
            low = text.replace("(MSC or placebo)", "").lower()
            assert "placebo" not in low and "bm-msc" not in low and "bone-marrow" not in low, url
            rows = _rows(resp)
            assert [r[1] for r in rows[1:]] == [subject]  # the filter applied
            exported[subject] = rows[1]
        # Apart from the dose number, subject and DINs, both arms read alike.
        a, b = ([c for i, c in enumerate(row) if i not in (0, 1)] for row in exported.values())
        strip = re.compile(r"[A-Z][0-9]{4}[0-9]{2}[0-9]{6}")
        assert [strip.sub("", c) for c in a] == [strip.sub("", c) for c in b], url
    pharmacist = client_for(app, staff.pharmacist)  # unblinded: the arm, as the list shows it
    rows = _rows(pharmacist.client.get(f"/doses/doses?q={subjects[1]}&export=csv"))
    assert rows[1][5] == "Placebo"


def test_entries_to_verify_sort_both_ways_and_export_the_filtered_lot(login_as, make_user, session):
    lot = _bench_entries(session, make_user)
    web = login_as("qa")
    entry = r'<tr data-entry="([a-z]+:\d+)"'
    up, down = (
        re.findall(entry, page) for page in _sorted_pages(web, f"/verify/?subject={lot.din}", "entered")
    )
    assert len(up) == 3 and down == up[::-1] and up[0].startswith("isolation:")
    rows = _rows(web.get(f"/verify/?subject={lot.din}&export=csv"))
    assert rows[0] == ["entry", "lot_or_donor", "values_entered", "entered_by", "entered"]
    assert len(rows) == 4 and {r[1] for r in rows[1:]} == {lot.din_display}  # as the list shows it


def test_api_tokens_sort_by_name_both_ways_and_export_no_secret(login_as):
    web = login_as("technician")
    for name in ("zz printer", "aa instrument"):
        web.get("/account/tokens/")
        web.post("/account/tokens/", {"name": name})
    names = ["aa instrument", "zz printer"]
    up, down = _sorted_pages(web, "/account/tokens/", "name")
    assert _body_order(up, names) == names and _body_order(down, names) == names[::-1]
    rows = _rows(web.get("/account/tokens/?sort=name&export=csv"))
    assert rows[0] == ["name", "starts_with", "created", "state"]
    assert [r[0] for r in rows[1:]] == names and {r[3] for r in rows[1:]} == {"active"}
    assert all(r[1].endswith("…") and len(r[1]) < 20 for r in rows[1:])  # only the start of a token


def test_specifications_export_every_version_with_its_status_in_words(login_as):
    web = login_as("qa")
    web.get("/release/specifications")
    web.post("/release/specifications/seed")
    rows = _rows(web.get("/release/specifications?sort=-effective&export=csv"))
    assert len(rows) > 1
    assert rows[0] == ["product", "version", "seed", "status", "change", "effective_since"]
    assert all("_" not in r[3] for r in rows[1:])


def test_product_types_sort_by_key_both_ways_and_export_as_shown(login_as):
    web = login_as("technician")
    web.get("/lots/harvest")  # the product catalogue is seeded on first use
    _sorts_both_ways(web, "/lots/products", "key", r"<tr><td>([A-Z][A-Z-]+)</td><td>\d+</td>")
    rows = _rows(web.get("/lots/products?export=csv"))
    assert rows[0][:3] == ["key", "version", "name"] and rows[1][6].startswith("P")
