"""Use cases of the release domain. Services take the session, flush, and raise ReleaseError (every
problem, keyed by form field), bank.status.TransitionRefused or bank.esign.SignatureError; callers wrap
them in a unit of work.

Public API for the doses module: `lot_is_released`, `lot_endotoxin_eu_per_ml`; a late result is announced
with bank.signals.late_result_found.
"""

from release.services.alerts import (
    acknowledge_alert,
    alerts_of,
    alerts_query,
    raise_late_result_alert,
)
from release.services.decisions import (
    decision_content,
    decision_signature,
    donor_release_facts,
    lot_endotoxin_eu_per_ml,
    lot_is_released,
    reject_lot,
    release_lot,
    release_problems,
)
from release.services.errors import FORM, ReleaseError
from release.services.results import (
    MAX_ATTACHMENT_BYTES,
    Upload,
    current_result,
    enter_result,
    lot_specification,
    open_release_record,
    release_record,
    result_facts,
    results_of,
    verify_result,
)
from release.services.specifications import (
    acceptance_text,
    approval_signature,
    approve_specification,
    draft_new_version,
    editable_fields,
    effective_specification,
    ensure_seed_specifications,
    make_effective,
    product_keys,
    update_draft,
    versions_of,
)

__all__ = [
    "FORM", "MAX_ATTACHMENT_BYTES", "ReleaseError", "Upload", "acceptance_text", "acknowledge_alert",
    "alerts_of", "alerts_query", "approval_signature", "approve_specification", "current_result",
    "decision_content", "decision_signature", "donor_release_facts", "draft_new_version", "editable_fields",
    "effective_specification", "ensure_seed_specifications", "enter_result", "lot_endotoxin_eu_per_ml",
    "lot_is_released", "lot_specification", "make_effective", "open_release_record", "product_keys",
    "raise_late_result_alert", "reject_lot", "release_lot",
    "release_problems", "release_record", "result_facts", "results_of", "update_draft", "verify_result",
    "versions_of",
]
