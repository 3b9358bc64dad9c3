"""Use cases of the doses domain. Services take the session, flush, and raise bank.refusals.Refused
(input errors by form field, or every rule Problem), bank.status.TransitionRefused or
bank.esign.SignatureError (both Refused); callers wrap them in a unit of work. The look-back and
late-result receivers (hold_for_donor_lookback, hold_for_late_result) are connected by
bank.app.wire_domains.

Public API for labels and chain of custody (issue 7): `doses.models.Allocation` (patient, dose_number,
planned_at, status, containers), `allocations_of`, `record_administration`, `dose_text` (what a user may
read about a dose: identical for active and placebo when masked), `masked`, doses.states.ALLOCATION_WORKFLOW.
"""

from bank.refusals import FORM, Refused
from doses.rules import evaluate_checklist, field_name
from doses.services.allocation import (
    allocate_dose,
    allocations_of,
    build_request,
    container_facts,
    deallocate,
    holder_of,
    lots_released_at,
    propose,
    record_administration,
)
from doses.services.blinding import (
    MASKED,
    DoseText,
    allocation_arm,
    blinded_protocols_using,
    container_text,
    dose_text,
    emergency_unblind,
    latest_product,
    log_treatment_view,
    masked,
    placebo_formulation_problems,
    planned_treatment,
    presentation_check,
    sequence_text,
    visible_code,
    visible_problems,
)
from doses.services.holds import (
    allocations_of_containers,
    hold_doses,
    hold_for_donor_lookback,
    hold_for_late_result,
    lift_dose_hold,
)
from doses.services.patients import (
    attest_eligibility,
    attestation_content,
    attestations_of,
    current_weight,
    patient_schedule,
    record_weight,
    register_patient,
    weights_of,
)
from doses.services.protocols import (
    active_protocols,
    add_protocol_version,
    ensure_seed_protocols,
    protocol_versions,
    seeds_missing,
)
from doses.services.randomisation import (
    import_randomisation,
    imports_of,
    is_randomised,
    randomisation_max_bytes,
    sequence_of,
)

# The refusal of an allocation is bank.refusals.Refused; this name stays for callers that catch it by it
# (the allocation benchmark, bench/allocation.py).
AllocationRefused = Refused

__all__ = [
    "lots_released_at",
    "FORM",
    "MASKED",
    "AllocationRefused",
    "DoseText",
    "active_protocols",
    "add_protocol_version",
    "allocate_dose",
    "blinded_protocols_using",
    "container_text",
    "latest_product",
    "placebo_formulation_problems",
    "presentation_check",
    "visible_code",
    "allocation_arm",
    "allocations_of",
    "allocations_of_containers",
    "attest_eligibility",
    "attestation_content",
    "attestations_of",
    "build_request",
    "container_facts",
    "current_weight",
    "deallocate",
    "dose_text",
    "emergency_unblind",
    "ensure_seed_protocols",
    "evaluate_checklist",
    "field_name",
    "hold_doses",
    "hold_for_donor_lookback",
    "hold_for_late_result",
    "holder_of",
    "import_randomisation",
    "imports_of",
    "is_randomised",
    "lift_dose_hold",
    "log_treatment_view",
    "masked",
    "patient_schedule",
    "planned_treatment",
    "propose",
    "protocol_versions",
    "randomisation_max_bytes",
    "record_administration",
    "record_weight",
    "register_patient",
    "seeds_missing",
    "sequence_of",
    "sequence_text",
    "visible_problems",
    "weights_of",
]
