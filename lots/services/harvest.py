"""Opening lots: at harvest from a donor, as a placebo (no donor), or derived from a parent lot.

Every lot gets an ISBT 128 DIN (facility FIN + year + sequence) with its check character; the sequence
counter never reissues a number and the DIN column is unique, so a DIN is unique for ever.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bank.clock import utcnow
from bank.i18n import localize, t
from bank.identifiers import next_value
from bank.isbt128 import check_character, make_din
from bank.refusals import Problem, Refused, refuse_if
from bank.status import initial_status
from bank.uow import current_actor
from bank.web import LIKE_ESCAPE, like_pattern
from donors.models import Donor
from donors.services import DonorUse, donor_use_facts, set_harvest_date
from donors.validation import DonorError
from lots.models import Harvest, Lot, Passage, ProductType
from lots.models.lots import TIERS, TISSUES
from lots.rules import HarvestDecision, check_harvest_allowed, status_word
from lots.services.materials import check_material_lots, record_material_uses
from lots.services.processing import cumulative_pd, unverified_entries
from lots.states import LOT_WORKFLOW, NOT_DERIVABLE

# The tissues and tiers as a sentence names them.
TISSUE_WORDS = {"lipoaspirate": t("lipoaspirate"), "bone_marrow_aspirate": t("bone-marrow aspirate")}
TIER_WORDS = {"master": t("master"), "working": t("working"), "dose": t("dose")}

TIER_DEPTH = {"master": 0, "working": 1, "dose": 2}
CLOCK_SKEW = timedelta(minutes=5)
MAX_AMOUNT = 10_000.0  # g or mL: an input sanity bound (also refuses inf), not a collection limit  # a bench clock a little ahead of the server is not "the future"


def _open_lot(session: Session, fin: str, product: ProductType, **fields) -> Lot:
    year = utcnow().year
    din = make_din(fin, year, next_value(session, "din", str(year), limit=999_999))
    lot = Lot(din=din, check_char=check_character(din), product_type_id=product.id, **fields)
    session.add(lot)
    initial_status(session, lot, LOT_WORKFLOW)
    return lot


def _active_product(
    session: Session, product_type_id, placebo: bool
) -> tuple[ProductType | None, str | None]:
    product = session.get(ProductType, product_type_id) if product_type_id else None
    if product is None or product.status != "active":
        return None, t("Choose a current product type.")
    if product.is_placebo != placebo:
        return None, (
            t("A placebo is made with 'New placebo lot', not from a harvest.")
            if product.is_placebo
            else t("Choose a placebo product type.")
        )
    return product, None


@dataclass(frozen=True)
class HarvestValues:
    """A harvest's values as typed on the form."""

    tissue: str | None
    mass_g: float | None
    volume_ml: float | None
    collected_at: datetime | None
    site: str
    operator: str
    tier: str


def _harvest_field_errors(product: ProductType | None, v: HarvestValues) -> dict[str, str]:
    """The harvest form's own errors (tissue, amounts, time, site, operator, tier), by field."""
    errors: dict[str, str] = {}
    if v.tissue not in TISSUES:
        errors["tissue"] = t("Choose lipoaspirate or bone-marrow aspirate.")
    elif product is not None and product.tissue != v.tissue:
        errors["tissue"] = t(
            "%(product)s is made from %(tissue)s.", product=product.key, tissue=TISSUE_WORDS[product.tissue]
        )
    if v.mass_g is None and v.volume_ml is None:
        errors["mass_g"] = t("Give the mass (g) or the volume (mL) collected.")
    for field, value in (("mass_g", v.mass_g), ("volume_ml", v.volume_ml)):
        if value is not None and not (0 < value < MAX_AMOUNT):
            errors[field] = t("Must be greater than zero and below %(max)s.", max=int(MAX_AMOUNT))
    if v.collected_at is None:
        errors["collected_at"] = t("Required.")
    elif v.collected_at > utcnow() + CLOCK_SKEW:
        errors["collected_at"] = t("Cannot be in the future.")
    for field, value in (("site", v.site), ("operator", v.operator)):
        if not (value or "").strip():
            errors[field] = t("Required.")
    if v.tier not in TIERS:
        errors["tier"] = t("Choose master, working or dose.")
    return errors


