"""Labels by regulatory region (issue 19): what Regulation (EU) No 536/2014, Articles 66-67 and Annex VI,
makes an EU label say (outer packaging: every particular; immediate container: the reduced set), never the
US statement of 21 CFR 312.6 there; a US or older stored version keeps today's statements; a subject id is
never split across lines and text that does not fit is refused, never cut."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bank.labels import LabelData, LabelOverflowError, Text, label_elements
from doses.reference import MAESTRO_4MS, MESEMS, MSC_AT_SSC, stored_protocol
from doses.rules.labels import (
    AUTOLOGOUS,
    DEFAULT_PACKAGING,
    EU_TRIAL,
    US_CAUTION,
    Packaging,
    label_wording,
    validate_print,
)
from doses.rules.protocol import Labelling, Protocol, Region

pytestmark = pytest.mark.requirement("DOS-LABELS")

STORAGE = "≤ −150 °C"
SEEDS = (MESEMS, MAESTRO_4MS, MSC_AT_SSC)


def all_text(w) -> str:
    return " ".join((w.product_name or "", w.storage_text, *w.extra_lines, *w.statements))


@pytest.mark.parametrize("protocol", SEEDS, ids=lambda p: p.code)
def test_seed_trials_are_eu_with_french_labels_and_every_annex_vi_particular(protocol):
    lab = protocol.labelling
    assert lab.region is Region.EU and lab.languages == ("fr",)
    w = label_wording(protocol, Packaging.OUTER, False, STORAGE)
    text = all_text(w)
    # Annex VI A.1: contact (name, address, telephone), product name, form and route, trial reference,
    # site, investigator, sponsor, directions, "for clinical trial use only", storage; language French.
    for particular in (
        lab.contact_name,
        lab.contact_address,
        lab.contact_phone,
        lab.product_name,
        lab.trial_reference,
        lab.site,
        lab.investigator,
        lab.sponsor,
        "Pour essai clinique uniquement",
        "levée d'aveugle en urgence",
        "Mode d'emploi",
        f"Conserver à {STORAGE}",
    ):
        assert particular in text, particular
    assert lab.pharmaceutical_form.lower() in text.lower()
    assert w.language == "fr" and US_CAUTION not in text and "Caution" not in text and EU_TRIAL not in text


@pytest.mark.parametrize("protocol", SEEDS, ids=lambda p: p.code)
def test_immediate_container_carries_the_reduced_annex_vi_set_and_never_the_us_statement(protocol):
    lab = protocol.labelling
    w = label_wording(protocol, Packaging.IMMEDIATE, True, STORAGE)
    text = all_text(w)
    for particular in (lab.contact_name, lab.contact_phone, lab.trial_reference, "Pour essai clinique"):
        assert particular in text
    assert "USAGE AUTOLOGUE UNIQUEMENT" in text and AUTOLOGOUS not in text
    assert "Promoteur" not in text and "Mode d'emploi" not in text  # the outer packaging carries those
    assert US_CAUTION not in text


def test_the_100x100_label_is_the_outer_packaging_and_the_100x50_the_immediate_container():
    assert DEFAULT_PACKAGING == {"100x100": Packaging.OUTER, "100x50": Packaging.IMMEDIATE}
    assert validate_print("100x50", "1", ("100x50",), "immediate") == {}
    assert "packaging" in validate_print("100x50", "1", ("100x50",), "inner")


def test_a_us_protocol_and_a_version_without_region_keep_the_us_statement():
    us = dataclasses.replace(MAESTRO_4MS, labelling=Labelling(Region.US, ("en",)))
    for protocol in (us, dataclasses.replace(MAESTRO_4MS, labelling=None)):
        w = label_wording(protocol, Packaging.OUTER, True, STORAGE)
        assert w.statements == (US_CAUTION, EU_TRIAL, AUTOLOGOUS) and w.language == "en"
        assert w.product_name is None and w.extra_lines == ("For intrathecal use",)


def test_a_blinded_eu_label_names_the_active_together_with_the_placebo():
    """Annex VI A.1(b): for a blinded trial, the active and the placebo are named on both."""
    with pytest.raises(ValueError, match="together with the placebo"):
        dataclasses.replace(
            MESEMS, labelling=dataclasses.replace(MESEMS.labelling, product_name="CSM autologues")
        )
    w = label_wording(MESEMS, Packaging.OUTER, True, STORAGE)
    assert "ou placebo" in w.product_name


def test_an_eu_labelling_needs_every_particular_and_one_known_language():
    with pytest.raises(ValueError, match="contact_phone"):
        dataclasses.replace(MESEMS.labelling, contact_phone=" ")
    for languages in ((), ("fr", "en"), ("de",)):
        with pytest.raises(ValueError, match="one language"):
            dataclasses.replace(MESEMS.labelling, languages=languages)


def test_a_seed_version_stored_without_label_particulars_reads_with_its_seeds():
    stored = MESEMS.to_dict()
    stored.pop("labelling")
    assert stored_protocol(json.dumps(stored)).labelling == MESEMS.labelling
    assert Protocol.from_dict(MESEMS.to_dict()) == MESEMS  # round trip
    other = MAESTRO_4MS.to_dict()
    other.pop("labelling")
    other["code"] = "OTHER-TRIAL"
    assert stored_protocol(json.dumps(other)).labelling is None  # no other trial's particulars guessed


def label(subject_id: str, language: str = "fr") -> LabelData:
    w = label_wording(MESEMS, Packaging.OUTER, True, STORAGE)
    return LabelData(
        din="G123426123456",
        product_code="S9001V00",
        product_name=w.product_name,
        cells_text="1–2 × 10⁶ viable cells/kg (protocol dose)",
        volume_text="50 mL",
        expiry_local=datetime(2027, 12, 3, 23, 59, tzinfo=ZoneInfo("Europe/Paris")),
        storage_text=w.storage_text,
        trial_code="MESEMS",
        subject_id=subject_id,
        dose_number=1,
        facility_name="Cell Therapy Unit",
        statements=w.statements,
        dose_count=2,
        extra_lines=w.extra_lines,
        language=language,
    )


@pytest.mark.parametrize("size", ["100x100", "100x50"])
def test_subject_id_is_printed_on_one_line_or_refused(size):
    subject = "MESEMS-S9781A3-001"
    texts = [e.text for e in label_elements(label(subject), size) if isinstance(e, Text)]
    assert any(subject in t for t in texts)
    assert not any(t.endswith(("MESEMS-", "S9781A3-")) for t in texts)  # never broken after a hyphen
    with pytest.raises(LabelOverflowError, match="subject|product description"):
        label_elements(label("MESEMS-" + "-".join(["S9781A3"] * 6) + "-001"), size)


def test_french_expiry_writes_the_month_out_with_its_zone():
    texts = [e.text for e in label_elements(label("MESEMS-S1-001"), "100x100") if isinstance(e, Text)]
    assert "EXP 03 DÉC 2027 23:59 CET" in texts
    assert "Essai\u00a0MESEMS" in texts and "Dose\u00a01\u00a0sur\u00a02" in texts


def test_text_that_does_not_fit_is_refused_in_every_block():
    long = "x" * 400
    base = label("MESEMS-S1-001")
    for change in (
        {"statements": (*base.statements, long)},
        {"extra_lines": (long,)},
        {"facility_name": long},
        {"trial_code": long},
        {"product_name": long},
    ):
        for size in ("100x100", "100x50"):
            if size == "100x50" and "extra_lines" in change:
                continue  # the compact label leaves extra lines out (the immediate set has none)
            with pytest.raises(LabelOverflowError, match="does not fit"):
                label_elements(dataclasses.replace(base, **change), size)
    with pytest.raises(ValueError, match="language"):
        dataclasses.replace(base, language="de")
