"""Use cases of the lots domain. Services take the session, flush, and raise bank.refusals.Refused (input
errors by form field, rule Problems; TransitionRefused and SignatureError are Refused too); callers wrap
them in a unit of work. `hold_for_lookback` is connected to the donor look-back signal by bank.app.wire_domains.
"""

from bank.refusals import FORM
from lots.services.corrections import (
    close_rereview,
    confirm_correction,
    correct_isolation,
    correct_passage,
    corrections_of,
    pending_correction,
    void_entry,
)
from lots.services.deviations import close_deviation, deviations_of, open_deviations, record_deviation
from lots.services.genealogy import donor_tree, lineage, lot_tree, trace_container
from lots.services.harvest import (
    create_placebo_lot,
    derive_lot,
    harvest_donor_choices,
    harvest_of,
    record_harvest,
    record_harvest_for_code,
)
from lots.services.materials import add_material, add_material_lot, material_uses, set_material_lot_status
from lots.services.processing import (
    cumulative_pd,
    isolation_history,
    isolation_of,
    passage_history,
    passage_lines,
    passages,
    record_isolation,
    record_passage,
    unverified_entries,
    verify_entry,
)
from lots.services.products import active_product_types, add_product_version, seed_product_types
from lots.services.storage import (
    containers_of,
    create_box,
    formulate_containers,
    occupancy,
    remove_container,
    storage_events,
    store_container,
    store_lot_containers,
)
from lots.services.workflow import (
    actions_of,
    hold_for_lookback,
    hold_lot,
    hold_lot_and_containers,
    lift_hold,
    lift_quarantine,
    lots_of_donor,
    qc_problems,
    submit_for_qc,
)

__all__ = [
    "FORM",
    "actions_of",
    "active_product_types",
    "add_material",
    "add_material_lot",
    "add_product_version",
    "close_deviation",
    "close_rereview",
    "confirm_correction",
    "containers_of",
    "correct_isolation",
    "correct_passage",
    "corrections_of",
    "create_box",
    "create_placebo_lot",
    "cumulative_pd",
    "derive_lot",
    "deviations_of",
    "donor_tree",
    "formulate_containers",
    "harvest_donor_choices",
    "harvest_of",
    "hold_for_lookback",
    "hold_lot_and_containers",
    "hold_lot",
    "isolation_history",
    "isolation_of",
    "lift_hold",
    "lift_quarantine",
    "lineage",
    "lot_tree",
    "lots_of_donor",
    "material_uses",
    "occupancy",
    "open_deviations",
    "passage_history",
    "passage_lines",
    "passages",
    "pending_correction",
    "qc_problems",
    "record_deviation",
    "record_harvest",
    "record_harvest_for_code",
    "record_isolation",
    "record_passage",
    "remove_container",
    "seed_product_types",
    "set_material_lot_status",
    "storage_events",
    "store_container",
    "store_lot_containers",
    "submit_for_qc",
    "trace_container",
    "unverified_entries",
    "verify_entry",
    "void_entry",
]