def _donor_problems(facts: DonorUse, decision: HarvestDecision, product: ProductType | None) -> list[Problem]:
    """Why this donor may not give this harvest: the donor rule's problems, or a product of the other
    origin (autologous or allogeneic)."""
    if not decision.allowed:
        return [
            Problem(
                p.rule_id,
                t("Harvest refused for donor %(code)s: %(why)s", code=facts.code, why=p.message),
                evidence=p.evidence,
                field="donor_id",
            )
            for p in decision.problems
        ]
    if product is not None and (product.origin == "autologous") != facts.is_autologous:
        if product.origin == "autologous":
            why = t(
                "%(product)s is autologous; donor %(code)s is an allogeneic donor.",
                product=product.key,
                code=facts.code,
            )
        else:
            why = t(
                "%(product)s is allogeneic; donor %(code)s is an autologous donor.",
                product=product.key,
                code=facts.code,
            )
        return [
            Problem(
                "lots.harvest.origin_mismatch",
                why,
                evidence=f"product={product.origin}; autologous donor={facts.is_autologous}",
                field="product_type_id",
            )
        ]
    return []


def record_harvest(
    session: Session,
    *,
    fin: str,
    donor_id: int | None,
    product_type_id: int | None,
    tissue: str | None,
    mass_g: float | None,
    volume_ml: float | None,
    collected_at: datetime | None,
    site: str,
    operator: str,
    tier: str = "master",
    material_lot_ids=(),
) -> Lot:
    """Record a tissue harvest and open its lot (status in process), or refuse naming every problem: ineligible donor or look-back refused (21 CFR 1271.65); a donor under determination gives
    a quarantined lot (1271.60); an autologous donor gives an autologous-only lot."""
    errors: dict[str, str] = {}
    product, problem = _active_product(session, product_type_id, placebo=False)
    if problem:
        errors["product_type_id"] = problem
    typed = HarvestValues(tissue, mass_g, volume_ml, collected_at, site, operator, tier)
    errors.update(_harvest_field_errors(product, typed))
    donor = session.get(Donor, donor_id) if donor_id else None
    decision, problems = None, []
    if donor is None:
        errors["donor_id"] = t("Choose a registered donor.")
    else:
        facts = donor_use_facts(session, donor.id)
        decision = check_harvest_allowed(facts.status, facts.is_autologous, facts.under_lookback)
        problems = _donor_problems(facts, decision, product)
    refuse_if(errors, problems)
    materials = check_material_lots(session, material_lot_ids, collected_at.date())
    # Products of a donor not yet signed eligible stay quarantined (1271.60); autologous use is the
    # exception (1271.90(a)(1)), handled by the rule.
    quarantined = decision.quarantined or (not facts.is_autologous and not facts.eligible_signed)
    lot = _open_lot(
        session,
        fin,
        product,
        donor_id=donor.id,
        tier=tier,
        quarantined=quarantined,
        autologous_only=decision.autologous_only,
    )
    actor = current_actor(session)
    session.add(
        Harvest(
            lot_id=lot.id,
            donor_id=donor.id,
            tissue=tissue,
            mass_g=mass_g,
            volume_ml=volume_ml,
            collected_at=collected_at,
            site=site.strip(),
            operator=operator.strip(),
            recorded_by_id=actor.id if actor else None,
        )
    )
    record_material_uses(session, lot, materials, "harvest", None, collected_at.date())
    try:
        set_harvest_date(session, donor, collected_at.date())
    except (
        DonorError,
        Refused,
    ) as e:  # e.g. a harvest dated before the donor's birth: say it on the date field
        messages = e.messages() if isinstance(e, Refused) else list(e.errors.values())
        raise Refused({"collected_at": " ".join(messages)}) from None
    session.flush()
    return lot


def create_placebo_lot(session: Session, *, fin: str, product_type_id: int | None) -> Lot:
    """Open a placebo lot: suspension media for blinded trials, made from no donor (donor_id None),
    tier 'dose', never quarantined; it goes straight to formulation (no isolation, no passages)."""
    product, problem = _active_product(session, product_type_id, placebo=True)
    refuse_if({"product_type_id": problem} if problem else {})
    return _open_lot(
        session, fin, product, donor_id=None, tier="dose", quarantined=False, autologous_only=False
    )


