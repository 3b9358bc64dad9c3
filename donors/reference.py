"""Donor criteria sets as versioned reference data: the seed "SSc adipose donor v1" (DOMAIN.md §2), the
stored versions (exactly one active) and their seeding — done only by `flask init`,
`flask donor-criteria-seed` and the demo, never by a page."""

from __future__ import annotations

from bank.i18n import N_, t
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
    t(
        "No donor criteria set is active: QA activates one, or an administrator runs "
        "`flask --app wsgi donor-criteria-seed` (also done by `flask --app wsgi init`)."
    ),
)


# --- seed set: SSc adipose donor v1 (NCT05947682 bank; DOMAIN.md §2) ----------------------------

_SER = N_("2006/17/EC Annex II; 21 CFR 1271.85")
_IGM = N_("2006/17/EC Annex II 1.5")
_TSE = N_("TSE risk, 2006/17/EC Annex I")
_MALIGNANCY = N_("2006/17/EC Annex I 1.1.3")


def _q(
    rule_id: str, text: str, anchor: str, evidence: str, look_back: str, qid: str, **params: ParamValue
) -> Criterion:
    return Criterion(rule_id, text, anchor, evidence, look_back, qid, tuple(params.items()))


def _lifetime(rule_id: str, text: str, anchor: str, qid: str) -> Criterion:
    """A history that excludes whenever in the donor's life it happened."""
    return Criterion(rule_id, text, anchor, HISTORY, "lifetime", qid, ())


def _exam(rule_id: str, text: str, qid: str) -> Criterion:
    """A sign of transmissible disease found when the donor is examined."""
    return Criterion(
        rule_id, text, N_("signs of transmissible disease"), EXAM_FINDING, "at_examination", qid, ()
    )


def _ser(rule_id: str, text: str, anchor: str, *markers: str) -> Criterion:
    return Criterion(rule_id, text, anchor, SEROLOGY, "sample_window", None, (("markers", markers),))


