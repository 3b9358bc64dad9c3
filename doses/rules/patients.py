"""Patient rules: the dose schedule and its windows, completed ages, the enrolment checklist (computed
items evaluated, attested items answered), subject ids, and the validators of impossible input."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from bank.i18n import Text, t
from doses.rules.protocol import CriterionKind, Measure, Protocol, ScheduleAnchor
from doses.rules.words import day_words

Number = Decimal | int | str

# Plausibility bounds of input, not clinical limits: a value outside is a typing error.
WEIGHT_MAX_KG = Decimal(400)
EDSS_MAX = Decimal(10)


@dataclass(frozen=True)
class ScheduledDose:
    """Due date of one dose and its window (inclusive); administered_on when already given."""

    number: int
    due: date
    window_start: date
    window_end: date
    optional: bool = False
    administered_on: date | None = None


@dataclass(frozen=True)
class ChecklistItem:
    """A computed enrolment item: met is None when the data needed are missing or invalid."""

    id: str
    text: str
    met: bool | None
    evidence: str  # English when stored and signed (a Text, shown in the reader's language)


def _dec(value: Number | float) -> Decimal:
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number")
    # str() first so that 70.1 (float) becomes Decimal('70.1'), not its binary expansion.
    return value if isinstance(value, Decimal) else Decimal(str(value))


def schedule(
    protocol: Protocol, first_dose_date: date, administered: Mapping[int, date]
) -> list[ScheduledDose]:
    """Due date and window of every dose. Dose 1 is due on `first_dose_date`. Later doses are anchored on
    the ACTUAL date of dose 1 when given (so a late first dose moves the whole schedule, and later
    deviations do not accumulate); with ScheduleAnchor.PREVIOUS_DOSE the interval is counted from the
    actual (else due) date of the previous dose instead."""
    anchor = administered.get(1, first_dose_date)
    out: list[ScheduledDose] = []
    for i, step in enumerate(protocol.schedule):
        if i == 0:
            due = first_dose_date
        elif protocol.schedule_anchor is ScheduleAnchor.PREVIOUS_DOSE:
            prev = out[-1]
            base = administered.get(prev.number, prev.due)
            due = base + timedelta(days=step.offset_days - protocol.schedule[i - 1].offset_days)
        else:
            due = anchor + timedelta(days=step.offset_days)
        w = timedelta(days=step.window_days)
        out.append(
            ScheduledDose(step.number, due, due - w, due + w, step.optional, administered.get(step.number))
        )
    return out


def age_years(dob: date, on: date) -> int:
    """Completed years from dob to `on` (a 29 February birthday is reached on 1 March in common years)."""
    if on < dob:
        raise ValueError("date is before the date of birth")
    return on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))


def _measure(
    m: Measure, dob: date | None, on: date, edss: Number | None, diagnosis: date | None
) -> tuple[Decimal | None, Text]:
    if m is Measure.EDSS:
        if edss is None:
            return None, t("EDSS not recorded")
        if errors := validate_edss(edss):
            return None, errors["edss"]
        return _dec(edss), t("EDSS")
    if m is Measure.AGE_YEARS:
        start, label = dob, t("age (years)")
        missing, after = t("date of birth not recorded"), t("date of birth is after the evaluation date")
    else:
        start, label = diagnosis, t("disease duration since diagnosis (completed years)")
        missing, after = t("diagnosis date not recorded"), t("diagnosis date is after the evaluation date")
    if start is None:
        return None, missing
    if start > on:
        return None, after
    return Decimal(age_years(start, on)), label


def checklist_computed(
    protocol: Protocol,
    dob: date | None,
    evaluation_date: date,
    edss: Number | None,
    diagnosis_date: date | None,
) -> list[ChecklistItem]:
    """The protocol's computed checklist items evaluated on `evaluation_date`. Ages and disease
    duration are completed years, so "18 to 50" holds from the 18th birthday to the day before the 51st,
    and duration "2 to 10 years (included)" likewise. Bounds inclusive; attested items are not returned."""
    items: list[ChecklistItem] = []
    for c in protocol.checklist:
        if c.measure is None:
            continue
        value, label = _measure(c.measure, dob, evaluation_date, edss, diagnosis_date)
        if value is None:
            items.append(ChecklistItem(c.id, c.text, None, label))
            continue
        met = (c.minimum is None or value >= c.minimum) and (c.maximum is None or value <= c.maximum)
        bounds = t(
            "%(low)s–%(high)s",
            low="" if c.minimum is None else c.minimum,
            high="" if c.maximum is None else c.maximum,
        )
        evidence = t(
            "%(measure)s %(value)s on %(day)s; accepted %(bounds)s",
            measure=label,
            value=value,
            day=day_words(evaluation_date),
            bounds=bounds,
        )
        items.append(ChecklistItem(c.id, c.text, met, evidence))
    return items


# Validators of impossible input for forms and services: field -> message, empty dict when valid.


def validate_weight(weight_kg: Number | float | None) -> dict[str, str]:
    """Refuses non-numbers, weight <= 0 kg and > 400 kg."""
    try:
        w = _dec(weight_kg)  # type: ignore[arg-type]
    except (InvalidOperation, TypeError, ValueError):
        return {"weight_kg": t("Weight must be a number of kilograms.")}
    if not w.is_finite() or w <= 0:
        return {"weight_kg": t("Weight must be greater than 0 kg.")}
    if w > WEIGHT_MAX_KG:
        return {"weight_kg": t("Weight above %(most)s kg is not plausible.", most=WEIGHT_MAX_KG)}
    return {}


def validate_date_of_birth(dob: date, today: date) -> dict[str, str]:
    """Refuses a date of birth after today."""
    return {"date_of_birth": t("Date of birth is in the future.")} if dob > today else {}


def validate_dose_number(protocol: Protocol, dose_number: int) -> dict[str, str]:
    """Refuses a dose number outside 1..protocol.number_of_doses (and non-integers)."""
    n = protocol.number_of_doses
    if isinstance(dose_number, bool) or not isinstance(dose_number, int) or not 1 <= dose_number <= n:
        return {
            "dose_number": t(
                "Dose number must be 1 to %(count)s for %(protocol)s.", count=n, protocol=protocol.code
            )
        }
    return {}


def validate_edss(edss: Number | float | None) -> dict[str, str]:
    """Refuses an EDSS outside 0–10 or not a multiple of 0.5."""
    try:
        e = _dec(edss)  # type: ignore[arg-type]
    except (InvalidOperation, TypeError, ValueError):
        return {"edss": t("EDSS must be a number.")}
    if not e.is_finite() or not Decimal(0) <= e <= EDSS_MAX or (e * 2) % 1 != 0:
        return {"edss": t("EDSS must be 0 to 10 in steps of 0.5.")}
    return {}


def date_errors(
    field: str, value: date | None, dob: date | None, today: date, required: bool = True
) -> dict[str, str]:
    """Refuses a missing date (when required), a date after `today` or before the date of birth."""
    if value is None:
        return {field: t("Required.")} if required else {}
    if value > today:
        return {field: t("Cannot be in the future.")}
    if dob is not None and value < dob:
        return {field: t("Cannot be before the date of birth.")}
    return {}


# --- subject ids ------------------------------------------------------------------------------------

# After the protocol code: site code and subject number, e.g. MESEMS-TLS-007. Letters and digits only,
# so a name cannot be typed in by mistake beyond a short site code.
SUBJECT_TAIL = re.compile(r"^[A-Z0-9]{1,10}-[0-9]{1,6}$")
OLDEST_BIRTH = date(1900, 1, 1)
PLAN_AHEAD = timedelta(days=730)  # a first dose planned more than two years ahead is a typing error


def normalise_subject_id(value: str | None) -> str:
    return "".join((value or "").split()).upper()


def subject_id_error(protocol: Protocol, subject_id: str) -> str | None:
    prefix = protocol.code.upper() + "-"
    if not subject_id.startswith(prefix) or not SUBJECT_TAIL.match(subject_id[len(prefix) :]):
        return t(
            "Subject id is %(code)s-<site>-<number>, e.g. %(example)s (no names).",
            code=protocol.code.upper(),
            example=prefix + "TLS-001",
        )
    return None


def registration_errors(
    protocol: Protocol | None,
    *,
    site: str | None,
    sex: str | None,
    date_of_birth: date | None,
    first_dose_on: date | None,
    today: date,
) -> dict[str, str]:
    """Input errors of a subject's registration that need no stored record (field -> message)."""
    errors: dict[str, str] = {}
    if protocol is not None and site not in protocol.sites:
        errors["site"] = t(
            "Choose a site of %(protocol)s: %(sites)s.",
            protocol=protocol.code,
            sites="; ".join(protocol.sites),
        )
    if sex not in ("F", "M"):
        errors["sex"] = t("Choose F or M.")
    if date_of_birth is None:
        errors["date_of_birth"] = t("Required.")
    elif date_of_birth < OLDEST_BIRTH:
        errors["date_of_birth"] = t("Not plausible (before 1900).")
    else:
        errors.update(validate_date_of_birth(date_of_birth, today))
    if first_dose_on is None:
        errors["first_dose_on"] = t("Required.")
    elif date_of_birth is not None and first_dose_on < date_of_birth:
        errors["first_dose_on"] = t("Cannot be before the date of birth.")
    elif first_dose_on > today + PLAN_AHEAD:
        errors["first_dose_on"] = t("More than two years ahead: check the date.")
    return errors