def derive_lot(session: Session, parent: Lot, *, fin: str, tier: str | None) -> Lot:
    """Open a lot derived from `parent` (master → working → dose): same donor and product version,
    same quarantine and autologous flags; it carries the parent's verified cumulative PD and continues
    its passage numbering, so the product limits apply to the whole history."""
    errors: dict[str, str] = {}
    if tier not in TIERS:
        errors["tier"] = t("Choose working or dose.")
    elif TIER_DEPTH[tier] <= TIER_DEPTH[parent.tier]:
        errors["tier"] = t(
            "A lot derived from a %(tier)s bank must be a later tier.", tier=TIER_WORDS[parent.tier]
        )
    problems = []
    if parent.product_type.is_placebo:
        problems.append(Problem("lots.derive.placebo", t("A placebo lot has no derived lots.")))
    elif parent.status in NOT_DERIVABLE:
        problems.append(
            Problem(
                "lots.derive.parent_status",
                t(
                    "Lot %(din)s is %(status)s: nothing may be derived from it.",
                    din=parent.din,
                    status=status_word(parent.status),
                ),
                evidence=f"status={parent.status}",
            )
        )
    elif unverified := unverified_entries(session, parent):
        problems.append(
            Problem(
                "lots.derive.unverified",
                t("Verify the parent's entries first: %(entries)s.", entries=unverified),
                evidence="; ".join(unverified),
            )
        )
    refuse_if(errors, problems)
    last = session.scalar(select(func.max(Passage.number)).where(Passage.lot_id == parent.id))
    return _open_lot(
        session,
        fin,
        parent.product_type,
        donor_id=parent.donor_id,
        tier=tier,
        parent_lot_id=parent.id,
        quarantined=parent.quarantined,
        autologous_only=parent.autologous_only,
        starting_pd=cumulative_pd(session, parent),
        first_passage=parent.first_passage if last is None else last + 1,
    )


def harvest_of(session: Session, lot: Lot) -> Harvest | None:
    return session.scalar(select(Harvest).where(Harvest.lot_id == lot.id))


# --- the donor picker: typed or scanned codes, only donors a harvest may be recorded for ---------------

PICKER_LIMIT = 10


@dataclass(frozen=True)
class DonorChoice:
    id: int
    code: str
    status: str
    usable: bool
    note: str  # why not (refused), or what follows (quarantine, autologous use only)


def _choice(donor: Donor) -> DonorChoice:
    decision = check_harvest_allowed(donor.status, donor.is_autologous, donor.under_lookback)
    if not decision.allowed:
        # Read during the request: every reason in the reader's language, joined.
        note = " ".join(localize(p.message) for p in decision.problems)
    elif decision.autologous_only:
        note = t("autologous: for autologous use only")
    elif decision.quarantined:
        note = t("eligibility not signed yet: the lot will be quarantined")
    else:
        note = t("eligible")
    return DonorChoice(donor.id, donor.code, donor.status, decision.allowed, note)


def harvest_donor_choices(session: Session, q: str, limit: int = PICKER_LIMIT) -> list[DonorChoice]:
    """Donors whose code contains `q` (a scanned code matches itself), usable first, each with whether a
    harvest may be recorded for it and why not. Ineligible and look-back donors are returned disabled."""
    q = "".join((q or "").split()).upper()[:20]
    if not q:
        return []
    found = session.scalars(
        select(Donor)
        .where(Donor.code.like(like_pattern(q), escape=LIKE_ESCAPE))
        .order_by(Donor.code != q, Donor.code)
        .limit(limit)
    )
    return sorted((_choice(d) for d in found), key=lambda c: (c.code != q, not c.usable, c.code))


def record_harvest_for_code(session: Session, *, donor_code: str | None, **fields) -> Lot:
    """record_harvest for the donor typed or scanned on the screen: every refusal about the donor is said
    next to the donor code."""
    code = "".join((donor_code or "").split()).upper()
    donor = session.scalar(select(Donor).where(Donor.code == code)) if code else None
    if donor is None:
        raise Refused(
            {
                "donor_code": t("No registered donor has the code %(code)s.", code=code)
                if code
                else t("Required.")
            }
        )
    try:
        return record_harvest(session, donor_id=donor.id, **fields)
    except Refused as refused:
        errors = {("donor_code" if k == "donor_id" else k): v for k, v in refused.errors.items()}
        problems = [replace(p, field="donor_code") if p.field == "donor_id" else p for p in refused.problems]
        raise Refused(errors, problems) from None
