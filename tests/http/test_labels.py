"""Dose labels as printed: PDFs rasterised with pdftoppm at 200 and 300 dpi and every bar code decoded
by an independent decoder (zxing-cpp) to the exact ISBT 128 data; the text read back with pypdf; a
blinded active and a placebo label of the same visit identical apart from the container's own data;
labels refused for a container that is not released and allocated; ZPL at 203 and 300 dpi."""

from __future__ import annotations

import dataclasses
import io
import re
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from bank import isbt128
from bank.barcodes import QUIET_MODULES, code128_width, datamatrix_size
from bank.labels import LEADING, Linear, Matrix, Text, label_elements, text_width
from bank.models import AuditEntry
from doses.reference import MESEMS
from doses.reports import US_CAUTION, dose_labels
from tests.factories import custody as fc
from tests.factories import doses as fd
from tests.support import client_for, decoded, raster, token_for

pytestmark = pytest.mark.requirement("DOS-LABELS", "DOS-ISBT128", "ER-COPIES")

MM = 72 / 25.4
FACILITY = "Test Cell Therapy Unit"  # tests/conftest.py app config


def pdf_text(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def flat(text: str) -> str:
    return " ".join(text.split())


def expected_data(container) -> set[str]:
    din = isbt128.encode_din(container.lot.din, "00")
    product = isbt128.encode_product(container.product_code)
    expiry = isbt128.encode_expiry(container.expires_at.astimezone(ZoneInfo("Europe/Paris")))
    return {din, product, expiry, isbt128.encode_compound([din, product, expiry])}


def get_labels(web, allocation, **query):
    query = {"size": "100x100", "copies": "1", "output": "pdf", **query}
    web.get(f"/custody/doses/{allocation.id}")  # the page with the print form and its CSRF token
    return web.post(f"/custody/doses/{allocation.id}/labels", query)


@pytest.mark.parametrize("size", ["100x100", "100x50"])
def test_every_bar_code_decodes_to_the_exact_isbt_128_data_at_200_and_300_dpi(app, staff, session, size):
    allocation = fc.open_dose(session, staff)
    container = allocation.containers[0]
    resp = get_labels(client_for(app, staff.tech), allocation, size=size, copies="2", show_utc="y")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    want = expected_data(container)
    din = f"={container.lot.din}00"
    assert din in want and f"=<{container.product_code}" in want
    assert any(re.fullmatch(r"&>0\d{9}", w) for w in want)  # &>cyyjjjhhmm, c = 0 for 2000–2099
    for dpi in (200, 300):
        pages = raster(resp.data, dpi)
        assert len(pages) == 2  # two copies of the one container's label
        for image in pages:
            codes = decoded(image)
            assert sorted(codes.get("Code128", [])) == sorted(w for w in want if not w.startswith("=+"))
            assert codes.get("DataMatrix") == [next(w for w in want if w.startswith("=+03000"))]
    # The Data Matrix message is what a scanner gives the custody form: it names the container.
    scan = isbt128.parse_scan(next(w for w in want if w.startswith("=+")))
    assert (scan.din, scan.product_code) == (container.lot.din, container.product_code)


def test_label_text_reads_back_din_with_boxed_check_character_and_statements(app, staff, session):
    allocation = fc.open_dose(session, staff)
    container = allocation.containers[0]
    web = client_for(app, staff.tech)
    text = flat(pdf_text(get_labels(web, allocation, show_utc="y").data)[0])
    assert f"{container.lot.din_display} 00 {container.lot.check_char}" in text
    assert container.lot.check_char == isbt128.check_character(container.lot.din)
    # MAESTRO-4MS is an EU trial (Rennes): French Annex VI particulars, never the US statement (issue 19).
    assert "Pour essai clinique uniquement" in text and US_CAUTION not in text and "Caution" not in text
    assert "AUTOLOGUE" not in text  # allogeneic trial
    assert (
        "CSM allogéniques de tissu adipeux" in text
        and "50 mL" in text
        and "cellules viables" in text
        and "viable cells" not in text
    )
    assert "Essai MAESTRO-4MS" in text and "Dose 1 sur 3" in text and "voie intrathécale" in text
    # the product's storage text is catalogued data: in the label's language, whoever prints it
    assert "Conserver à ≤ −150 °C (phase vapeur d'azote liquide)" in text and "liquid nitrogen" not in text
    assert f"Sujet {allocation.patient.subject_id}" in text
    assert re.search(
        r"EXP \d\d [A-ZÉÛ]{3,4} \d{4} \d\d:\d\d CES?T = \d\d [A-ZÉÛ]{3,4} \d{4} \d\d:\d\d UTC", text
    )
    assert "Conserver à ≤ −150 °C" in text
    # The box around the check character is drawn as a square next to it.
    elements = label_elements(
        dose_labels(session, allocation, facility_name=FACILITY, zone=ZoneInfo("Europe/Paris"))[0], "100x100"
    )
    char = next(
        i for i, e in enumerate(elements) if isinstance(e, Text) and e.text == container.lot.check_char
    )
    box = elements[char - 1]
    assert box.w == box.h > 0 and box.x < char_x(elements[char]) < box.x + box.w


def char_x(element: Text) -> float:
    return element.x


def identifiers(allocation) -> list[str]:
    c = allocation.containers[0]
    return [c.lot.din, c.lot.din_display, c.product_code, allocation.patient.subject_id, c.lot.check_char]


def test_blinded_active_and_placebo_labels_are_identical_apart_from_the_container_identifiers(
    app, staff, session
):
    active, placebo = fc.blinded_pair(session, staff)
    zone = ZoneInfo("Europe/Paris")
    la, lp = (dose_labels(session, a, facility_name=FACILITY, zone=zone)[0] for a in (active, placebo))
    own = {"din", "product_code", "check_char", "subject_id"}  # the bag's identifiers and whose it is
    same = {f.name for f in dataclasses.fields(la)} - own
    assert {n: getattr(la, n) for n in same} == {n: getattr(lp, n) for n in same}
    # EU (Annex VI): the active together with the placebo, in French, the same on both arms (issue 19).
    assert la.product_name == MESEMS.labelling.product_name
    assert (
        la.cells_text == "1–2 × 10⁶ cellules viables/kg (dose du protocole)"
    )  # the label language; never the placebo's 0 cells
    assert "Pour essai clinique uniquement · USAGE AUTOLOGUE UNIQUEMENT" in la.statements  # on both arms
    # One trial product code for both arms (issue 16): only the division is the container's own.
    assert la.product_code[:6] == lp.product_code[:6] == "S90011"

    # The printed labels, as a blinded clinician prints them, read the same once identifiers are masked.
    web = client_for(app, staff.clinician)
    pdfs = {a.id: get_labels(web, a).data for a in (active, placebo)}
    texts = []
    for a in (active, placebo):
        text = "".join(pdf_text(pdfs[a.id])[0].split())  # no spaces: identifiers compared as one token
        for token in sorted(identifiers(a)[:4], key=len, reverse=True):
            text = text.replace("".join(token.split()), "<ID>")
        texts.append(re.sub(r"<ID>00.", "<ID>00<CHECK>", text))
    assert (
        texts[0] == texts[1]
        and "placebo" not in texts[1].replace("".join(la.product_name.split()), "").lower()
        and "<CHECK>" in texts[0]
    )

    # And pixel for pixel outside the identifier areas (DIN, product code, Data Matrix, subject line).
    dpi = 200
    images = [np.asarray(raster(pdfs[a.id], dpi)[0]) for a in (active, placebo)]
    assert images[0].shape == images[1].shape
    mask = np.zeros(images[0].shape, dtype=bool)
    ea, ep = label_elements(la, "100x100"), label_elements(lp, "100x100")
    assert len(ea) == len(ep)
    differing = [(x, y) for x, y in zip(ea, ep, strict=True) if x != y]
    for x, y in differing:
        assert carries_identifier(x, la) and carries_identifier(y, lp), (x, y)
        for element in (x, y):
            left, top, width, height = bbox(element)
            px = dpi / 25.4
            mask[
                max(0, int((top - 1) * px)) : int((top + height + 1) * px),
                max(0, int((left - 1) * px)) : int((left + width + 1) * px),
            ] = True
    assert mask.mean() < 0.5  # most of the label is compared
    outside = images[0][~mask].astype(int) - images[1][~mask].astype(int)
    assert np.abs(outside).max() == 0


def carries_identifier(element, label) -> bool:
    if isinstance(element, (Linear, Matrix)):
        return label.din in element.data or label.product_code in element.data
    words = [label.din[:5], label.din[7:], label.product_code, label.check_char, *label.subject_id.split("-")]
    return any(w and w in element.text for w in words)


def bbox(element) -> tuple[float, float, float, float]:
    """Left, top, width, height in millimetres."""
    if isinstance(element, Linear):
        quiet = QUIET_MODULES * element.module
        return (
            element.x - quiet,
            element.y,
            code128_width(element.data, element.module * MM) / MM,
            element.height,
        )
    if isinstance(element, Matrix):
        side = datamatrix_size(element.data) * element.module
        return element.x, element.y, side, side
    width, height = text_width(element.text, element.size, element.bold) / MM, element.size * LEADING / MM
    return (element.x, element.y, height, width) if element.rotated else (element.x, element.y, width, height)


def test_mesems_labels_say_autologous_and_name_the_placebo_only_with_the_active(app, staff, session):
    """Issue 19: a MESEMS (EU, blinded) label names the active together with the placebo, as Annex VI asks,
    on both arms; the placebo is never named alone and its 0 cells never printed."""
    active, placebo = fc.blinded_pair(session, staff)
    web = client_for(app, staff.clinician)
    name = MESEMS.labelling.product_name
    for allocation in (active, placebo):
        text = flat(pdf_text(get_labels(web, allocation, size="100x50").data)[0])
        assert "USAGE AUTOLOGUE UNIQUEMENT" in text and "Pour essai clinique uniquement" in text
        assert name in text and "placebo" not in text.replace(name, "").lower() and "0 × 10" not in text


def test_label_refused_for_a_container_not_released_or_not_allocated(app, staff, session):
    web = client_for(app, staff.tech)
    free = fd.containers(session, fd.cell_lot(session, staff, n=1))[0]  # released, not allocated
    resp = web.post(
        f"/custody/containers/{free.id}/labels", {"size": "100x100", "copies": "1", "output": "pdf"}
    )
    assert resp.status_code == 409 and "is not allocated to a dose" in resp.get_data(as_text=True)
    unreleased = fd.containers(session, fd.cell_lot(session, staff, n=1, release=False))[0]
    body = web.post(f"/custody/containers/{unreleased.id}/labels", {"copies": "1"}).get_data(as_text=True)
    assert "is not released" in body and "is not allocated" in body
    allocation = fc.open_dose(session, staff)
    container = allocation.containers[0]
    resp = web.post(
        f"/custody/containers/{container.id}/labels", {"size": "100x50", "copies": "1", "output": "pdf"}
    )
    assert resp.status_code == 200 and resp.data.startswith(b"%PDF")


def test_label_print_input_is_checked_and_zpl_comes_at_203_and_300_dpi(app, staff, session):
    allocation = fc.open_dose(session, staff)
    web = client_for(app, staff.tech)
    resp = get_labels(web, allocation, copies="abc", size="9x9")
    body = resp.get_data(as_text=True)
    assert (
        resp.status_code == 422 and "Copies must be a whole number" in body and "Label size must be" in body
    )
    assert get_labels(web, allocation, copies="21").status_code == 422
    for dpi, dots in (("203", 8), ("300", 12)):
        resp = get_labels(web, allocation, output="zpl", dpi=dpi, size="100x50", copies="2")
        zpl = resp.get_data(as_text=True)
        assert resp.status_code == 200 and zpl.startswith("^XA") and zpl.count("^XZ") == 2
        assert f"^PW{100 * dots}" in zpl and f"^LL{50 * dots}" in zpl and "^BXN," in zpl and "^BCN," in zpl
    assert get_labels(web, allocation, output="zpl", dpi="600").status_code == 422
    assert (
        client_for(app, staff.qa).post(f"/custody/doses/{allocation.id}/labels", {"copies": "1"}).status_code
        == 403
    )


def test_printing_labels_is_a_post_with_csrf_and_a_get_writes_nothing(app, staff, session):
    """Issue 17: printing writes the print log, so it is a POST with the form's CSRF token; a GET or a
    post without the token prints nothing and logs nothing."""
    allocation = fc.open_dose(session, staff)
    web = client_for(app, staff.tech)
    container = allocation.containers[0]
    before = session.scalar(select(func.count()).select_from(AuditEntry))
    assert web.client.get(f"/custody/doses/{allocation.id}/labels").status_code == 405
    assert web.client.get(f"/custody/containers/{container.id}/labels").status_code == 405
    assert web.post(f"/custody/doses/{allocation.id}/labels", {"copies": "1"}, csrf=False).status_code == 400
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == before
    assert get_labels(web, allocation).status_code == 200


def test_api_label_pdf(app, staff, session):
    allocation = fc.open_dose(session, staff)
    web = client_for(app, staff.tech)
    token = token_for(web, "label printer")
    api, headers = app.test_client(), {"Authorization": f"Bearer {token}"}
    resp = api.post(
        f"/api/v1/doses/{allocation.id}/labels.pdf", headers=headers, query_string={"size": "100x50"}
    )
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert set(decoded(raster(resp.data, 300)[0])["Code128"]) == {
        w for w in expected_data(allocation.containers[0]) if not w.startswith("=+")
    }
    resp = api.post(
        f"/api/v1/doses/{allocation.id}/labels.pdf", headers=headers, query_string={"copies": "0"}
    )
    assert resp.status_code == 422 and "copies" in resp.json["errors"]
    # Issue 19: outer packaging (default on 100 × 100: every Annex VI particular) or immediate container.
    url = f"/api/v1/doses/{allocation.id}/labels.pdf"
    resp = api.post(url, headers=headers, query_string={"packaging": "inner"})
    assert resp.status_code == 422 and "packaging" in resp.json["errors"]
    outer = flat(pdf_text(api.post(url, headers=headers).data)[0])
    inner = flat(pdf_text(api.post(url, headers=headers, query_string={"packaging": "immediate"}).data)[0])
    assert "Promoteur : CHU de Rennes" in outer and "Promoteur" not in inner
    assert "Pour essai clinique uniquement" in inner and "2024-500000-00-00" in inner


def zpl_fields(zpl: str) -> list[str]:
    """The text of every ^FH_ field, hex escapes decoded (code page 1252, as the printer reads it)."""
    return [
        re.sub(r"_([0-9A-F]{2})", lambda m: bytes([int(m.group(1), 16)]).decode("cp1252"), field)
        for field in re.findall(r"\^FD(.*?)\^FS", zpl)
    ]


def test_french_mesems_labels_carry_annex_vi_particulars_the_same_on_both_arms_in_pdf_and_zpl(
    app, staff, session
):
    """Issue 19 (Regulation (EU) No 536/2014, Annex VI): a MESEMS dose's outer packaging label (100 × 100)
    and immediate container label (100 × 50) in French, as a blinded clinician prints them: the
    particulars present, no US statement, the same on both arms once the container's identifiers are
    masked, the bar codes decoding to the same ISBT 128 data, the subject id on one line."""
    active, placebo = fc.blinded_pair(session, staff)
    web = client_for(app, staff.clinician)
    lab = MESEMS.labelling
    outer = [lab.contact_phone, lab.contact_address, lab.sponsor, lab.site, lab.investigator, "Mode d'emploi"]
    common = [
        "Pour essai clinique uniquement",
        "USAGE AUTOLOGUE UNIQUEMENT",
        lab.product_name,
        lab.contact_name,
        lab.contact_phone,
        lab.trial_reference,
        "Suspension pour perfusion · voie intraveineuse",
        "Conserver à ≤ −150 °C",
        "Essai MESEMS",
        "Dose 1 sur 2",
    ]
    masked: dict[str, list[str]] = {}
    for allocation in (active, placebo):
        subject, container = allocation.patient.subject_id, allocation.containers[0]
        for size, packaging, particulars in (("100x100", "", outer), ("100x50", "immediate", [])):
            resp = get_labels(web, allocation, size=size, packaging=packaging)
            assert resp.status_code == 200 and resp.mimetype == "application/pdf"
            page = pdf_text(resp.data)[0]
            text = flat(page)
            for particular in (*common, *particulars):
                assert particular in text, (size, particular)
            assert US_CAUTION not in text and "Caution" not in text and "Federal" not in text
            assert re.search(r"EXP \d\d (JANV|FÉVR|MARS|AVR|MAI|JUIN|JUIL|AOÛT|SEPT|OCT|NOV|DÉC) \d{4}", text)
            assert any(subject in line for line in page.splitlines())  # one line, never split
            codes = decoded(raster(resp.data, 300)[0])
            data = dose_labels(session, allocation, facility_name=FACILITY, zone=ZoneInfo("Europe/Paris"))[0]
            assert data.product_data == isbt128.encode_product(data.product_code)  # the trial code S9001
            assert sorted(codes["Code128"]) == sorted((data.din_data, data.product_data, data.expiry_data))
            assert codes["DataMatrix"] == [data.matrix_data] and isbt128.parse_scan(data.matrix_data).din == (
                container.lot.din
            )
            zpl = get_labels(web, allocation, size=size, packaging=packaging, output="zpl")
            fields = zpl_fields(zpl.get_data(as_text=True))
            joined = flat(" ".join(fields))  # no-break spaces read as spaces
            for particular in (*common, *particulars):
                assert particular.replace("≤", "<=").replace("−", "-") in joined, (size, particular)
            assert "Caution" not in joined and any(f"Sujet\u00a0{subject}" in f for f in fields)
            ids = sorted([*identifiers(allocation)[:2], data.product_code, subject], key=len, reverse=True)
            for token in ids:
                text = text.replace(token, "<ID>")
            masked.setdefault(size, []).append(re.sub(r"<ID> 00 .", "<ID> 00 <CHECK>", text))
    for size, (a, p) in masked.items():
        assert a == p and "<CHECK>" in a, size
