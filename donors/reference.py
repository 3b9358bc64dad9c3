"""Donor criteria sets as versioned reference data: the seed "SSc adipose donor v1" (DOMAIN.md §2), the
stored versions (exactly one active) and their seeding — done only by `flask init`,
`flask donor-criteria-seed` and the demo, never by a page."""

from __future__ import annotations

from bank.refusals import Problem
from donors.rules.criteria import (
    CLINICAL_CURRENT,
    EXAM_FINDING,
    HISTORY,
    MEASUREMENT,
    MEDICATION,
    SEROLOGY,
    STATUS,
    CriteriaSet,
    Criterion,
    ParamValue,
    Question,
    SerologyMarker,
)

NO_ACTIVE_CRITERIA = Problem(
    "DON-CRITERIA-ACTIVE",
    "No donor criteria set is active: QA activates one, or an administrator runs "
    "`flask --app wsgi donor-criteria-seed` (also done by `flask --app wsgi init`).",
)


# --- seed set: SSc adipose donor v1 (NCT05947682 bank; DOMAIN.md §2) ----------------------------

_SER = "2006/17/EC Annex II; 21 CFR 1271.85"
_IGM = "2006/17/EC Annex II 1.5"
_TSE = "TSE risk, 2006/17/EC Annex I"


def _q(
    rule_id: str, text: str, anchor: str, evidence: str, look_back: str, qid: str, **params: ParamValue
) -> Criterion:
    return Criterion(rule_id, text, anchor, evidence, look_back, qid, tuple(params.items()))


def _ser(rule_id: str, text: str, anchor: str, *markers: str) -> Criterion:
    return Criterion(rule_id, text, anchor, SEROLOGY, "sample_window", None, (("markers", markers),))


