"""Donor use cases: registry, screening entries, evaluation, signed determination, look-back, criteria
set versions. Services take the session and flush; the caller's unit of work commits. Other domains
(lots, release, doses) read donors only through `donor_use_facts` and the look-back signal; donors never
imports them."""

from bank.clock import today
from donors.services.criteria import (
    activate_version,
    active_criteria,
    active_version,
    content_for_signature,
    draft_new_version,
    ensure_seed_criteria,
    parse,
    retire_draft,
    review_version,
)
from donors.services.determination import (
    determination_content,
    donor_facts,
    evaluate,
    reevaluate_after_new_evidence,
    reevaluate_all,
    sign_determination,
    signatures_with_validity,
    start_lookback,
    write_determination,
)
from donors.services.queries import (
    active_answers,
    active_medications,
    active_serology,
    determinations,
    medications,
    serology,
)
from donors.services.registry import (
    DonorUse,
    donor_use_facts,
    identity_of,
    latest_signed,
    register_donor,
    set_harvest_date,
    set_identity,
    update_donor,
)
from donors.services.screening import (
    record_answer,
    record_answers,
    record_medication,
    record_serology,
    void_entry,
)

__all__ = [
    "DonorUse",
    "activate_version",
    "active_answers",
    "active_criteria",
    "active_medications",
    "active_serology",
    "active_version",
    "content_for_signature",
    "determination_content",
    "determinations",
    "donor_facts",
    "donor_use_facts",
    "draft_new_version",
    "ensure_seed_criteria",
    "evaluate",
    "identity_of",
    "latest_signed",
    "medications",
    "parse",
    "record_answer",
    "record_answers",
    "record_medication",
    "record_serology",
    "reevaluate_after_new_evidence",
    "reevaluate_all",
    "register_donor",
    "retire_draft",
    "review_version",
    "serology",
    "set_harvest_date",
    "set_identity",
    "sign_determination",
    "signatures_with_validity",
    "start_lookback",
    "today",
    "update_donor",
    "void_entry",
    "write_determination",
]
