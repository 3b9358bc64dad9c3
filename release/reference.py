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


def _expressed(op: str, threshold_pct: float, *markers: str | tuple[str, ...]) -> tuple[MarkerRule, ...]:
    """Markers each expressed by at least (>=) or at most (<=) a share of the cells, as the criteria state
    them; a tuple of markers is either/or (CD14 or CD11b)."""
    return tuple(
        MarkerRule(marker if isinstance(marker, tuple) else (marker,), op, threshold_pct)
        for marker in markers
    )


# Dominici et al., Cytotherapy 2006;8:315 (ISCT minimal criteria for MSC).
ISCT_2006_BM_PANEL = MarkerPanelTest(
    code="IDENTITY-ISCT2006",
    name=N_("Identity, flow cytometry (ISCT 2006)"),
    rules=(
        *_expressed(">=", 95.0, "CD73", "CD90", "CD105"),
        *_expressed("<=", 2.0, "CD45", "CD34", ("CD14", "CD11b"), ("CD79a", "CD19"), "HLA-DR"),
    ),
    note="Dominici 2006, Cytotherapy 8:315.",
)

# Bourin et al., Cytotherapy 2013;15:641 (IFATS/ISCT): positivity thresholds are [check].
IFATS_2013_AT_PANEL = MarkerPanelTest(
    code="IDENTITY-IFATS2013",
    name=N_("Identity, flow cytometry (IFATS/ISCT 2013)"),  # thresholds [check]: see the note
    rules=(
        *_expressed(">=", 80.0, "CD90", "CD73", "CD105", "CD44"),
        *_expressed("<=", 2.0, "CD45", "CD31", "CD235a"),
    ),
    note="Bourin 2013, Cytotherapy 15:641. [check] >=80 % positive / <=2 % negative not confirmed "
    "from the primary text; CD36+/CD106- distinguishes ASC from BM-MSC.",
)


# Controlled result terms of the qualitative tests (DOMAIN.md §4): what each allowed result means and the
# synonyms this site accepts; anything else typed is refused at entry, never judged a failure. Terms and
# synonyms are marked N_: stored in English, shown (and accepted when typed) in the reader's language.
def _passes(term: str, *synonyms: str, meaning: str, interim: bool = False) -> ResultTerm:
    return ResultTerm(term, True, synonyms, interim=interim, meaning=meaning)


def _fails(term: str, *synonyms: str, meaning: str) -> ResultTerm:
    return ResultTerm(term, False, synonyms, meaning=meaning)


# One row a term: the term, its synonyms, what it means. The first term of a test is its expected result.
ADHERENCE_TERMS = (
    _passes(N_("adherent"), N_("plastic adherent"), N_("plastic-adherent"), meaning=N_("adheres to plastic")),
    _fails(N_("not adherent"), N_("non-adherent"), N_("non adherent"), meaning=N_("does not adhere")),
)
STERILITY_TERMS = (
    _passes(
        N_("no growth"), N_("negative"), N_("sterile"), N_("no growth detected"), meaning=N_("final: sterile")
    ),
    _passes(
        N_("no growth to date"),
        N_("negative to date"),
        interim=True,
        meaning=N_("interim reading, incubation continues: conditional release only"),
    ),
    _fails(N_("growth"), N_("positive"), N_("growth detected"), meaning=N_("contaminated")),
)
MYCOPLASMA_TERMS = (
    _passes(N_("not detected"), N_("negative"), N_("absent"), meaning=N_("no mycoplasma")),
    _fails(N_("detected"), N_("positive"), meaning=N_("mycoplasma present")),
)
KARYOTYPE_TERMS = (
    _passes(N_("normal"), N_("normal karyotype"), "46,XX", "46,XY", meaning=N_("no clonal abnormality")),
    _fails(N_("abnormal"), N_("abnormal karyotype"), meaning=N_("clonal abnormality found")),
)
TRILINEAGE_TERMS = (
    _passes(
        N_("osteo, adipo, chondro positive"),
        N_("trilineage positive"),
        N_("all three lineages"),
        meaning=N_("differentiates into bone, fat and cartilage"),
    ),
    _fails(N_("not demonstrated"), N_("incomplete"), meaning=N_("a lineage is missing")),
)