# One entry per line of the DOMAIN.md §2 table; kept unformatted so the set reads as that table.
# fmt: off
_CRITERIA = (
    Criterion("DON-WEIGHT", "Weight below 50 kg at donation", "blood-donor rule, Directive 2004/33/EC",
              MEASUREMENT, "at_donation", None, (("min_weight_kg", 50),)),
    _ser("DON-SER-HIV", "Positive HIV-1/2 test", _SER, "HIV"),
    _ser("DON-SER-HBSAG", "Positive hepatitis B surface antigen (HBsAg)", _SER, "HBSAG"),
    _ser("DON-SER-ANTI-HBC", "Positive anti-HBc (cleared only with HBsAg negative and a documented "
         "risk assessment)", _SER, "ANTI_HBC"),
    _ser("DON-SER-HCV", "Positive hepatitis C test", _SER, "HCV"),
    _ser("DON-SER-SYPHILIS", "Positive syphilis test (a reactive non-treponemal screen with a "
         "non-reactive treponemal confirmation does not exclude)", _SER, "SYPH_TREP", "SYPH_NONTREP"),
    _ser("DON-SER-HTLV", "Positive HTLV-I/II test", _SER, "HTLV"),
    _ser("DON-SER-HEV", "Positive hepatitis E test", "trial-specific (SSc MSC(AT) bank, NCT05947682)", "HEV"),
    _ser("DON-SER-TOXO", "Active toxoplasmosis (IgM positive)", _IGM, "TOXO_IGM", "TOXO_IGG"),
    _ser("DON-SER-EBV", "Active Epstein-Barr virus infection (IgM positive)", _IGM, "EBV_IGM", "EBV_IGG"),
    _ser("DON-SER-CMV", "Active cytomegalovirus infection (IgM positive)", _IGM, "CMV_IGM", "CMV_IGG"),
    _q("DON-CLIN-INFECTION", "Active generalised infection (viral, parasitic, tuberculosis, leprosy)",
       "2006/17/EC Annex I 1.1.5", CLINICAL_CURRENT, "current", "Q-INFECTION"),
    _q("DON-HX-HYPERTENSION", "Uncontrolled hypertension within the past 12 months", "donor safety",
       HISTORY, "days", "Q-HYPERTENSION", lookback_days=365),
    _q("DON-HX-DURA", "Human dura mater transplant", _TSE, HISTORY, "lifetime", "Q-DURA"),
    _q("DON-HX-CNS-SURGERY", "Surgery of the central nervous system", _TSE + " (undocumented neurosurgery)",
       HISTORY, "lifetime", "Q-CNS-SURGERY"),
    _q("DON-HX-DEMENTIA", "Dementia or neurological disease that may evoke a subacute spongiform "
       "encephalopathy", _TSE, HISTORY, "lifetime", "Q-DEMENTIA"),
    _q("DON-HX-CJD-FAMILY", "Family history of subacute spongiform encephalopathy (CJD)", _TSE,
       HISTORY, "lifetime", "Q-CJD-FAMILY"),
    _q("DON-HX-HAEM-MALIGNANCY", "Haematological malignancy", "2006/17/EC Annex I 1.1.3",
       HISTORY, "lifetime", "Q-HAEM-MALIGNANCY"),
    _q("DON-HX-CANCER", "Active or past cancer", "2006/17/EC Annex I 1.1.3", HISTORY, "lifetime", "Q-CANCER"),
    _q("DON-HX-CHEMO-RT", "Chemotherapy or irradiation", "follows the malignancy rule, "
       "2006/17/EC Annex I 1.1.3", HISTORY, "lifetime", "Q-CHEMO-RT"),
    _q("DON-HX-AUTOIMMUNE", "Systemic or autoimmune disease", "2006/17/EC Annex I 1.1.7",
       HISTORY, "lifetime", "Q-AUTOIMMUNE"),
    _q("DON-EXAM-ADENOPATHY", "Multiple adenopathy on examination", "signs of transmissible disease",
       EXAM_FINDING, "at_examination", "Q-EXAM-ADENOPATHY"),
    _q("DON-EXAM-SPLENOMEGALY", "Splenomegaly on examination", "signs of transmissible disease",
       EXAM_FINDING, "at_examination", "Q-EXAM-SPLENOMEGALY"),
    _q("DON-EXAM-HEPATOMEGALY", "Hepatomegaly on examination", "signs of transmissible disease",
       EXAM_FINDING, "at_examination", "Q-EXAM-HEPATOMEGALY"),
    _q("DON-EXAM-ICTERUS", "Icterus on examination", "signs of transmissible disease",
       EXAM_FINDING, "at_examination", "Q-EXAM-ICTERUS"),
    _q("DON-HX-HAEMOPHILIA", "Haemophilia", "coagulopathy; clotting-factor exposure",
       HISTORY, "lifetime", "Q-HAEMOPHILIA"),
    _q("DON-HX-IDDM", "Known insulin-dependent diabetes", "blood-donor deferral [check]",
       HISTORY, "current", "Q-IDDM"),
    _q("DON-HX-PITUITARY", "Treatment with extractive pituitary hormones, growth hormone included", _TSE,
       HISTORY, "lifetime", "Q-PITUITARY"),
    _q("DON-MED-STEROID", "Steroid therapy for more than 5 days in the past 3 months", "trial-specific",
       MEDICATION, "days", "Q-STEROID", medication_kind="corticosteroid", lookback_days=90, max_days=5),
    _q("DON-MED-LITHIUM", "Lithium treatment", "trial-specific", MEDICATION, "current", "Q-LITHIUM",
       medication_kind="lithium"),
    _q("DON-STATUS-PREGNANCY", "Pregnancy", "trial-specific", STATUS, "at_donation", "Q-PREGNANCY"),
    _q("DON-STATUS-DEPRIVED", "Deprived of freedom (under legal protection)", "French research law",
       STATUS, "at_consent", "Q-DEPRIVED"),
)