# --- enrolment checklist ------------------------------------------------------------------------------


def field_name(item_id: str) -> str:
    """Form field of an attested checklist item ('MESEMS-I04' → 'item_MESEMS_I04')."""
    return "item_" + item_id.replace("-", "_")


@dataclass(frozen=True)
class ChecklistOutcome:
    computed: list[ChecklistItem]
    eligible: bool
    reasons: list[str]


def checklist_input_errors(
    protocol: Protocol,
    *,
    dob: date,
    evaluation_date: date | None,
    edss: str | None,
    diagnosis_date: date | None,
    answers: Mapping[str, str | None],
    today: date,
) -> tuple[dict[str, str], dict[str, str]]:
    """Input errors of a checklist (field -> message) and the clean attested answers {item id: yes|no}:
    dates, an EDSS where the protocol has an EDSS range, a yes or no for every attested item."""
    measures = {c.measure for c in protocol.checklist if c.computed}
    errors = date_errors("evaluation_date", evaluation_date, dob, today)
    if Measure.EDSS in measures and edss is None:
        errors["edss"] = t("Required: this protocol has an EDSS range.")
    elif edss is not None:
        errors.update(validate_edss(edss))
    if Measure.DISEASE_DURATION_YEARS in measures or diagnosis_date is not None:
        errors.update(date_errors("diagnosis_date", diagnosis_date, dob, today))
    clean: dict[str, str] = {}
    for c in protocol.checklist:
        if c.computed:
            continue
        value = answers.get(c.id)
        if value not in ("yes", "no"):
            errors[field_name(c.id)] = t("Answer yes or no.")
        else:
            clean[c.id] = value
    return errors, clean


def evaluate_checklist(
    protocol: Protocol,
    dob: date,
    evaluation_date: date,
    edss,
    diagnosis_date: date | None,
    answers: Mapping[str, str],
) -> ChecklistOutcome:
    """Eligible when every computed item is met, every attested inclusion item is 'yes' and every
    exclusion item is 'no'; `reasons` names each item that is not."""
    computed = checklist_computed(protocol, dob, evaluation_date, edss, diagnosis_date)
    reasons = [
        f"{c.id}: {c.text} — {'not met' if c.met is False else 'cannot be computed'} ({c.evidence})"
        for c in computed
        if c.met is not True
    ]
    for c in protocol.checklist:
        if c.computed:
            continue
        expected = "yes" if c.kind is CriterionKind.INCLUSION else "no"
        if answers.get(c.id) != expected:
            reasons.append(f"{c.id}: {c.text} — {'not met' if expected == 'yes' else 'applies'}")
    return ChecklistOutcome(computed, not reasons, reasons)
