"""Use cases of the release domain. Services take the session, flush, and raise bank.refusals.Refused (input
errors by form field; rule Problems with their rule ids — bank.status.TransitionRefused and
bank.esign.SignatureError are Refused too); callers wrap them in a unit of work.

Public API for the doses module: `lot_is_released`, `lot_endotoxin_eu_per_ml`; a late result is announced
with bank.signals.late_result_found.
"""

from release.rules import acceptance_text, edit_problems, editable_fields
from release.services.alerts import (
    acknowledge_alert,
    alerts_of,
    alerts_query,
    raise_late_result_alert,
)
from release.services.decisions import (
    alert_text,
    decision_content,
    decision_rereview,
    decision_signature,
    donor_release_facts,
    lot_endotoxin_eu_per_ml,
    lot_is_released,
    reject_lot,
    release_lot,
    release_problems,
)
from release.services.panel import PanelRow, enter_panel, panel_rows
from release.services.results import (
    CONFIRM_OOS,
    MAX_ATTACHMENT_BYTES,
    Upload,
    correct_result,
    current_result,
    enter_result,
    lot_facts,
    lot_specification,
    open_release_record,
    release_record,
    result_facts,
    results_of,
    verdict_of,
    verify_result,
    void_result,
)
from release.services.specifications import (
    approval_signature,
    approve_specification,
    draft_new_version,
    effective_specification,
    ensure_seed_specifications,
    make_effective,
    product_keys,
    update_draft,
    versions_of,
)

__all__ = [
    "MAX_ATTACHMENT_BYTES",
    "Upload",
    "acceptance_text",
    "acknowledge_alert",
    "alert_text",
    "alerts_of",
    "alerts_query",
    "approval_signature",
    "approve_specification",
    "current_result",
    "correct_result",
    "decision_content",
    "decision_rereview",
    "decision_signature",
    "donor_release_facts",
    "draft_new_version",
    "edit_problems",
    "editable_fields",
    "effective_specification",
    "ensure_seed_specifications",
    "enter_result",
    "lot_endotoxin_eu_per_ml",
    "lot_facts",
    "lot_is_released",
    "lot_specification",
    "make_effective",
    "open_release_record",
    "product_keys",
    "raise_late_result_alert",
    "reject_lot",
    "release_lot",
    "release_problems",
    "release_record",
    "result_facts",
    "results_of",
    "update_draft",
    "verdict_of",
    "verify_result",
    "void_result",
    "enter_panel",
    "panel_rows",
    "PanelRow",
    "CONFIRM_OOS",
    "versions_of",
]
