"""Seed release specifications (DOMAIN.md §4) for a demo facility: the reference data that
release.services.specifications stores and versions.

Sites replace these with their validated specifications; figures marked [check] are common practice
not confirmed from a primary text and must be confirmed before use.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

from bank.i18n import N_
from release.rules import (
    MarkerPanelTest,
    MarkerRule,
    NumericTest,
    QualitativeTest,
    ResultTerm,
    Specification,
    SpecTest,
)

SEED_VERSION = "1-seed"
CELLS_UNIT = "x10^6 viable cells"

# Dominici et al., Cytotherapy 2006;8:315 (ISCT minimal criteria for MSC).
ISCT_2006_BM_PANEL = MarkerPanelTest(
    code="IDENTITY-ISCT2006",
    name=N_("Identity, flow cytometry (ISCT 2006)"),
    rules=(
        MarkerRule(("CD73",), ">=", 95.0),
        MarkerRule(("CD90",), ">=", 95.0),
        MarkerRule(("CD105",), ">=", 95.0),
        MarkerRule(("CD45",), "<=", 2.0),
        MarkerRule(("CD34",), "<=", 2.0),
        MarkerRule(("CD14", "CD11b"), "<=", 2.0),
        MarkerRule(("CD79a", "CD19"), "<=", 2.0),
        MarkerRule(("HLA-DR",), "<=", 2.0),
    ),
    note="Dominici 2006, Cytotherapy 8:315.",
)

# Bourin et al., Cytotherapy 2013;15:641 (IFATS/ISCT): positivity thresholds are [check].
IFATS_2013_AT_PANEL = MarkerPanelTest(
    code="IDENTITY-IFATS2013",
    name=N_("Identity, flow cytometry (IFATS/ISCT 2013)"),  # thresholds [check]: see the note
    rules=(
        MarkerRule(("CD90",), ">=", 80.0),
        MarkerRule(("CD73",), ">=", 80.0),
        MarkerRule(("CD105",), ">=", 80.0),
        MarkerRule(("CD44",), ">=", 80.0),
        MarkerRule(("CD45",), "<=", 2.0),
        MarkerRule(("CD31",), "<=", 2.0),
        MarkerRule(("CD235a",), "<=", 2.0),
    ),
    note="Bourin 2013, Cytotherapy 15:641. [check] >=80 % positive / <=2 % negative not confirmed "
    "from the primary text; CD36+/CD106- distinguishes ASC from BM-MSC.",
)


# Controlled result terms of the qualitative tests (DOMAIN.md §4): what each allowed result means and the
# synonyms this site accepts; anything else typed is refused at entry, never judged a failure. Terms and
# synonyms are marked N_: stored in English, shown (and accepted when typed) in the reader's language.
ADHERENCE_TERMS = (
    ResultTerm(
        N_("adherent"),
        True,
        (N_("plastic adherent"), N_("plastic-adherent")),
        meaning=N_("adheres to plastic"),
    ),
    ResultTerm(
        N_("not adherent"), False, (N_("non-adherent"), N_("non adherent")), meaning=N_("does not adhere")
    ),
)
STERILITY_TERMS = (
    ResultTerm(
        N_("no growth"),
        True,
        (N_("negative"), N_("sterile"), N_("no growth detected")),
        meaning=N_("final: sterile"),
    ),
    ResultTerm(
        N_("no growth to date"),
        True,
        (N_("negative to date"),),
        interim=True,
        meaning=N_("interim reading, incubation continues: conditional release only"),
    ),
    ResultTerm(N_("growth"), False, (N_("positive"), N_("growth detected")), meaning=N_("contaminated")),
)
MYCOPLASMA_TERMS = (
    ResultTerm(N_("not detected"), True, (N_("negative"), N_("absent")), meaning=N_("no mycoplasma")),
    ResultTerm(N_("detected"), False, (N_("positive"),), meaning=N_("mycoplasma present")),
)
KARYOTYPE_TERMS = (
    ResultTerm(
        N_("normal"), True, (N_("normal karyotype"), "46,XX", "46,XY"), meaning=N_("no clonal abnormality")
    ),
    ResultTerm(N_("abnormal"), False, (N_("abnormal karyotype"),), meaning=N_("clonal abnormality found")),
)
TRILINEAGE_TERMS = (
    ResultTerm(
        N_("osteo, adipo, chondro positive"),
        True,
        (N_("trilineage positive"), N_("all three lineages")),
        meaning=N_("differentiates into bone, fat and cartilage"),
    ),
    ResultTerm(N_("not demonstrated"), False, (N_("incomplete"),), meaning=N_("a lineage is missing")),
)


# The seed terms and synonyms, each its own stored word (N_ above): how the audit trail shows a result.
TERM_WORDS = {
    word: word
    for terms in (ADHERENCE_TERMS, STERILITY_TERMS, MYCOPLASMA_TERMS, KARYOTYPE_TERMS, TRILINEAGE_TERMS)
    for term in terms
    for word in (term.term, *term.synonyms)
}


def _common_tests(cells_min: float, cells_max: float, cells_note: str) -> tuple[SpecTest, ...]:
    """Tests shared by both seed products (DOMAIN.md §4 table)."""
    return (
        QualitativeTest(
            "ADHERENCE",
            N_("Plastic adherence"),
            expected=N_("adherent"),
            note="ISCT 2006.",
            terms=ADHERENCE_TERMS,
        ),
        NumericTest(
            "VIABILITY", N_("Viability"), unit="%", min=70.0, note="Floor 70 %; many programmes use >= 80 %."
        ),
        QualitativeTest(
            "STERILITY",
            N_("Sterility (Ph. Eur. 2.6.27, aerobic + anaerobic)"),
            expected=N_("no growth"),
            conditional=(N_("no growth to date"),),
            note="Conditional release on 'no growth to date' only for short-shelf-life products; "
            "a late positive must reach QA and the clinician.",
            terms=STERILITY_TERMS,
        ),
        QualitativeTest(
            "MYCOPLASMA",
            N_("Mycoplasma (Ph. Eur. 2.6.7)"),
            expected=N_("not detected"),
            terms=MYCOPLASMA_TERMS,
        ),
        NumericTest(
            "ENDOTOXIN",
            N_("Endotoxin (Ph. Eur. 2.6.14 / USP <85>)"),
            unit="EU/mL",
            max=0.5,
            note="[check] 0.5 EU/mL is a configurable seed; the per-patient limit "
            "(K x kg: 5 EU/kg IV, 0.2 EU/kg intrathecal) is checked at allocation.",
        ),
        NumericTest(
            "CELLS-PER-CONTAINER",
            N_("Viable cells per container"),
            unit=CELLS_UNIT,
            min=cells_min,
            max=cells_max,
            note=f"[check] {cells_note}",
        ),
        QualitativeTest(
            "KARYOTYPE", N_("Karyotype"), expected=N_("normal"), note="Bank level.", terms=KARYOTYPE_TERMS
        ),
        QualitativeTest(
            "TRILINEAGE",
            N_("Trilineage differentiation"),
            expected=N_("osteo, adipo, chondro positive"),
            terms=TRILINEAGE_TERMS,
        ),
        NumericTest(
            "POTENCY",
            N_("Potency: inhibition of stimulated PBMC proliferation"),
            unit="%",
            min=20.0,
            note="Trial specification; IDO activity after IFN-gamma is an alternative.",
        ),
    )


def seed_specifications() -> dict[str, Specification]:
    """Seed specifications by product key: 'BM-MSC-AUTO' (autologous bone marrow, MESEMS) and
    'AT-MSC-ALLO' (allogeneic adipose bank, MAESTRO-4MS / SSc programme) and 'PLACEBO-MEDIA'."""
    bm = Specification(
        product_key="BM-MSC-AUTO",
        version=SEED_VERSION,
        tests=(
            ISCT_2006_BM_PANEL,
            *_common_tests(70.0, 200.0, "range for 1-2 x10^6/kg IV doses (MESEMS); set per protocol."),
        ),
        note="Seed specification, autologous BM-MSC.",
    )
    at = Specification(
        product_key="AT-MSC-ALLO",
        version=SEED_VERSION,
        tests=(
            IFATS_2013_AT_PANEL,
            *_common_tests(
                10.0, 100.0, "range for intrathecal ~10-100 x10^6 cells per injection; set per protocol."
            ),
        ),
        note="Seed specification, allogeneic adipose MSC bank. Identity thresholds [check].",
    )
    # Placebo (suspension media) for blinded trials: no cells, so no identity, viability or potency;
    # it is released on the safety tests of a parenteral product like any dose [check].
    placebo_tests = {t.code: t for t in _common_tests(70.0, 200.0, "")}
    placebo = Specification(
        product_key="PLACEBO-MEDIA",
        version=SEED_VERSION,
        tests=tuple(placebo_tests[code] for code in ("STERILITY", "MYCOPLASMA", "ENDOTOXIN")),
        note="Seed specification, placebo suspension media (safety tests only) [check].",
    )
    return {spec.product_key: spec for spec in (bm, at, placebo)}


@lru_cache(maxsize=128)  # read on every spec(); specifications are frozen, hence hashable
def with_seed_terms(spec: Specification) -> Specification:
    """A specification stored before controlled result terms existed reads with the terms its seed (same
    product and version) gives each qualitative test of the same code and expected result: the stored text
    stays as it was recorded (no edit outside the audit trail); a non-seed specification without terms
    keeps today's behaviour (judged by its expected text)."""
    seed = seed_specifications().get(spec.product_key)
    if seed is None or seed.version != spec.version:
        return spec
    tests = []
    for test in spec.tests:
        source = seed.get_test(test.code)
        if (
            isinstance(test, QualitativeTest)
            and not test.terms
            and isinstance(source, QualitativeTest)
            and source.expected == test.expected
        ):
            test = replace(test, terms=source.terms)
        tests.append(test)
    return replace(spec, tests=tuple(tests))
