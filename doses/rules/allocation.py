"""Allocation rules (DOMAIN.md §5): checks of a request and its containers, the dose range and the
endotoxin limit per patient (USP <85>, Ph. Eur. 2.6.14), autologous use only by the donor-patient and
allogeneic use only from an eligible donor (21 CFR 1271.50/.60/.90), first-expiry-first-out choice, and
what a user may read about a blinded treatment.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Literal

from bank.i18n import t
from bank.refusals import Problem
from doses.rules.patients import Number, _dec, schedule, validate_dose_number, validate_weight
from doses.rules.protocol import ACTIVE_TOKEN, PLACEBO_TOKEN, DoseBasis, DoseRule, Origin, Protocol
from doses.rules.words import amount, day_words, millions, utc_words

Arm = Literal["active", "placebo"]


@dataclass(frozen=True)
class DoseTarget:
    """Accepted total viable cells for one administration, bounds inclusive."""

    min_cells: Decimal
    max_cells: Decimal


@dataclass(frozen=True)
class ContainerFacts:
    """What the lot and donor records say about one container. `expires_at` is timezone-aware and is the
    last moment of use (ISBT 128 writes 23:59 when only a date is known)."""

    container_id: str
    product_key: str
    lot_released: bool
    expires_at: datetime
    total_cells: Decimal
    volume_ml: Decimal
    endotoxin_eu_per_ml: Decimal | None  # None: no result on the lot
    donor_id: str | None = None  # None for placebo media
    autologous: bool = False  # ISBT collection type '1'
    donor_eligible: bool = False  # signed eligible determination (1271.50)
    donor_look_back: bool = False  # a later positive result opened a look-back on the donor
    allocated_to: str | None = None  # subject id already holding this container
    on_hold: bool = False


@dataclass(frozen=True)
class AllocationRequest:
    """One dose to allocate. `planned_at` is timezone-aware in the site's zone (its date is the
    administration date for schedule and weight age). `administered` maps dose number → actual date of
    this subject's doses already given. `sequence` is the subject's randomised sequence code; it may be
    None when the protocol has a single sequence."""

    protocol: Protocol
    subject_id: str
    dose_number: int
    planned_at: datetime
    weight_kg: Decimal
    weight_measured_on: date
    sequence: str | None = None
    patient_donor_id: str | None = None  # the subject's own donor record (autologous protocols)
    administered: Mapping[int, date] = field(default_factory=dict)


@dataclass(frozen=True)
class Selection:
    """Proposed containers (FEFO order) and every problem blocking allocation; allocate only when
    `containers` is non-empty and `problems` is empty. `rejected` says why each candidate was left out."""

    containers: tuple[ContainerFacts, ...]
    problems: tuple[Problem, ...]
    rejected: Mapping[str, tuple[Problem, ...]] = field(default_factory=dict)


def endotoxin_limit_eu(k_eu_per_kg_h: Number, weight_kg: Number, infusion_hours: Number) -> Decimal:
    """Per-patient endotoxin limit in EU: K × weight × hours, where an administration shorter than one
    hour (bolus, intrathecal) counts as one hour because K is a dose per hour (USP <85>).
    70 kg, K 0.2 (IT), 1 h → 14 EU; K 5 (IV) → 350 EU. Raises ValueError on K < 0, weight or hours ≤ 0."""
    k, w, h = _dec(k_eu_per_kg_h), _dec(weight_kg), _dec(infusion_hours)
    if k < 0 or w <= 0 or h <= 0:
        raise ValueError("K >= 0, weight > 0 and infusion hours > 0 are required")
    return k * w * max(h, Decimal(1))


def dose_endotoxin_eu(eu_per_ml: Number, volume_ml: Number) -> Decimal:
    """Endotoxin carried by one container: EU/mL × mL. Raises ValueError on negative input."""
    c, v = _dec(eu_per_ml), _dec(volume_ml)
    if c < 0 or v < 0:
        raise ValueError("endotoxin and volume are >= 0")
    return c * v


def target_dose(rule: DoseRule, weight_kg: Number) -> DoseTarget:
    """Dose range in cells for this weight: per-kg bounds × weight, or the fixed bounds."""
    if errors := validate_weight(weight_kg):
        raise ValueError(errors["weight_kg"])
    if rule.basis is DoseBasis.PER_KG:
        w = _dec(weight_kg)
        return DoseTarget(rule.min_cells * w, rule.max_cells * w)
    return DoseTarget(rule.min_cells, rule.max_cells)


def arm_for_dose(sequence: str, dose_number: int) -> Arm:
    """Treatment of one dose in a sequence code ("MSC-PLACEBO", 2 → 'placebo'); ValueError if unknown."""
    tokens = sequence.split("-")
    if not 1 <= dose_number <= len(tokens):
        raise ValueError(f"sequence {sequence!r} has no dose {dose_number}")
    token = tokens[dose_number - 1]
    if token not in (ACTIVE_TOKEN, PLACEBO_TOKEN):
        raise ValueError(f"unknown treatment {token!r} in sequence {sequence!r}")
    return "active" if token == ACTIVE_TOKEN else "placebo"


def blinded_treatment_label(
    protocol: Protocol, arm_or_sequence: str, dose_number: int, unblinded: bool
) -> str:
    """What a user may read about the treatment of a dose: in a blinded protocol a masked user gets the
    same neutral text whatever the arm; unblinded users (and everyone in open trials) get MSC or Placebo.
    `arm_or_sequence` is 'active', 'placebo' or a sequence code. Invalid input raises ValueError
    the same way for every arm, so an error cannot unblind either."""
    arm = arm_or_sequence
    if arm not in ("active", "placebo"):
        arm = arm_for_dose(arm_or_sequence, dose_number)
    if protocol.blinded and not unblinded:
        return protocol.blinded_product.name
    return "MSC" if arm == "active" else "Placebo"


def _subject_arm(request: AllocationRequest) -> tuple[Arm | None, list[Problem]]:
    p = request.protocol
    seq = request.sequence
    if seq is None and len(p.sequences) == 1:
        seq = p.sequences[0]
    if seq not in p.sequences:
        return None, [
            Problem(
                "subject.sequence",
                t("The subject has no valid treatment sequence."),
                t(
                    "subject %(subject)s; sequence: %(sequence)s",
                    subject=request.subject_id,
                    sequence=seq or t("none"),
                ),
                reveals_treatment=p.blinded,
            )
        ]
    if not 1 <= request.dose_number <= p.number_of_doses:
        return None, []  # reported as dose.beyond_protocol
    return arm_for_dose(seq, request.dose_number), []


def check_request(request: AllocationRequest) -> list[Problem]:
    """Problems of the request itself (not of any container): weight invalid or too old, dose number
    beyond the protocol or already given, an earlier dose not given, planned date outside its window."""
    p, n = request.protocol, request.dose_number
    planned = request.planned_at.date()
    out: list[Problem] = []
    if errors := validate_weight(request.weight_kg):
        out.append(
            Problem(
                "weight.invalid", errors["weight_kg"], t("weight typed: %(weight)s", weight=request.weight_kg)
            )
        )
    age = (planned - request.weight_measured_on).days
    if age > p.weight_max_age_days:
        out.append(
            Problem(
                "weight.stale",
                t("Weight is %(age)s days old (limit %(limit)s).", age=age, limit=p.weight_max_age_days),
                t(
                    "weighed on %(measured)s; dose planned on %(planned)s",
                    measured=day_words(request.weight_measured_on),
                    planned=day_words(planned),
                ),
            )
        )
    if errors := validate_dose_number(p, n):
        out.append(
            Problem(
                "dose.beyond_protocol",
                errors["dose_number"],
                t(
                    "dose %(number)s; %(protocol)s has %(count)s doses",
                    number=n,
                    protocol=p.code,
                    count=p.number_of_doses,
                ),
                "dose_number",
            )
        )
        return out
    given = request.administered
    if n in given:
        out.append(
            Problem(
                "dose.already_administered",
                t("Dose %(number)s was already administered.", number=n),
                t("administered on %(day)s", day=day_words(given[n])),
                "dose_number",
            )
        )
    missing = [s.number for s in p.schedule[: n - 1] if not s.optional and s.number not in given]
    if missing:
        out.append(
            Problem(
                "schedule.previous_missing",
                t(
                    "Earlier doses not administered: %(doses)s.",
                    doses=[t("dose %(number)s", number=m) for m in missing],
                ),
                t(
                    "dose %(number)s asked; administered so far: %(given)s",
                    number=n,
                    given=[t("dose %(number)s", number=g) for g in sorted(given)] or t("none"),
                ),
                "dose_number",
            )
        )
    elif n > 1 and 1 in given:
        s = schedule(p, given[1], given)[n - 1]
        if not s.window_start <= planned <= s.window_end:
            out.append(
                Problem(
                    "schedule.outside_window",
                    t(
                        "Dose %(number)s planned on %(planned)s, outside its window %(start)s to %(end)s.",
                        number=n,
                        planned=day_words(planned),
                        start=day_words(s.window_start),
                        end=day_words(s.window_end),
                    ),
                    t("due on %(due)s", due=day_words(s.due)),
                    "planned_date",
                )
            )
    return out


def _container_problems(request: AllocationRequest, c: ContainerFacts, arm: Arm | None) -> list[Problem]:
    p = request.protocol
    cid = t("container %(container)s", container=c.container_id)
    out: list[Problem] = []
    if not c.lot_released:
        out.append(Problem("lot.not_released", t("The container's lot is not released."), cid))
    if request.planned_at > c.expires_at:
        out.append(
            Problem(
                "container.expired",
                t("The container expires before the planned administration."),
                t(
                    "container %(container)s; expires %(expires)s; planned %(planned)s",
                    container=c.container_id,
                    expires=utc_words(c.expires_at.astimezone(UTC)),
                    planned=utc_words(request.planned_at.astimezone(UTC)),
                ),
            )
        )
    if c.allocated_to is not None:
        out.append(
            Problem(
                "container.allocated",
                t("The container is already allocated."),
                t(
                    "container %(container)s; allocated to %(subject)s",
                    container=c.container_id,
                    subject=c.allocated_to,
                ),
            )
        )
    if c.on_hold:
        out.append(Problem("container.on_hold", t("The container is on hold."), cid))
    if arm is not None:
        expected = p.product_key if arm == "active" else p.placebo_product_key
        if c.product_key != expected:
            out.append(
                Problem(
                    "product.mismatch",
                    t("The container's product is not the one this dose needs."),
                    t(
                        "container %(container)s; product %(product)s; this dose needs %(expected)s",
                        container=c.container_id,
                        product=c.product_key,
                        expected=expected,
                    ),
                    reveals_treatment=p.blinded,
                )
            )
    if c.product_key != p.placebo_product_key:  # a cell product: its donor matters
        out += _donor_problems(request, c, cid)
    if c.endotoxin_eu_per_ml is None:
        out.append(Problem("endotoxin.no_result", t("No endotoxin result for the container's lot."), cid))
    return out


def _donor_problems(request: AllocationRequest, c: ContainerFacts, cid: str) -> list[Problem]:
    """A cell product's donor: autologous cells go to their donor-patient, allogeneic ones come from an
    eligible donor not under look-back."""
    p = request.protocol
    out: list[Problem] = []
    if c.autologous or p.origin is Origin.AUTOLOGOUS:
        if request.patient_donor_id is None or c.donor_id != request.patient_donor_id:
            out.append(
                Problem(
                    "donor.not_patient",
                    t("Autologous cells go only to their donor-patient."),
                    t(
                        "container %(container)s comes from another donor than %(subject)s's own donor record",
                        container=c.container_id,
                        subject=request.subject_id,
                    ),
                    reveals_treatment=p.blinded,
                )
            )
    else:
        if not c.donor_eligible:
            out.append(
                Problem(
                    "donor.not_eligible",
                    t("The donor has no signed eligible determination."),
                    cid,
                    reveals_treatment=p.blinded,
                )
            )
        if c.donor_look_back:
            out.append(
                Problem(
                    "donor.look_back",
                    t("The donor is under look-back."),
                    cid,
                    reveals_treatment=p.blinded,
                )
            )
    return out


def check_container(request: AllocationRequest, container: ContainerFacts) -> list[Problem]:
    """Problems of one container for this request, regardless of the other containers of the dose."""
    return _container_problems(request, container, _subject_arm(request)[0])


def _set_problems(
    request: AllocationRequest, containers: Sequence[ContainerFacts], arm: Arm | None
) -> list[Problem]:
    p = request.protocol
    if validate_weight(request.weight_kg):
        return []  # already reported as weight.invalid; no limit can be computed
    out: list[Problem] = []
    if arm == "active":
        target = target_dose(p.dose_rule, request.weight_kg)
        total = sum((_dec(c.total_cells) for c in containers), Decimal(0))
        ev = t(
            "%(cells)s × 10⁶ cells; protocol dose %(low)s–%(high)s × 10⁶ for %(weight)s kg",
            cells=millions(total),
            low=millions(target.min_cells),
            high=millions(target.max_cells),
            weight=amount(request.weight_kg),
        )
        if total < target.min_cells:
            out.append(
                Problem(
                    "dose.below_min",
                    t("Total cells are below the protocol dose."),
                    ev,
                    reveals_treatment=p.blinded,
                )
            )
        elif total > target.max_cells:
            out.append(
                Problem(
                    "dose.above_max",
                    t("Total cells are above the protocol dose."),
                    ev,
                    reveals_treatment=p.blinded,
                )
            )
    limit = endotoxin_limit_eu(p.endotoxin_k_eu_per_kg_h, request.weight_kg, p.infusion_hours)
    eu = sum(
        (
            dose_endotoxin_eu(c.endotoxin_eu_per_ml, c.volume_ml)
            for c in containers
            if c.endotoxin_eu_per_ml is not None
        ),
        Decimal(0),
    )
    if eu > limit:
        out.append(
            Problem(
                "endotoxin.over_limit",
                t("Endotoxin %(eu)s EU exceeds the limit %(limit)s EU.", eu=amount(eu), limit=amount(limit)),
                t(
                    "%(eu)s EU in the dose; limit %(limit)s EU (%(route)s, %(weight)s kg)",
                    eu=amount(eu),
                    limit=amount(limit),
                    route=p.route.value,
                    weight=amount(request.weight_kg),
                ),
            )
        )
    return out


def check_dose_set(request: AllocationRequest, containers: Sequence[ContainerFacts]) -> list[Problem]:
    """Every reason the containers may not be allocated together to this dose: request problems, each
    container's problems, and the dose as a whole (cells summed against the range, endotoxin summed
    against the patient limit). An empty list means allocation is allowed."""
    out = check_request(request)
    arm, seq_problems = _subject_arm(request)
    out += seq_problems
    if not containers:
        return [
            *out,
            Problem(
                "selection.empty",
                t("No container chosen."),
                t("subject %(subject)s", subject=request.subject_id),
            ),
        ]
    ids = [c.container_id for c in containers]
    if dupes := sorted({i for i in ids if ids.count(i) > 1}):
        out.append(
            Problem(
                "selection.duplicate",
                t("A container is chosen twice."),
                t("chosen twice: %(containers)s", containers=dupes),
            )
        )
    for c in containers:
        out += _container_problems(request, c, arm)
    return out + _set_problems(request, containers, arm)


def check_allocation(request: AllocationRequest, container: ContainerFacts) -> list[Problem]:
    """check_dose_set for a dose made of one container."""
    return check_dose_set(request, [container])


def _fewest_fefo(
    items: Sequence[ContainerFacts], lo: Decimal, hi: Decimal, eu_limit: Decimal, max_k: int, budget: int
) -> list[ContainerFacts] | None | Literal["budget"]:
    """First k-subset (k ascending, lexicographic in FEFO order) within [lo, hi] cells and eu_limit."""
    cells = [_dec(c.total_cells) for c in items]
    eus = [dose_endotoxin_eu(c.endotoxin_eu_per_ml or 0, c.volume_ml) for c in items]
    # best[i] = largest single container from i on: bounds what the remaining picks can still add.
    best = [Decimal(0)] * (len(items) + 1)
    for i in range(len(items) - 1, -1, -1):
        best[i] = max(cells[i], best[i + 1])
    steps = [budget]

    def dfs(start: int, k: int, chosen: list[int], total: Decimal, eu: Decimal) -> list[int] | None:
        if len(chosen) == k:
            return chosen if lo <= total <= hi else None
        left = k - len(chosen)
        for i in range(start, len(items) - left + 1):
            steps[0] -= 1
            if steps[0] < 0:
                return None
            t, e = total + cells[i], eu + eus[i]
            # Skip, not stop: later containers may be smaller. Prune when the max is passed or the min
            # is out of reach even with the largest remaining containers.
            if t > hi or e > eu_limit or t + (left - 1) * best[i + 1] < lo:
                continue
            if found := dfs(i + 1, k, [*chosen, i], t, e):
                return found
        return None

    for k in range(1, min(max_k, len(items)) + 1):
        if found := dfs(0, k, [], Decimal(0), Decimal(0)):
            return [items[i] for i in found]
        if steps[0] < 0:
            return "budget"
    return None


def choose_containers(
    request: AllocationRequest,
    candidates: Iterable[ContainerFacts],
    *,
    max_containers: int = 6,
    search_budget: int = 200_000,
) -> Selection:
    """Propose containers for a dose, first-expiry-first-out among eligible candidates.

    Algorithm: drop candidates with any container problem (kept in `rejected`); sort the rest by
    (expires_at, container_id); for k = 1, 2, … up to `max_containers`, search k-subsets in
    lexicographic order of that FEFO list and return the first whose total cells lie within the dose
    range and whose summed endotoxin is within the patient limit. So the fewest containers win, and
    among equally few the one using the earliest-expiring container first (then the next…). A placebo
    dose takes the single earliest-expiring eligible placebo container. A search that exceeds
    `search_budget` steps stops with 'selection.search_limit' rather than hang a request."""
    p = request.protocol
    problems = check_request(request)
    arm, seq_problems = _subject_arm(request)
    problems += seq_problems
    if arm is None or validate_weight(request.weight_kg):
        return Selection((), tuple(problems))
    rejected: dict[str, tuple[Problem, ...]] = {}
    eligible: list[ContainerFacts] = []
    for c in candidates:
        if own := _container_problems(request, c, arm):
            rejected[c.container_id] = tuple(own)
        else:
            eligible.append(c)
    eligible.sort(key=lambda c: (c.expires_at, c.container_id))
    eu_limit = endotoxin_limit_eu(p.endotoxin_k_eu_per_kg_h, request.weight_kg, p.infusion_hours)
    if arm == "active":
        target = target_dose(p.dose_rule, request.weight_kg)
        lo, hi, max_k = target.min_cells, target.max_cells, max_containers
    else:
        lo, hi, max_k = Decimal(0), Decimal("Infinity"), 1
    chosen = _fewest_fefo(eligible, lo, hi, eu_limit, max_k, search_budget)
    if chosen == "budget":
        problems.append(
            Problem(
                "selection.search_limit",
                t("Too many combinations to search; choose by hand."),
                t("%(count)s eligible containers", count=len(eligible)),
            )
        )
        return Selection((), tuple(problems), rejected)
    if chosen is None:
        problems.append(
            Problem(
                "selection.none_fit",
                t("No eligible containers meet the dose and limits."),
                t(
                    "%(count)s eligible containers; at most %(most)s per dose; endotoxin limit %(limit)s EU",
                    count=len(eligible),
                    most=max_k,
                    limit=amount(eu_limit),
                ),
                reveals_treatment=p.blinded,
            )
        )
        return Selection((), tuple(problems), rejected)
    return Selection(tuple(chosen), tuple(problems + _set_problems(request, chosen, arm)), rejected)


# --- facts of the stored records: the patient, earlier doses, the shelf ---------------------------


def patient_problems(
    subject_id: str, patient_status: str, dose_number: int, held: tuple[int, str] | None
) -> list[Problem]:
    """A dose is allocated to an enrolled patient only, and once: `held` is (allocation id, status) of
    an allocation of this dose number that is not deallocated, if any."""
    out = []
    if patient_status != "enrolled":
        out.append(
            Problem(
                "patient.not_enrolled",
                t("%(subject)s is not enrolled (signed eligibility checklist needed).", subject=subject_id),
                t("status: %(status)s", status=t(patient_status.replace("_", " "))),
            )
        )
    if held is not None:
        out.append(
            Problem(
                "dose.already_allocated",
                t("Dose %(number)s is already allocated.", number=dose_number),
                t(
                    "dose #%(allocation)s, %(status)s",
                    allocation=held[0],
                    status=t(held[1].replace("_", " ")),
                ),
            )
        )
    return out


def weight_missing(subject_id: str, planned: date) -> Problem:
    return Problem(
        "weight.missing",
        t("No weight recorded on or before the planned date."),
        t("subject %(subject)s; dose planned on %(planned)s", subject=subject_id, planned=day_words(planned)),
    )


def storage_problems(identifier: str, status: str, holder: str | None) -> list[Problem]:
    """A container chosen by hand must be on the shelf. 'allocated' is reported as container.allocated;
    any other state than stored (formulated, removed, shipped, given, destroyed) is off the shelf."""
    if status == "stored" or (status == "allocated" and holder is not None):
        return []
    return [
        Problem(
            "container.not_in_storage",
            t("The container is %(status)s, not in storage.", status=t(status.replace("_", " "))),
            t("container %(container)s", container=identifier),
        )
    ]


def nothing_free(skipped: int) -> Problem:
    return Problem(
        "container.allocated",
        t("Every suitable container is being allocated by other requests right now; try again."),
        t("%(count)s containers busy", count=skipped),
    )


def taken_meanwhile(names: str) -> Problem:
    return Problem(
        "container.allocated",
        t("A container or this dose was allocated by another request a moment ago."),
        t("containers %(containers)s", containers=names),
    )


def administration_errors(
    administered_at: datetime | None, now: datetime, skew: timedelta, released_at: datetime | None = None
) -> dict[str, str]:
    """The time of an administration is given, not in the future (beyond the clocks' skew), and not
    before the release of the lot the dose comes from."""
    if administered_at is None:
        return {"administered_at": t("Required.")}
    if administered_at > now + skew:
        return {"administered_at": t("Cannot be in the future.")}
    if released_at is not None and administered_at < released_at:
        return {
            "administered_at": t(
                "Cannot be before the release of the dose's lot (%(when)s).",
                when=utc_words(released_at.astimezone(UTC)),
            )
        }
    return {}


def lift_hold_problems(status: str, containers: Sequence[tuple[str, bool]]) -> list[Problem]:
    """A held dose returns to where it was only when nothing holds it any more: `containers` are
    (identifier, usable) where usable means not held and its lot released."""
    if status != "on_hold":
        return [
            Problem(
                "hold.not_held",
                t("This dose is not on hold."),
                t("status: %(status)s", status=t(status.replace("_", " "))),
            )
        ]
    return [
        Problem(
            "hold.container_held",
            t("Container %(container)s is still held or its lot is not released.", container=name),
            t("container %(container)s", container=name),
        )
        for name, usable in containers
        if not usable
    ]


def reasons_none_fit(request: AllocationRequest, candidates: Sequence[ContainerFacts]) -> list[Problem]:
    """Why no choice of containers fits ('selection.none_fit'): each candidate judged as the dose on its
    own — its own problems (expired, held, no endotoxin result…) and the dose's (cells below or above
    the protocol dose, endotoxin over the patient's limit) — with evidence naming the container, so a
    refusal names every reason the screen and the API know, not only that nothing fits."""
    arm = _subject_arm(request)[0]
    out: list[Problem] = []
    for c in candidates:
        # A container's own problems name it already; the dose's (cells, endotoxin) are about this
        # container alone, so they are named with it.
        named = _container_problems(request, c, arm) + [
            Problem(
                p.rule_id,
                p.message,
                t("container %(container)s: %(facts)s", container=c.container_id, facts=p.evidence),
                p.field,
                p.reveals_treatment,
            )
            for p in _set_problems(request, [c], arm)
        ]
        out += [p for p in named if p not in out]
    return out