# The seed terms and synonyms, each its own stored word (N_ above): how the audit trail shows a result.
TERM_WORDS = {
    word: word
    for terms in (ADHERENCE_TERMS, STERILITY_TERMS, MYCOPLASMA_TERMS, KARYOTYPE_TERMS, TRILINEAGE_TERMS)
    for term in terms
    for word in (term.term, *term.synonyms)
}


def _judged_by_terms(code: str, name: str, terms: tuple[ResultTerm, ...], note: str = "") -> QualitativeTest:
    """A qualitative test judged by its controlled terms: the first term is the expected result, and an
    interim passing term (sterility's "no growth to date") allows only a conditional release."""
    return QualitativeTest(
        code,
        name,
        expected=terms[0].term,
        conditional=tuple(term.term for term in terms if term.interim),
        note=note,
        terms=terms,
    )


def _common_tests(cells_min: float, cells_max: float, cells_note: str) -> tuple[SpecTest, ...]:
    """Tests shared by both seed products (DOMAIN.md §4 table)."""
    return (
        _judged_by_terms("ADHERENCE", N_("Plastic adherence"), ADHERENCE_TERMS, note="ISCT 2006."),
        NumericTest(
            "VIABILITY", N_("Viability"), unit="%", min=70.0, note="Floor 70 %; many programmes use >= 80 %."
        ),
        _judged_by_terms(
            "STERILITY",
            N_("Sterility (Ph. Eur. 2.6.27, aerobic + anaerobic)"),
            STERILITY_TERMS,
            note="Conditional release on 'no growth to date' only for short-shelf-life products; "
            "a late positive must reach QA and the clinician.",
        ),
        _judged_by_terms("MYCOPLASMA", N_("Mycoplasma (Ph. Eur. 2.6.7)"), MYCOPLASMA_TERMS),
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
        _judged_by_terms("KARYOTYPE", N_("Karyotype"), KARYOTYPE_TERMS, note="Bank level."),
        _judged_by_terms("TRILINEAGE", N_("Trilineage differentiation"), TRILINEAGE_TERMS),
        NumericTest(
            "POTENCY",
            N_("Potency: inhibition of stimulated PBMC proliferation"),
            unit="%",
            min=20.0,
            note="Trial specification; IDO activity after IFN-gamma is an alternative.",
        ),
    )


def _cell_specification(
    product_key: str, identity: MarkerPanelTest, cells: tuple[float, float, str], note: str
) -> Specification:
    """The seed specification of a cell product: its identity panel, then the tests every product shares
    with its range of viable cells per container (minimum, maximum, why)."""
    return Specification(
        product_key=product_key, version=SEED_VERSION, tests=(identity, *_common_tests(*cells)), note=note
    )


def seed_specifications() -> dict[str, Specification]:
    """Seed specifications by product key: 'BM-MSC-AUTO' (autologous bone marrow, MESEMS) and
    'AT-MSC-ALLO' (allogeneic adipose bank, MAESTRO-4MS / SSc programme) and 'PLACEBO-MEDIA'."""
    bm = _cell_specification(
        "BM-MSC-AUTO",
        ISCT_2006_BM_PANEL,
        (70.0, 200.0, "range for 1-2 x10^6/kg IV doses (MESEMS); set per protocol."),
        note="Seed specification, autologous BM-MSC.",
    )
    at = _cell_specification(
        "AT-MSC-ALLO",
        IFATS_2013_AT_PANEL,
        (10.0, 100.0, "range for intrathecal ~10-100 x10^6 cells per injection; set per protocol."),
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
