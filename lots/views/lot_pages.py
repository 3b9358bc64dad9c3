"""Lot pages: the list with search and filters, opening lots (harvest, placebo, derived), the lot page,
genealogy both ways, containers and product types."""

from __future__ import annotations

from pathlib import Path

from flask import Response, g, jsonify, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bank.clock import as_utc
from bank.esign import signature_valid, signatures_for
from bank.forms import entered
from bank.i18n import N_, localize, t
from bank.languages import flash, number_text
from bank.lists import Export, SortColumn, by_status, listed, whole_table
from bank.models import User
from bank.status import status_history
from bank.web import LIKE_ESCAPE, can, db, get_or_404, like_pattern, posted, requires, work
from donors.models import Donor
from lots import services
from lots.blueprint import back_to_lot, bp, fin, form_page, of_product, offer_materials, product_keys
from lots.forms import DeriveLotForm, HarvestForm, PlaceboLotForm, ReasonForm
from lots.growth import growth_curve
from lots.models import Container, Lot, ProductType
from lots.models.lots import TIERS
from lots.services.deviations import closing_signature
from lots.services.harvest import TISSUE_WORDS
from lots.services.products import product_types_missing
from lots.services.storage import storage_events
from lots.states import LOT_STATUSES, LOT_WORKFLOW, STORABLE


def _ensure_products() -> None:
    # A new installation has no product types yet: seed the catalogue on first use.
    if product_types_missing(db()):
        with work("seed product types"):
            services.seed_product_types(db())


LOT_COLUMNS = (
    SortColumn("din", N_("DIN"), Lot.din),
    SortColumn("tier", N_("Tier"), Lot.tier),
    SortColumn("status", N_("Status"), Lot.status),
    SortColumn("opened", N_("Opened"), Lot.created_at),
)
LOT_EXPORT = Export(
    "lots.csv",
    ("din", "product", "product_version", "tier", "status", "opened_utc"),
    lambda lot: (
        lot.din,
        lot.product_type.key,
        lot.product_type.version,
        lot.tier,
        lot.status,
        lot.created_at,
    ),
    load=(selectinload(Lot.product_type),),
)


@bp.route("/")
@requires("lot.view")
def index():
    q = request.args.get("q", "").strip().upper()[:20]
    tier, product = request.args.get("tier", ""), request.args.get("product", "")
    stmt = select(Lot).order_by(Lot.id.desc())
    if q:
        stmt = stmt.where(Lot.din.like(like_pattern("".join(q.split())), escape=LIKE_ESCAPE))
    stmt, status = by_status(stmt, Lot.status, LOT_STATUSES)
    if tier in TIERS:
        stmt = stmt.where(Lot.tier == tier)
    stmt = of_product(stmt, product)
    # Keyset pages (bank.web.paginate): Next reads after the last id shown, not OFFSET over 20,000 lots
    # (in the list's own order, newest first; another order chosen in a header pages by OFFSET).
    order, page = listed(stmt, LOT_COLUMNS, Lot.id, LOT_EXPORT, keyset=Lot.id)
    keys = product_keys()
    return render_template(
        "lots/index.html",
        page=page,
        sorting=order,
        q=q,
        status=status,
        tier=tier,
        product=product,
        statuses=LOT_STATUSES,
        tiers=TIERS,
        product_keys=keys,
        workflow=LOT_WORKFLOW,
    )


@bp.route("/harvest", methods=["GET", "POST"])
@requires("lot.edit")
def harvest():
    _ensure_products()
    form = HarvestForm()
    form.product_type_id.choices = [(0, t("— choose —"))] + [
        (p.id, p.label) for p in services.active_product_types(db(), placebo=False)
    ]
    offer_materials(form)
    # The form's fields are named as the service's parameters (the donor by its code on the screen); the
    # time typed on the facility's clock is stored in UTC.
    done = posted(
        form,
        lambda: services.record_harvest_for_code(
            db(),
            fin=fin(),
            **entered(form, "donor_id", "collected_at"),
            collected_at=as_utc(form.collected_at.data),
        ),
        "harvest recorded",
    )
    if done.ok:
        lot = done.value
        if lot.quarantined:
            message = t(
                "Harvest recorded: lot %(din)s %(check)s opened. It is quarantined until the donor's "
                "eligibility is signed.",
                din=lot.din,
                check=lot.check_char,
            )
        else:
            message = t("Harvest recorded: lot %(din)s %(check)s opened.", din=lot.din, check=lot.check_char)
        flash(message, "success")
        return back_to_lot(lot.id)
    typed = services.harvest_donor_choices(db(), form.donor_code.data or "", 1)
    typed = typed[0] if typed and typed[0].code == (form.donor_code.data or "").strip().upper() else None
    return render_template(
        "lots/harvest.html",
        form=form,
        typed=typed,
        typed_hint=donor_hint(typed) if typed else "",
        title=t("Record a harvest"),
        intro=t("Opens a lot with a new ISBT 128 DIN. Type or scan the donor code."),
    )


