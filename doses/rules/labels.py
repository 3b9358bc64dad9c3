"""Label rules (DOMAIN.md §5; ISBT 128 ST-001): which container of which dose may be labelled now, the
words a blinded label uses for the dose, the statements of the protocol's regulatory region (EU:
Regulation (EU) No 536/2014 Articles 66-67 and Annex VI, in the label language; US: 21 CFR 312.6) on the
outer packaging or the immediate container, and what a print request may ask for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from bank.i18n import t
from bank.refusals import Problem
from doses.rules.protocol import DoseBasis, Protocol, Region, Route
from doses.rules.words import utc_words

US_CAUTION = "Caution: New Drug—Limited by Federal (or United States) law to investigational use."
EU_TRIAL = "For clinical trial use only"
AUTOLOGOUS = "FOR AUTOLOGOUS USE ONLY"
ROUTES = {Route.IV: "For intravenous use", Route.IT: "For intrathecal use"}


class Packaging(StrEnum):
    """Annex VI A.1 (outer packaging: every particular) or A.2-style reduced set on the immediate
    container, allowed when it stays with its outer packaging (contact, route/form, batch/code, trial
    reference, subject/visit)."""

    OUTER = "outer"
    IMMEDIATE = "immediate"


# The 100 × 100 mm label is the outer packaging's (overwrap, shipper); the 100 × 50 mm one the bag's.
DEFAULT_PACKAGING = {"100x100": Packaging.OUTER, "100x50": Packaging.IMMEDIATE}

# Fixed words of an EU label, by label language (Annex VI: in the language of the member state).
EU_WORDS = {
    "fr": {
        "trial_only": "Pour essai clinique uniquement",
        "autologous": "USAGE AUTOLOGUE UNIQUEMENT",
        "store": "Conserver à {}",
        "routes": {Route.IV: "voie intraveineuse", Route.IT: "voie intrathécale"},
        "reference": "N° UE de l'essai (EU CT) : {}",
        "directions": "Mode d'emploi : voir le protocole de l'essai",
        "people": "Promoteur : {sponsor} · Investigateur : {investigator} · Site : {site}",
        "contact": "Contact (information, levée d'aveugle en urgence) : {name}, {address}, tél. {phone}",
    },
    "en": {
        "trial_only": EU_TRIAL,
        "autologous": AUTOLOGOUS,
        "store": "Store at {}",
        "routes": {Route.IV: "intravenous use", Route.IT: "intrathecal use"},
        "reference": "EU trial number (EU CT): {}",
        "directions": "Directions for use: see the trial protocol",
        "people": "Sponsor: {sponsor} · Investigator: {investigator} · Site: {site}",
        "contact": "Contact (information, emergency unblinding): {name}, {address}, tel. {phone}",
    },
}


@dataclass(frozen=True)
class LabelWording:
    """The region's words of one label: its language, the product name to print instead of the product's
    (None: the product's or the blinded identity's), the storage line, the lines under the product and
    the statements."""

    language: str
    product_name: str | None
    storage_text: str
    extra_lines: tuple[str, ...]
    statements: tuple[str, ...]


def label_wording(protocol: Protocol, packaging: Packaging, autologous: bool, storage: str) -> LabelWording:
    """What the protocol's region requires a label to say. EU (Regulation 536/2014 Annex VI): on the outer
    packaging the product (for a blinded trial the active together with the placebo, the same on both
    arms), form and route, trial reference, directions, "for clinical trial use only", storage, sponsor,
    investigator, site and the main contact with its telephone; on the immediate container the reduced set
    (contact, route/form, trial reference; batch/code, subject/visit and expiry are on every label).
    Never the US statement. US (21 CFR 312.6) and versions stored without a region: as before."""
    lab = protocol.labelling
    if lab is None or lab.region is Region.US:
        return LabelWording(
            "en",
            None,
            f"Store at {storage}",
            (ROUTES[protocol.route],),
            (US_CAUTION, EU_TRIAL, *((AUTOLOGOUS,) if autologous else ())),
        )
    w = EU_WORDS[lab.language]
    trial_only = w["trial_only"] + (f" · {w['autologous']}" if autologous else "")
    form_route = (
        f"{lab.pharmaceutical_form[:1].upper()}{lab.pharmaceutical_form[1:]} · {w['routes'][protocol.route]}"
    )
    reference = w["reference"].format(lab.trial_reference)
    contact = w["contact"].format(name=lab.contact_name, address=lab.contact_address, phone=lab.contact_phone)
    if packaging is Packaging.IMMEDIATE:
        return LabelWording(
            lab.language,
            lab.product_name,
            w["store"].format(storage),
            (),
            (trial_only, f"{form_route} · {reference}", contact),
        )
    people = w["people"].format(sponsor=lab.sponsor, investigator=lab.investigator, site=lab.site)
    return LabelWording(
        lab.language,
        lab.product_name,
        w["store"].format(storage),
        (form_route, reference, w["directions"]),
        (trial_only, people, contact),
    )


PRINTABLE = ("allocated", "issued")  # a held, administered or deallocated dose gets no new label
MAX_COPIES = 20


@dataclass(frozen=True)
class LabelFacts:
    """What the records say about one container to be labelled. `dose_status` is None when no dose
    holds the container; `on_this_dose` whether it is an active container of the dose being labelled."""

    container: str  # identifier (DIN + product code)
    dose_status: str | None
    on_this_dose: bool
    lot_released: bool
    lot_din: str
    lot_status: str
    on_hold: bool
    hold_reason: str | None
    expires_at: datetime


def label_problems(f: LabelFacts, now: datetime) -> list[Problem]:
    """Every reason this container cannot be labelled now (empty: it can)."""
    out = []
    c = t("container %(container)s", container=f.container)
    if f.dose_status is None:
        out.append(
            Problem(
                "label.not_allocated",
                t(
                    "Container %(container)s is not allocated to a dose: labels are printed for allocated "
                    "doses only.",
                    container=f.container,
                ),
                c,
            )
        )
    else:
        if not f.on_this_dose:
            out.append(
                Problem(
                    "label.other_dose",
                    t("Container %(container)s is not allocated to this dose.", container=f.container),
                    c,
                )
            )
        if f.dose_status not in PRINTABLE:
            status = t(f.dose_status.replace("_", " "))
            out.append(
                Problem(
                    "label.dose_status",
                    t(
                        "The dose is %(status)s: labels are printed for allocated or issued doses only.",
                        status=status,
                    ),
                    t("status: %(status)s", status=status),
                )
            )
    if not f.lot_released:
        out.append(
            Problem(
                "label.not_released",
                t(
                    "Container %(container)s is not released (lot %(din)s is %(status)s, or held, or has a "
                    "late-result alert).",
                    container=f.container,
                    din=f.lot_din,
                    status=t(f.lot_status.replace("_", " ")),
                ),
                c,
            )
        )
    if f.on_hold:
        out.append(
            Problem(
                "label.on_hold",
                t(
                    "Container %(container)s is on hold: %(reason)s.",
                    container=f.container,
                    reason=f.hold_reason or t("see the lot"),
                ),
                c,
            )
        )
    if f.expires_at <= now:
        out.append(
            Problem(
                "label.expired",
                t(
                    "Container %(container)s expired on %(when)s.",
                    container=f.container,
                    when=utc_words(f.expires_at.astimezone(UTC)),
                ),
                c,
            )
        )
    return out


def empty_dose(subject_id: str, dose_number: int) -> Problem:
    return Problem(
        "label.no_container",
        t(
            "The dose (%(subject)s dose %(number)s) holds no container: labels are printed for allocated "
            "doses only.",
            subject=subject_id,
            number=dose_number,
        ),
        t("subject %(subject)s, dose %(number)s", subject=subject_id, number=dose_number),
    )


def blinded_storage_differs(active_key: str, placebo_key: str) -> Problem:
    """Printing either storage text would tell the arm (or store the bag wrongly): stop and say why."""
    return Problem(
        "label.storage_differs",
        t(
            "Blinded labels need one storage condition for active and placebo, but %(active)s and "
            "%(placebo)s differ: make them match in a new product version.",
            active=active_key,
            placebo=placebo_key,
        ),
        t("products %(active)s and %(placebo)s", active=active_key, placebo=placebo_key),
    )


def _mega(value: float) -> str:
    return f"{value / 1e6:g}"


def nominal_dose_text(protocol: Protocol) -> str:
    """The protocol's dose, the same words for both arms: '1–2 × 10⁶ viable cells/kg (protocol dose)'."""
    rule = protocol.dose_rule
    unit = "viable cells/kg" if rule.basis is DoseBasis.PER_KG else "viable cells"
    span = (
        _mega(float(rule.min_cells))
        if rule.min_cells == rule.max_cells
        else f"{_mega(float(rule.min_cells))}–{_mega(float(rule.max_cells))}"
    )
    return f"{span} × 10⁶ {unit} (protocol dose)"


def validate_print(size: str | None, copies, sizes, packaging: str | None = None) -> dict[str, str]:
    """Field problems of a print request: a known size, 1–MAX_COPIES copies of each label and, when
    given, outer packaging or immediate container."""
    errors = {}
    if packaging not in (None, "", *Packaging):
        errors["packaging"] = t("Packaging must be outer or immediate.")
    if size not in sizes:
        errors["size"] = t("Label size must be one of %(sizes)s.", sizes=", ".join(sizes))
    try:
        n = int(copies)
    except (TypeError, ValueError):
        n = 0
    if not 1 <= n <= MAX_COPIES:
        errors["copies"] = t("Copies must be a whole number from 1 to %(most)s.", most=MAX_COPIES)
    return errors