_QUESTIONS = (
    Question("Q-INFECTION", "Do you currently have an infection such as a viral or parasitic infection, "
             "tuberculosis or leprosy?"),
    Question("Q-HYPERTENSION", "Have you had uncontrolled high blood pressure? If yes, date of the most "
             "recent episode.", asks_date=True),
    Question("Q-DURA", "Have you ever received a dura mater (brain membrane) graft?"),
    Question("Q-CNS-SURGERY", "Have you ever had surgery on the brain or spinal cord?"),
    Question("Q-DEMENTIA", "Have you been diagnosed with dementia or a neurological disease that may "
             "suggest a spongiform encephalopathy?"),
    Question("Q-CJD-FAMILY", "Has anyone in your family had Creutzfeldt-Jakob disease or another "
             "spongiform encephalopathy?"),
    Question("Q-HAEM-MALIGNANCY", "Have you ever had a blood cancer (leukaemia, lymphoma, myeloma)?"),
    Question("Q-CANCER", "Do you have, or have you ever had, cancer?"),
    Question("Q-CHEMO-RT", "Have you ever received chemotherapy or radiotherapy?"),
    Question("Q-AUTOIMMUNE", "Do you have a systemic or autoimmune disease?"),
    Question("Q-HAEMOPHILIA", "Do you have haemophilia?"),
    Question("Q-IDDM", "Do you have diabetes treated with insulin?"),
    Question("Q-PITUITARY", "Have you ever been treated with pituitary-extract hormones, growth hormone "
             "included?"),
    Question("Q-STEROID", "In the past 3 months, have you taken corticosteroid (steroid) tablets or "
             "injections? If yes, record each course with its start and stop dates."),
    Question("Q-LITHIUM", "Are you currently treated with lithium?"),
    Question("Q-PREGNANCY", "Are you pregnant?"),
    Question("Q-DEPRIVED", "Are you deprived of freedom by a judicial or administrative decision, or "
             "under legal protection?"),
    Question("Q-EXAM-ADENOPATHY", "Examination: multiple enlarged lymph nodes?"),
    Question("Q-EXAM-SPLENOMEGALY", "Examination: enlarged spleen?"),
    Question("Q-EXAM-HEPATOMEGALY", "Examination: enlarged liver?"),
    Question("Q-EXAM-ICTERUS", "Examination: jaundice (icterus)?"),
)

_MARKERS = (
    SerologyMarker("HIV", "HIV-1/2", "DON-SER-HIV"),
    SerologyMarker("HBSAG", "HBsAg", "DON-SER-HBSAG"),
    SerologyMarker("ANTI_HBC", "anti-HBc", "DON-SER-ANTI-HBC", cleared_if_negative="HBSAG"),
    SerologyMarker("HCV", "HCV", "DON-SER-HCV"),
    SerologyMarker("SYPH_TREP", "syphilis treponemal test", "DON-SER-SYPHILIS"),
    SerologyMarker("SYPH_NONTREP", "syphilis non-treponemal screen", "DON-SER-SYPHILIS",
                   confirmed_by="SYPH_TREP"),
    SerologyMarker("HTLV", "HTLV-I/II", "DON-SER-HTLV"),
    SerologyMarker("HEV", "HEV", "DON-SER-HEV"),
    SerologyMarker("TOXO_IGM", "toxoplasmosis IgM", "DON-SER-TOXO"),
    SerologyMarker("TOXO_IGG", "toxoplasmosis IgG", "DON-SER-TOXO", excludes_if_positive=False),
    SerologyMarker("EBV_IGM", "EBV IgM", "DON-SER-EBV"),
    SerologyMarker("EBV_IGG", "EBV IgG", "DON-SER-EBV", excludes_if_positive=False),
    SerologyMarker("CMV_IGM", "CMV IgM", "DON-SER-CMV"),
    SerologyMarker("CMV_IGG", "CMV IgG", "DON-SER-CMV", excludes_if_positive=False),
)
# fmt: on

SSC_ADIPOSE_DONOR_V1 = CriteriaSet(
    name="SSc adipose donor",
    version=1,
    criteria=_CRITERIA,
    questions=_QUESTIONS,
    markers=_MARKERS,
    # IgG and the non-treponemal screen are recorded when done but not required.
    required_markers=(
        "HIV",
        "HBSAG",
        "ANTI_HBC",
        "HCV",
        "SYPH_TREP",
        "HTLV",
        "HEV",
        "TOXO_IGM",
        "EBV_IGM",
        "CMV_IGM",
    ),
    sample_days_before=0,
    sample_days_after=7,
)