# One entry per line of the DOMAIN.md §2 table; kept unformatted so the set reads as that table.
# The texts are stored (and signed) in English with each version; N_ puts them in the catalogue so a page
# shows them in the reader's language (`|tr`, or `t(text)` inside a message).
# fmt: off
_CRITERIA = (
    Criterion("DON-WEIGHT", N_("Weight below 50 kg at donation"), N_("blood-donor rule, Directive 2004/33/EC"),
              MEASUREMENT, "at_donation", None, (("min_weight_kg", 50),)),
    _ser("DON-SER-HIV", N_("Positive HIV-1/2 test"), _SER, "HIV"),
    _ser("DON-SER-HBSAG", N_("Positive hepatitis B surface antigen (HBsAg)"), _SER, "HBSAG"),
    _ser("DON-SER-ANTI-HBC", N_("Positive anti-HBc (cleared only with HBsAg negative and a documented "
         "risk assessment)"), _SER, "ANTI_HBC"),
    _ser("DON-SER-HCV", N_("Positive hepatitis C test"), _SER, "HCV"),
    _ser("DON-SER-SYPHILIS", N_("Positive syphilis test (a reactive non-treponemal screen with a "
         "non-reactive treponemal confirmation does not exclude)"), _SER, "SYPH_TREP", "SYPH_NONTREP"),
    _ser("DON-SER-HTLV", N_("Positive HTLV-I/II test"), _SER, "HTLV"),
    _ser("DON-SER-HEV", N_("Positive hepatitis E test"), N_("trial-specific (SSc MSC(AT) bank, NCT05947682)"), "HEV"),
    _ser("DON-SER-TOXO", N_("Active toxoplasmosis (IgM positive)"), _IGM, "TOXO_IGM", "TOXO_IGG"),
    _ser("DON-SER-EBV", N_("Active Epstein-Barr virus infection (IgM positive)"), _IGM, "EBV_IGM", "EBV_IGG"),
    _ser("DON-SER-CMV", N_("Active cytomegalovirus infection (IgM positive)"), _IGM, "CMV_IGM", "CMV_IGG"),
    _q("DON-CLIN-INFECTION", N_("Active generalised infection (viral, parasitic, tuberculosis, leprosy)"),
       N_("2006/17/EC Annex I 1.1.5"), CLINICAL_CURRENT, "current", "Q-INFECTION"),
    _q("DON-HX-HYPERTENSION", N_("Uncontrolled hypertension within the past 12 months"), N_("donor safety"),
       HISTORY, "days", "Q-HYPERTENSION", lookback_days=365),
    _lifetime("DON-HX-DURA", N_("Human dura mater transplant"), _TSE, "Q-DURA"),
    _lifetime("DON-HX-CNS-SURGERY", N_("Surgery of the central nervous system"),
              N_("TSE risk, 2006/17/EC Annex I (undocumented neurosurgery)"), "Q-CNS-SURGERY"),
    _lifetime("DON-HX-DEMENTIA", N_("Dementia or neurological disease that may evoke a subacute spongiform "
              "encephalopathy"), _TSE, "Q-DEMENTIA"),
    _lifetime("DON-HX-CJD-FAMILY", N_("Family history of subacute spongiform encephalopathy (CJD)"), _TSE,
              "Q-CJD-FAMILY"),
    _lifetime("DON-HX-HAEM-MALIGNANCY", N_("Haematological malignancy"), _MALIGNANCY, "Q-HAEM-MALIGNANCY"),
    _lifetime("DON-HX-CANCER", N_("Active or past cancer"), _MALIGNANCY, "Q-CANCER"),
    _lifetime("DON-HX-CHEMO-RT", N_("Chemotherapy or irradiation"), N_("follows the malignancy rule, "
              "2006/17/EC Annex I 1.1.3"), "Q-CHEMO-RT"),
    _lifetime("DON-HX-AUTOIMMUNE", N_("Systemic or autoimmune disease"), N_("2006/17/EC Annex I 1.1.7"),
              "Q-AUTOIMMUNE"),
    _exam("DON-EXAM-ADENOPATHY", N_("Multiple adenopathy on examination"), "Q-EXAM-ADENOPATHY"),
    _exam("DON-EXAM-SPLENOMEGALY", N_("Splenomegaly on examination"), "Q-EXAM-SPLENOMEGALY"),
    _exam("DON-EXAM-HEPATOMEGALY", N_("Hepatomegaly on examination"), "Q-EXAM-HEPATOMEGALY"),
    _exam("DON-EXAM-ICTERUS", N_("Icterus on examination"), "Q-EXAM-ICTERUS"),
    _lifetime("DON-HX-HAEMOPHILIA", N_("Haemophilia"), N_("coagulopathy; clotting-factor exposure"), "Q-HAEMOPHILIA"),
    _q("DON-HX-IDDM", N_("Known insulin-dependent diabetes"), N_("blood-donor deferral [check]"),
       HISTORY, "current", "Q-IDDM"),
    _lifetime("DON-HX-PITUITARY", N_("Treatment with extractive pituitary hormones, growth hormone included"),
              _TSE, "Q-PITUITARY"),
    _q("DON-MED-STEROID", N_("Steroid therapy for more than 5 days in the past 3 months"), N_("trial-specific"),
       MEDICATION, "days", "Q-STEROID", medication_kind=N_("corticosteroid"), lookback_days=90, max_days=5),
    _q("DON-MED-LITHIUM", N_("Lithium treatment"), N_("trial-specific"), MEDICATION, "current", "Q-LITHIUM",
       medication_kind=N_("lithium")),
    _q("DON-STATUS-PREGNANCY", N_("Pregnancy"), N_("trial-specific"), STATUS, "at_donation", "Q-PREGNANCY"),
    _q("DON-STATUS-DEPRIVED", N_("Deprived of freedom (under legal protection)"), N_("French research law"),
       STATUS, "at_consent", "Q-DEPRIVED"),
)

