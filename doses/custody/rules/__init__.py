"""Custody rules (DOMAIN.md §5), pure: which event may be recorded now, what a hand-off must state
(place, shipper, logger, condition, wristband, logger readings), whether a scanned label is this dose's,
whether the time is plausible, and when a logger reading is a temperature excursion."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bank.i18n import t
from bank.refusals import FORM, Problem
from doses.custody.states import EVENTS, FINAL, IN_STORAGE, KINDS, next_events
from doses.rules.words import utc_words

RECORD_PERMISSION = "custody.record"
CLOCK_SKEW = timedelta(minutes=5)


def event_problems(last_event: str | None, event: str, allocation_status: str) -> list[Problem]:
    """Every reason `event` cannot be recorded now for a dose whose last custody event is `last_event`
    and whose allocation is in `allocation_status` (empty list: it can). All concern the 'event' field."""
    if event not in KINDS:
        return [
            Problem(
                "custody.unknown_event",
                t(
                    "Unknown custody event “%(event)s”: choose one of %(events)s.",
                    event=event,
                    events=[t(KINDS[e].label) for e in EVENTS],
                ),
                t("event asked: %(event)s", event=event),
                "event",
            )
        ]
    problems = []
    state = last_event or IN_STORAGE
    allowed = next_events(last_event)
    if event not in allowed:
        # Events and states named as the Event list and the custody page name them.
        names = [t(KINDS[e].label) for e in allowed] or t("nothing: the chain is closed")
        state_name = t(KINDS[state].label) if state in KINDS else t("in storage (no event yet)")
        problems.append(
            Problem(
                "custody.order",
                t(
                    "'%(event)s' cannot follow '%(state)s'; next permitted: %(names)s",
                    event=t(KINDS[event].label),
                    state=state_name,
                    names=names,
                ),
                t(
                    "%(state)s, then %(event)s",
                    state=state_name,
                    event=t(KINDS[event].label),
                ),
                "event",
            )
        )
    if allocation_status in ("deallocated", "administered") and state not in FINAL:
        problems.append(
            Problem(
                "custody.dose_closed",
                t(
                    "the dose is %(status)s: no custody event can be recorded",
                    status=t(allocation_status.replace("_", " ")),
                ),
                t("status: %(status)s", status=t(allocation_status.replace("_", " "))),
                "event",
            )
        )
    elif allocation_status == "on_hold" and KINDS[event].forward:
        problems.append(
            Problem(
                "custody.dose_on_hold",
                t(
                    "the dose is on hold: it cannot move towards the patient until QA lifts the hold (it may "
                    "be returned or destroyed)"
                ),
                t("status: %(status)s", status=t("on hold")),
                "event",
            )
        )
    return problems


def permitted(last_event: str | None, allocation_status: str) -> list[str]:
    """The events that may be recorded now (the workflow's next steps the dose's status allows)."""
    return [e for e in next_events(last_event) if not event_problems(last_event, e, allocation_status)]


def recorder_problems(recorder_is_user: bool, permissions) -> dict[str, str]:
    """Custody is recorded by the signed-in person handing over, who holds custody.record."""
    if not recorder_is_user:
        return {FORM: t("Custody is recorded by the signed-in person handing the dose over.")}
    if RECORD_PERMISSION not in permissions:
        return {FORM: t("You do not hold the permission to record custody events.")}
    return {}


def time_errors(
    occurred_at: datetime, now: datetime, previous_at: datetime | None, released_at: datetime | None = None
) -> dict[str, str]:
    """A hand-off is not in the future (beyond the clocks' skew), nor before the previous event, nor
    before the release of the lot the dose comes from (DOMAIN.md §4-5: nothing leaves QA's hands unreleased)."""
    if occurred_at > now + CLOCK_SKEW:
        return {"occurred_at": t("The time of the hand-off cannot be in the future.")}
    if previous_at is not None and occurred_at < previous_at:
        return {
            "occurred_at": t(
                "The hand-off cannot be before the previous event (%(when)s).",
                when=utc_words(previous_at.astimezone(UTC)),
            )
        }
    if released_at is not None and occurred_at < released_at:
        return {
            "occurred_at": t(
                "The hand-off cannot be before the release of the dose's lot (%(when)s).",
                when=utc_words(released_at.astimezone(UTC)),
            )
        }
    return {}


@dataclass(frozen=True)
class HandOff:
    """What the person handing over states about one event (texts already stripped, None when empty)."""

    event: str
    place: str | None
    shipper: str | None
    logger_id: str | None
    temperature_min_c: float | None
    temperature_max_c: float | None
    excursion: bool
    excursion_description: str | None
    condition_on_receipt: str | None
    subject_id_checked: str | None


def hand_off_errors(h: HandOff, subject_id: str) -> dict[str, str]:
    """Input errors of a hand-off, by field: what every event, a shipment, a receipt, an excursion and an
    administration must state, and a wristband that is not this dose's patient."""
    errors: dict[str, str] = {}
    if h.place is None:
        errors["place"] = t("Say where the hand-off happens (room, site).")
    if h.event == "shipped" and h.shipper is None:
        errors["shipper"] = t("Name the shipper (courier company or person).")
    if h.event in ("shipped", "received_at_site") and h.logger_id is None:
        errors["logger_id"] = t("Give the temperature logger's id (shipments travel with a logger).")
    if h.event in ("received_at_site", "returned") and h.condition_on_receipt is None:
        errors["condition_on_receipt"] = t(
            "Describe the condition on receipt (package, seal, bag, dry ice/LN2)."
        )
    errors.update(validate_temperatures(h.temperature_min_c, h.temperature_max_c))
    if h.excursion and h.excursion_description is None:
        errors["excursion_description"] = t("Describe the excursion (how high, how long, what was done).")
    if h.event == "administered" and h.subject_id_checked is None:
        errors["subject_id_checked"] = t(
            "Scan or type the patient's subject id (wristband) before administration."
        )
    if h.subject_id_checked is not None and h.subject_id_checked.upper() != subject_id.upper():
        errors["subject_id_checked"] = t(
            "Patient mismatch: the wristband reads %(wristband)s but this dose is for %(subject)s. Do not "
            "administer.",
            wristband=h.subject_id_checked,
            subject=subject_id,
        )
    return errors


def container_problems(
    event: str, identifier: str, usable: bool, expires_at: datetime, occurred_at: datetime
) -> list[Problem]:
    """A dose moving towards the patient needs a container that is not held, of a released lot, unexpired."""
    kind = KINDS.get(event)
    if kind is None or not kind.forward:
        return []
    if not usable:
        return [
            Problem(
                "custody.container_held",
                t("Container %(container)s is held or its lot is not released.", container=identifier),
                t("container %(container)s", container=identifier),
            )
        ]
    if expires_at < occurred_at:
        return [
            Problem(
                "custody.container_expired",
                t(
                    "Container %(container)s expired on %(when)s.",
                    container=identifier,
                    when=utc_words(expires_at.astimezone(UTC)),
                ),
                t("container %(container)s", container=identifier),
            )
        ]
    return []


# --- the scan --------------------------------------------------------------------------------------

EMPTY_SCAN = t(
    "Scan the dose's label (DIN bar code or Data Matrix), or type the DIN with its boxed check character."
)


def not_a_din(kind: str) -> str:
    what = {"product": t("the product code bar code"), "expiry": t("the expiry bar code")}.get(
        kind, t("no DIN")
    )
    return t("This is %(what)s: scan the DIN bar code (top left of the label) or the Data Matrix.", what=what)


@dataclass(frozen=True)
class DoseRef:
    """A dose as a scan check names it."""

    patient: int
    subject_id: str
    dose_number: int

    @property
    def name(self) -> str:
        return t("subject %(subject)s dose %(number)s", subject=self.subject_id, number=self.dose_number)


def scan_mismatch(
    dose: DoseRef,
    printed: str,
    product_code: str | None,
    expected: list[str],
    holder: tuple[str, DoseRef] | None,
) -> str:
    """Why a scanned code that is none of this dose's containers is refused: another patient's bag (do not
    hand it over), another dose of this patient, or no container of this dose at all. `holder` is the
    scanned container's identifier and the active dose that holds it, if any."""
    if holder is not None:
        identifier, other = holder
        if other.patient != dose.patient:
            return t(
                "Patient mismatch: %(container)s belongs to %(other)s, another patient; this is %(dose)s. Do "
                "not hand it over. Nothing was recorded.",
                container=identifier,
                other=other.name,
                dose=dose.name,
            )
        return t(
            "Wrong dose: %(container)s is dose %(other)s of this patient; this is dose %(number)s. Nothing "
            "was recorded.",
            container=identifier,
            other=other.dose_number,
            number=dose.dose_number,
        )
    scanned = f"{printed} {product_code}" if product_code else printed
    return t(
        "Wrong container: %(scanned)s is not a container of this dose (%(dose)s; expected %(expected)s). "
        "Nothing was recorded.",
        scanned=scanned,
        dose=dose.name,
        expected=", ".join(expected) or t("none"),
    )


def shared_din(printed: str) -> str:
    """A DIN names a lot, whose bags may belong to several doses: the Data Matrix says which bag."""
    return t(
        "%(din)s is shared by bags of several doses: scan the Data Matrix (it carries the product code and "
        "division) to say which bag this is.",
        din=printed,
    )


# --- logger readings --------------------------------------------------------------------------------


def validate_temperatures(minimum: float | None, maximum: float | None) -> dict[str, str]:
    """Field problems of a logger reading: plausible range (−200 to +60 °C) and min ≤ max."""
    errors = {}
    for name, value in (("temperature_min_c", minimum), ("temperature_max_c", maximum)):
        if value is not None and not -200 <= value <= 60:
            errors[name] = t("Temperature must be between −200 and +60 °C.")
    if not errors and minimum is not None and maximum is not None and minimum > maximum:
        errors["temperature_max_c"] = t("The maximum is below the minimum.")
    return errors


_LIMIT = re.compile(r"(?:≤|<=|<|below)\s*([−-]?\s*\d+(?:[.,]\d+)?)\s*°?\s*C")


def storage_limit_c(storage_text: str) -> float | None:
    """Upper temperature limit from a product's storage text ('≤ −150 °C (…)' → −150.0), or None when
    the text states no upper limit (then only the excursion box flags an excursion)."""
    match = _LIMIT.search(storage_text or "")
    if match is None:
        return None
    return float(match.group(1).replace("−", "-").replace(" ", "").replace(",", "."))


def excursion_found(event: str, maximum_c: float | None, limit_c: float | None) -> str | None:
    """Why a logger reading is an excursion (None when it is not): a frozen dose whose logger maximum
    went above the product's storage limit. After thawing the temperature rises by design."""
    if not KINDS[event].cold_chain or maximum_c is None or limit_c is None or maximum_c <= limit_c:
        return None
    return f"logger maximum {maximum_c:g} °C is above the storage limit {limit_c:g} °C"


def hold_reason(
    event: str, excursion: bool, excursion_description: str | None, allocation_status: str, holdable
) -> str | None:
    """Why the dose goes on hold after this event (None: it does not): an excursion, or a dose returned or
    destroyed while allocated or issued — it must never reach the patient, and holding it lets the pharmacy
    deallocate it and allocate a replacement (an issued dose cannot be deallocated directly)."""
    kind = KINDS[event]
    if excursion:
        return f"Temperature excursion at '{kind.label}': {excursion_description}"
    if event in ("returned", "destroyed") and allocation_status in holdable:
        return f"Dose {event} ({kind.label.lower()}): deallocate it and allocate a replacement"
    return None