def donor_hint(choice) -> str:
    """What the harvest form says next to the donor code about the donor typed (same words on the page
    and from the picker's script), in the reader's language."""
    if choice.usable:
        return localize(t("%(code)s: %(note)s", code=choice.code, note=choice.note))
    return localize(t("%(code)s: not offered — %(note)s", code=choice.code, note=choice.note))


@bp.route("/harvest/donors")
@requires("lot.edit")
def harvest_donors():
    """The donor picker: JSON list of donors whose code contains ?q=, each with whether a harvest may be
    recorded for it and why not (ineligible and look-back donors come back disabled)."""
    q = request.args.get("q", "")
    choices = services.harvest_donor_choices(db(), q)
    typed = "".join(q.split()).upper()
    return jsonify(
        {
            "items": [
                {
                    "id": c.id,
                    "code": c.code,
                    "status": c.status,
                    "usable": c.usable,
                    "note": localize(c.note),
                    "hint": donor_hint(c),
                }
                for c in choices
            ],
            # What the script says when nothing matches what was typed.
            "none": localize(t("No donor code contains %(code)s.", code=typed)) if typed else "",
        }
    )


@bp.route("/placebo", methods=["GET", "POST"])
@requires("lot.edit")
def new_placebo():
    _ensure_products()
    form = PlaceboLotForm()
    form.product_type_id.choices = [
        (p.id, p.label) for p in services.active_product_types(db(), placebo=True)
    ]
    done = posted(
        form,
        lambda: services.create_placebo_lot(db(), fin=fin(), product_type_id=form.product_type_id.data),
        "placebo lot opened",
    )
    if done.ok:
        lot = done.value
        flash(t("Placebo lot %(din)s %(check)s opened.", din=lot.din, check=lot.check_char), "success")
        return back_to_lot(lot.id)
    return form_page(
        form,
        t("New placebo lot"),
        intro=t(
            "Suspension media for blinded trials: no donor, no culture; formulate it into containers like "
            "a dose lot."
        ),
    )


@bp.route("/<int:lot_id>/derive", methods=["GET", "POST"])
@requires("lot.edit")
def derive(lot_id: int):
    parent = get_or_404(Lot, lot_id)
    form = DeriveLotForm()
    done = posted(
        form,
        lambda: services.derive_lot(db(), parent, fin=fin(), tier=form.tier.data),
        f"lot derived from {parent.din}",
    )
    if done.ok:
        lot = done.value
        flash(t(DERIVED_OPENED[lot.tier], din=lot.din, check=lot.check_char, parent=parent.din), "success")
        return back_to_lot(lot.id)
    intro = t("The new lot carries the donor, product, quarantine and cumulative PD of its parent.")
    return form_page(form, t("Derive a lot from %(din)s", din=parent.din), parent, intro=intro)


# What opening a derived lot says, by its tier (one whole sentence each).
DERIVED_OPENED = {
    "master": N_("Master lot %(din)s %(check)s opened from %(parent)s."),
    "working": N_("Working lot %(din)s %(check)s opened from %(parent)s."),
    "dose": N_("Dose lot %(din)s %(check)s opened from %(parent)s."),
}


@bp.route("/<int:lot_id>")
@requires("lot.view")
def show(lot_id: int):
    session = db()
    lot = get_or_404(Lot, lot_id)
    history = status_history(session, lot)
    deviations = [(d, closing_signature(session, d)) for d in services.deviations_of(session, lot)]
    actions = [
        a for a in services.actions_of(session, lot, g.actor.permissions) if can(ACTION_PERMISSION[a.key])
    ]
    corrections = services.corrections_of(session, lot)
    lines, harvest = services.passage_lines(session, lot), services.harvest_of(session, lot)
    return render_template(
        "lots/show.html",
        lot=lot,
        workflow=LOT_WORKFLOW,
        history=history,
        actions=actions,
        harvest=harvest,
        isolation=services.isolation_of(session, lot),
        isolations=services.isolation_history(session, lot),
        lines=lines,
        history_passages=services.passage_history(session, lot),
        corrections=corrections,
        correction_of={(c.kind, c.original_id): c for c in corrections},
        replaced_by={(c.kind, c.replacement_id): c for c in corrections if c.replacement_id},
        users=_names(session, corrections),
        cumulative=services.cumulative_pd(session, lot),
        growth=growth_curve(session, lot, lines, harvest),
        unverified=services.unverified_entries(session, lot),
        containers=services.containers_of(session, lot),
        deviations=deviations,
        open_deviations=services.open_deviations(session, lot),
        materials=services.material_uses(session, lot),
        signatures=[(s, None) for s in signatures_for(session, "lots", lot.id)],
        donor=session.get(Donor, lot.donor_id) if lot.donor_id else None,
        children=session.scalars(select(Lot).where(Lot.parent_lot_id == lot.id)).all(),
        reason_form=ReasonForm(),
        signature_valid=signature_valid,
        tissue_words=TISSUE_WORDS,
    )


