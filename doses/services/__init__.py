"""Use cases of the doses domain. Services take the session, flush, and raise DoseError (input problems
keyed by form field), AllocationRefused (every rule problem), bank.status.TransitionRefused or
bank.esign.SignatureError; callers wrap them in a unit of work.

Importing this package registers the donor look-back and late-result listeners that hold doses.

Public API for labels and chain of custody (issue 7): `doses.models.Allocation` (patient, dose_number,
planned_at, status, containers), `allocations_of`, `record_administration`, `dose_text` (what a user may
read about a dose: identical for active and placebo when masked), `masked`, doses.states.ALLOCATION_WORKFLOW.
"""

from doses.services.allocation import (
    allocate_dose,
    allocations_of,
    build_request,
    container_facts,
    deallocate,
    holder_of,
    propose,
    record_administration,
)
from doses.services.blinding import (
    MASKED,
    DoseText,
    allocation_arm,
    dose_text,
    emergency_unblind,
    log_treatment_view,
    masked,
    planned_treatment,
    sequence_text,
    visible_problems,
)
from doses.services.errors import FORM, AllocationRefused, DoseError
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
    evaluate_checklist,
    field_name,
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

__all__ = [
    "FORM", "MASKED", "AllocationRefused", "DoseError", "DoseText", "active_protocols",
    "add_protocol_version", "allocate_dose", "allocation_arm", "allocations_of", "allocations_of_containers",
    "attest_eligibility", "attestation_content", "attestations_of", "build_request", "container_facts",
    "current_weight", "deallocate", "dose_text", "emergency_unblind", "ensure_seed_protocols",
    "evaluate_checklist", "field_name", "hold_doses", "hold_for_donor_lookback", "hold_for_late_result",
    "holder_of", "import_randomisation", "imports_of", "is_randomised", "lift_dose_hold", "log_treatment_view",
    "masked", "patient_schedule", "planned_treatment", "propose", "protocol_versions", "randomisation_max_bytes", "record_administration",
    "record_weight", "register_patient", "seeds_missing", "sequence_of", "sequence_text", "visible_problems",
    "weights_of",
]
