"""Every donor decision, pure (no Flask, no SQLAlchemy): criteria sets as data (`criteria`), impossible
input (`entries`), the facts a determination is made on (`facts`) and the eligibility rules with the
signed determination's own problems (`eligibility`)."""

from donors.rules.criteria import (
    EDITABLE_PARAMS,
    CriteriaSet,
    Criterion,
    Question,
    SerologyMarker,
    criteria_set_from_dict,
    criteria_set_to_dict,
    editable_thresholds,
    threshold_errors,
    with_thresholds,
)
from donors.rules.eligibility import (
    HARVEST_RULE_ID,
    Determination,
    Finding,
    autologous_serology_summary,
    decision_problems,
    evaluate_donor,
    missing_from_stored,
    missing_item,
    reason,
    reasons_from_stored,
    requires_lookback,
    sample_window,
    stored_missing,
    stored_reasons,
)
from donors.rules.entries import (
    RESULTS,
    SEXES,
    donor_errors,
    facts_errors,
    medication_errors,
    serology_errors,
    text_error,
    validate_serology,
    weight_errors,
)
from donors.rules.facts import Answer, DonorFacts, Medication, SerologyResult
from donors.states import ELIGIBLE, INCOMPLETE, INELIGIBLE

__all__ = [
    "EDITABLE_PARAMS", "ELIGIBLE", "HARVEST_RULE_ID", "INCOMPLETE", "INELIGIBLE", "RESULTS", "SEXES",
    "Answer", "CriteriaSet", "Criterion", "Determination", "DonorFacts", "Finding", "Medication", "Question",
    "SerologyMarker", "SerologyResult", "autologous_serology_summary", "criteria_set_from_dict",
    "criteria_set_to_dict", "decision_problems", "donor_errors", "editable_thresholds", "evaluate_donor",
    "facts_errors", "medication_errors", "missing_from_stored", "missing_item", "reason", "reasons_from_stored",
    "requires_lookback", "sample_window", "serology_errors", "stored_missing", "stored_reasons", "text_error",
    "threshold_errors", "validate_serology", "weight_errors", "with_thresholds",
]