# Who may take each action of the lot page: an action is listed only for people allowed to take it.
ACTION_PERMISSION = {
    "isolation": "lot.edit",
    "passage": "lot.edit",
    "formulate": "lot.edit",
    "submit": "lot.edit",
    "hold": "lot.hold",
    "lift_hold": "lot.hold",
    "derive": "lot.edit",
}


def _names(session, corrections) -> dict[int, str]:
    ids = {i for c in corrections for i in (c.requested_by_id, c.confirmed_by_id) if i}
    if not ids:
        return {}
    return {u.id: u.full_name for u in session.scalars(select(User).where(User.id.in_(ids)))}


@bp.route("/<int:lot_id>/genealogy")
@requires("lot.view")
def genealogy(lot_id: int):
    lot = get_or_404(Lot, lot_id)
    return render_template(
        "lots/genealogy.html",
        lot=lot,
        ancestors=services.lineage(db(), lot)[1:],
        tree=services.lot_tree(db(), lot),
    )


@bp.route("/donors/<int:donor_id>")
@requires("lot.view")
def donor_genealogy(donor_id: int):
    donor = get_or_404(Donor, donor_id)
    return render_template(
        "lots/donor_genealogy.html", donor=donor, trees=services.donor_tree(db(), donor.id)
    )


@bp.route("/containers/<int:container_id>")
@requires("lot.view")
def container(container_id: int):
    item = get_or_404(Container, container_id)
    return render_template(
        "lots/container.html",
        container=item,
        trace=services.trace_container(db(), item),
        events=storage_events(db(), item),
        history=status_history(db(), item),
        storable=STORABLE,
        tissue_words=TISSUE_WORDS,
    )


PRODUCT_COLUMNS = (
    SortColumn("key", N_("Key"), ProductType.key),
    SortColumn("name", N_("Name"), ProductType.name),
    SortColumn("status", N_("Status"), ProductType.status),
)


PRODUCT_EXPORT = Export(  # the table as shown
    "product-types.csv",
    (
        "key",
        "version",
        "name",
        "trials",
        "source",
        "origin",
        "max_passage",
        "max_cumulative_pd",
        "shelf_life_days",
        "storage",
        "isbt_128_code",
        "status",
    ),
    lambda p: (
        p.key,
        p.version,
        localize(p.name),
        p.trials,
        localize(p.source.replace("_", " ")),
        localize(p.origin),
        f"P{p.max_passage}",
        number_text(p.max_cumulative_pd),
        number_text(p.shelf_life_days),
        localize(p.storage_temperature),
        f"{p.isbt_code}{p.donation_type}",
        localize(p.status),
    ),
)


@bp.route("/products")
@requires("lot.view")
def products():
    stmt = select(ProductType).order_by(ProductType.key, ProductType.version.desc())
    order, rows = whole_table(stmt, PRODUCT_COLUMNS, ProductType.id, PRODUCT_EXPORT)
    return render_template("lots/products.html", products=rows, sorting=order)


def resolve_scan(session, scan):
    """Scan box: a DIN with a product code opens that container (matched by its division when the code
    is a blinded label's trial code); a DIN alone opens the lot, or its container when it has only one."""
    if not scan.din:
        return None
    lot = session.scalar(select(Lot).where(Lot.din == scan.din))
    if lot is None:
        return None
    containers = list(session.scalars(select(Container).where(Container.lot_id == lot.id)))
    if scan.product_code:
        found = [c for c in containers if c.product_code == scan.product_code] or [
            c for c in containers if c.division == scan.product_code[6:]
        ]
        return url_for("lots.container", container_id=found[0].id) if len(found) == 1 else None
    if len(containers) == 1:
        return url_for("lots.container", container_id=containers[0].id)
    return url_for("lots.show", lot_id=lot.id)


_ASSETS = Path(__file__).resolve().parents[1] / "assets"


@bp.route("/harvest/donor-picker.js")
@requires("lot.edit")
def donor_picker_js():
    """The harvest form's donor picker script (served here: the security policy allows scripts from this
    site only, never inline)."""
    return Response((_ASSETS / "donor_picker.js").read_text(), mimetype="text/javascript")
