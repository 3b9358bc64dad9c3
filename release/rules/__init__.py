"""Release rules (pure: no Flask, no SQLAlchemy): specifications as data, verdicts of results, and every
release decision with its Problems (bank.refusals.Problem, with rule ids)."""

from bank.refusals import Problem
from release.rules.decisions import (
    DonorReleaseFacts,
    LateResultAlert,
    LotFacts,
    LotVerdict,
    ResultFacts,
    approval_problems,
    current_results,
    draft_problems,
    edit_problems,
    entry_errors,
    entry_problems,
    late_sterility_alert,
    lot_status_problems,
    lot_verdict,
    release_blockers,
    release_problems,
    results_closed,
    verification_problems,
)
from release.rules.specification import (
    PERCENT,
    MarkerPanelTest,
    MarkerRule,
    NumericTest,
    QualitativeTest,
    Specification,
    SpecTest,
    acceptance_text,
    editable_fields,
    edited_specification,
    spec_test_from_dict,
    spec_test_to_dict,
)
from release.rules.verdicts import (
    STORED_VERDICTS,
    Verdict,
    VerdictStatus,
    evaluate,
    judge_entry,
    verdict_numeric,
    verdict_panel,
    verdict_qualitative,
)

__all__ = [
    "PERCENT", "STORED_VERDICTS", "DonorReleaseFacts", "LateResultAlert", "LotFacts", "LotVerdict", "MarkerPanelTest",
    "MarkerRule", "NumericTest", "Problem", "QualitativeTest", "ResultFacts", "SpecTest", "Specification", "Verdict",
    "VerdictStatus", "acceptance_text", "approval_problems", "current_results", "draft_problems", "edit_problems",
    "editable_fields", "edited_specification", "entry_errors", "entry_problems", "evaluate", "judge_entry",
    "late_sterility_alert", "lot_status_problems", "lot_verdict", "release_blockers", "release_problems",
    "results_closed", "spec_test_from_dict", "spec_test_to_dict", "verdict_numeric", "verdict_panel",
    "verdict_qualitative", "verification_problems",
]