_QUESTIONS = (
    Question("Q-INFECTION", N_("Do you currently have an infection such as a viral or parasitic infection, "
             "tuberculosis or leprosy?")),
    Question("Q-HYPERTENSION", N_("Have you had uncontrolled high blood pressure? If yes, date of the most "
             "recent episode."), asks_date=True),
    Question("Q-DURA", N_("Have you ever received a dura mater (brain membrane) graft?")),
    Question("Q-CNS-SURGERY", N_("Have you ever had surgery on the brain or spinal cord?")),
    Question("Q-DEMENTIA", N_("Have you been diagnosed with dementia or a neurological disease that may "
             "suggest a spongiform encephalopathy?")),
    Question("Q-CJD-FAMILY", N_("Has anyone in your family had Creutzfeldt-Jakob disease or another "
             "spongiform encephalopathy?")),
    Question("Q-HAEM-MALIGNANCY", N_("Have you ever had a blood cancer (leukaemia, lymphoma, myeloma)?")),
    Question("Q-CANCER", N_("Do you have, or have you ever had, cancer?")),
    Question("Q-CHEMO-RT", N_("Have you ever received chemotherapy or radiotherapy?")),
    Question("Q-AUTOIMMUNE", N_("Do you have a systemic or autoimmune disease?")),
    Question("Q-HAEMOPHILIA", N_("Do you have haemophilia?")),
    Question("Q-IDDM", N_("Do you have diabetes treated with insulin?")),
    Question("Q-PITUITARY", N_("Have you ever been treated with pituitary-extract hormones, growth hormone "
             "included?")),
    Question("Q-STEROID", N_("In the past 3 months, have you taken corticosteroid (steroid) tablets or "
             "injections? If yes, record each course with its start and stop dates.")),
    Question("Q-LITHIUM", N_("Are you currently treated with lithium?")),
    Question("Q-PREGNANCY", N_("Are you pregnant?")),
    Question("Q-DEPRIVED", N_("Are you deprived of freedom by a judicial or administrative decision, or "
             "under legal protection?")),
    Question("Q-EXAM-ADENOPATHY", N_("Examination: multiple enlarged lymph nodes?")),
    Question("Q-EXAM-SPLENOMEGALY", N_("Examination: enlarged spleen?")),
    Question("Q-EXAM-HEPATOMEGALY", N_("Examination: enlarged liver?")),
    Question("Q-EXAM-ICTERUS", N_("Examination: jaundice (icterus)?")),
)

_MARKERS = (
    SerologyMarker("HIV", N_("HIV-1/2"), "DON-SER-HIV"),
    SerologyMarker("HBSAG", N_("HBsAg"), "DON-SER-HBSAG"),
    SerologyMarker("ANTI_HBC", N_("anti-HBc"), "DON-SER-ANTI-HBC", cleared_if_negative="HBSAG"),
    SerologyMarker("HCV", N_("HCV"), "DON-SER-HCV"),
    SerologyMarker("SYPH_TREP", N_("syphilis treponemal test"), "DON-SER-SYPHILIS"),
    SerologyMarker("SYPH_NONTREP", N_("syphilis non-treponemal screen"), "DON-SER-SYPHILIS",
                   confirmed_by="SYPH_TREP"),
    SerologyMarker("HTLV", N_("HTLV-I/II"), "DON-SER-HTLV"),
    SerologyMarker("HEV", N_("HEV"), "DON-SER-HEV"),
    SerologyMarker("TOXO_IGM", N_("toxoplasmosis IgM"), "DON-SER-TOXO"),
    SerologyMarker("TOXO_IGG", N_("toxoplasmosis IgG"), "DON-SER-TOXO", excludes_if_positive=False),
    SerologyMarker("EBV_IGM", N_("EBV IgM"), "DON-SER-EBV"),
    SerologyMarker("EBV_IGG", N_("EBV IgG"), "DON-SER-EBV", excludes_if_positive=False),
    SerologyMarker("CMV_IGM", N_("CMV IgM"), "DON-SER-CMV"),
    SerologyMarker("CMV_IGG", N_("CMV IgG"), "DON-SER-CMV", excludes_if_positive=False),
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
