"""Pages of labels and chain of custody: the custody list, one page per dose (label printing, the
custody timeline with both signatures of every event, the 'record next event' form with the scan
field, the custody report and its digest check), and container labels for a scanned container."""

from __future__ import annotations

from flask import Flask, Response, g, redirect, render_template, request, url_for
from sqlalchemy import bindparam, func, select

from bank.clock import utcnow
from bank.i18n import N_, localize, t
from bank.languages import flash
from bank.lists import ExportedBy, SortColumn, csv_download, listed, shown_status, shown_time
from bank.refusals import Refused
from bank.web import (
    LIKE_ESCAPE,
    apply_errors,
    db,
    get_or_404,
    inline_pdf,
    like_pattern,
    posted,
    requires,
    submitted,
)
from doses import services as dose_services
from doses.blueprint import dose_shown, is_masked, log_unblinded_view
from doses.custody import reports, services
from doses.custody.blueprint import bp, facility, facility_zone, log_labels_printed
from doses.custody.forms import (
    CustodyEventForm,
    DigestCheckForm,
    LabelPrintForm,
    LoggerFileForm,
    event_details,
)
from doses.custody.models import CustodyEvent
from doses.custody.states import KINDS
from doses.custody.temperature import temperature_record
from doses.models import Allocation, Patient
from doses.reports import (
    container_label,
    dose_labels,
    labels_pdf,
    labels_zpl,
    packaging_for,
    validate_print,
)
from doses.states import ACTIVE_STATES, ALLOCATION_WORKFLOW
from doses.views.dose_pages import DOSE_EXPORT_LIMIT
from lots.models import Container


def init_app(app: Flask) -> None:
    from doses.custody import api  # noqa: F401  (API routes join the shared blueprint before it registers)

    app.register_blueprint(bp)
    app.extensions["bank.nav"].append((N_("Custody"), "custody.index", "dose.view"))


# Never the treatment or the containers' product: an order by them would tell a blinded reader the arms.
CUSTODY_COLUMNS = (
    SortColumn("subject", N_("Subject"), Patient.subject_id),
    SortColumn("number", N_("No."), Allocation.dose_number),
    SortColumn("planned", N_("Planned"), Allocation.planned_at),
    SortColumn("status", N_("Status"), Allocation.status),
)


def _last_events(ids: list[int]) -> dict[int, CustodyEvent]:
    """The last custody event of each dose: one query for them all, not one per dose."""
    if not ids:
        return {}
    newest = (
        select(CustodyEvent.allocation_id, func.max(CustodyEvent.sequence).label("seq"))
        .where(CustodyEvent.allocation_id.in_(ids))
        .group_by(CustodyEvent.allocation_id)
        .subquery()
    )
    rows = db().scalars(
        select(CustodyEvent).join(
            newest,
            (CustodyEvent.allocation_id == newest.c.allocation_id) & (CustodyEvent.sequence == newest.c.seq),
        )
    )
    return {e.allocation_id: e for e in rows}


@bp.route("/")
@requires("dose.view")
def index():
    """Doses on their way: allocated, issued or held, with the last custody event of each."""
    q = "".join(ch for ch in request.args.get("q", "") if ch.isprintable() and not ch.isspace()).upper()[:40]
    # The states as literals, so SQLite sees the condition of the partial index (migration 0009).
    active = bindparam("on_their_way", ACTIVE_STATES, expanding=True, literal_execute=True)
    stmt = (
        select(Allocation)
        .join(Patient, Allocation.patient_id == Patient.id)
        .where(Allocation.status.in_(active))
        .order_by(Allocation.planned_at, Allocation.id)
    )
    if q:
        stmt = stmt.where(Patient.subject_id.like(like_pattern(q), escape=LIKE_ESCAPE))
    order, page = listed(stmt, CUSTODY_COLUMNS, Allocation.id, ExportedBy(_custody_csv))
    last = _last_events([a.id for a in page.items])
    return render_template(
        "custody/index.html",
        page=page,
        q=q,
        last=last,
        kinds=KINDS,
        workflow=ALLOCATION_WORKFLOW,
        sorting=order,
    )


def _custody_csv(stmt):
    """What the list shows, every dose on its way as filtered; containers as the reader may read them
    (a blinded reader reads the protocol's product code, never the arm's)."""
    items = list(db().scalars(stmt.limit(DOSE_EXPORT_LIMIT)))
    rows = []
    for start in range(0, len(items), 500):
        chunk = items[start : start + 500]
        last = _last_events([a.id for a in chunk])
        for a in chunk:
            protocol = a.patient.protocol_version.protocol()
            containers = " | ".join(
                dose_services.container_text(protocol, c, g.actor.permissions) for c in a.containers
            )
            e = last.get(a.id)
            if e is None:
                event = localize(t("in storage"))
            else:
                event = f"{localize(KINDS[e.event].label)} {shown_time(e.occurred_at)}"
                if e.excursion:
                    event += " " + localize(t("excursion"))
            rows.append(
                (
                    a.id,
                    a.patient.subject_id,
                    a.patient.protocol_version.label,
                    a.dose_number,
                    shown_time(a.planned_at),
                    containers,
                    shown_status(a.status, ALLOCATION_WORKFLOW),
                    event,
                )
            )
    log_unblinded_view(list({a.patient.id: a.patient for a in items}.values()), "custody list export (CSV)")
    header = (
        "dose",
        "subject_id",
        "protocol",
        "dose_number",
        "planned",
        "containers",
        "status",
        "last_event",
    )
    return csv_download("custody.csv", header, rows)


def _page(
    allocation: Allocation,
    *,
    event_form=None,
    print_form=None,
    check_form=None,
    problems=None,
    digest_result=None,
    logger_form=None,
    code=200,
):
    session = db()
    events = services.custody_events(session, allocation)
    permitted = services.permitted_events(session, allocation)
    event_form = event_form or CustodyEventForm()
    files = services.logger_files_of(session, events)
    records = {e.id: temperature_record(files[e.id], e) for e in events if e.id in files}
    logger_form = logger_form or LoggerFileForm(formdata=None)
    logger_form.event_number.choices = [
        (e.sequence, f"{e.sequence}. {t(KINDS[e.event].label).localized()}")
        for e in events
        if e.id not in files
    ]
    event_form.event.choices = [(e, t(KINDS[e].label)) for e in permitted] or [("", t("no further event"))]
    return render_template(
        "custody/dose.html",
        **dose_shown(allocation, f"custody of dose #{allocation.id}"),
        containers=services.active_containers(allocation) or allocation.containers,
        events=events,
        valid={e.id: services.signatures_valid(e) for e in events},
        kinds=KINDS,
        permitted=permitted,
        state=services.custody_state(session, allocation),
        event_form=event_form,
        print_form=print_form or LabelPrintForm(formdata=None),
        check_form=check_form or DigestCheckForm(),
        problems=problems or [],
        digest_result=digest_result,
        records=records,
        logger_form=logger_form,
    ), code


@bp.route("/doses/<int:allocation_id>")
@requires("dose.view")
def dose(allocation_id: int):
    return _page(get_or_404(Allocation, allocation_id))


@bp.route("/doses/<int:allocation_id>/events", methods=["POST"])
@requires("custody.record")
def record(allocation_id: int):
    allocation = get_or_404(Allocation, allocation_id)
    form = CustodyEventForm()
    event = form.event.data
    done = posted(
        form,
        lambda: services.record_custody_event(
            db(), allocation, form.scanned_code.data, event, user=g.user, **event_details(form)
        ),
        f"custody: {KINDS[event].label.lower() if event in KINDS else 'unknown event'}",
    )
    if not done.ok:  # the form is shown again with every reason, whatever kind (422 as for invalid fields)
        return _page(db().get(Allocation, allocation_id), event_form=form, code=422)
    row = done.value
    if row.excursion:
        flash(
            t(
                "%(event)s recorded and signed by both people. Temperature excursion: the dose is ON HOLD "
                "until QA lifts the hold.",
                event=t(KINDS[row.event].label),
            ),
            "warning",
        )
    else:
        flash(t("%(event)s recorded and signed by both people.", event=t(KINDS[row.event].label)), "success")
    return redirect(url_for("custody.dose", allocation_id=allocation_id))


@bp.route("/doses/<int:allocation_id>/logger", methods=["POST"])
@requires("custody.record")
def attach_logger(allocation_id: int):
    """Attach the shipper's logger file to one event of the dose; a bad file is refused next to the field
    with every bad line named, and nothing is kept."""
    allocation = get_or_404(Allocation, allocation_id)
    form = LoggerFileForm()
    # The event by its number in the dose's chain (the record's own id is never shown: it would differ
    # between the arms of a blinded trial for no reason a user needs).
    event = db().scalar(
        select(CustodyEvent).where(
            CustodyEvent.allocation_id == allocation.id,
            CustodyEvent.sequence == (form.event_number.data or 0),
        )
    )
    if event is None:
        form.event_number.errors = [t("Choose an event of this dose.")]
        return _page(allocation, logger_form=form, code=422)
    upload = request.files.get("logger_file")
    if submitted(
        form,
        lambda: services.attach_logger_file(
            db(), event, upload.filename if upload else "", upload.read() if upload else b"", facility_zone()
        ),
        "logger file attached",
    ):
        flash(t("Logger file attached to event %(number)s.", number=event.sequence), "success")
        return redirect(url_for("custody.dose", allocation_id=allocation.id) + "#temperature")
    return _page(db().get(Allocation, allocation_id), logger_form=form, code=422)


def _print_request():
    """The posted label print form, with its problems by field (empty when valid); a missing or stale
    CSRF token is refused before this runs (bank.app)."""
    form = LabelPrintForm()
    errors = validate_print(form.size.data, form.copies.data, form.packaging.data)
    if form.output.data not in ("pdf", "zpl"):
        errors["output"] = t("Output must be PDF or ZPL.")
    if form.output.data == "zpl" and form.dpi.data not in ("203", "300"):
        errors["dpi"] = t("Printer resolution must be 203 or 300 dpi.")
    return form, errors


def _drawn_as(form: LabelPrintForm) -> dict:
    """How the print request asks its labels drawn, for dose and container labels alike."""
    return {
        "facility_name": facility(),
        "zone": facility_zone(),
        "show_utc": bool(form.show_utc.data),
        "packaging": packaging_for(form.size.data, form.packaging.data),
    }


def _send_labels(labels, form, name: str, record: tuple[str, int]) -> Response:
    copies = int(form.copies.data)
    zpl = form.output.data == "zpl"
    body = (
        labels_zpl(labels, form.size.data, copies, int(form.dpi.data))
        if zpl
        else labels_pdf(labels, form.size.data, copies)
    )
    log_labels_printed(
        *record,
        f"{len(labels)} × {copies} {form.size.data} {packaging_for(form.size.data, form.packaging.data)}"
        f" {form.output.data}" + (f" {form.dpi.data} dpi" if zpl else ""),
    )
    if zpl:
        return Response(
            body,
            mimetype="application/zpl",
            headers={"Content-Disposition": f"attachment; filename={name}-{form.dpi.data}dpi.zpl"},
        )
    return inline_pdf(body, f"{name}.pdf")


@bp.route("/doses/<int:allocation_id>/labels", methods=["POST"])
@requires("label.print")
def labels(allocation_id: int):
    allocation = get_or_404(Allocation, allocation_id)
    form, errors = _print_request()
    if errors:
        apply_errors(form, errors)
        return _page(allocation, print_form=form, code=422)
    name = f"labels-{allocation.patient.subject_id}-dose{allocation.dose_number}"
    try:
        data = dose_labels(db(), allocation, **_drawn_as(form))
        return _send_labels(data, form, name, ("allocations", allocation.id))
    except Refused as e:  # nothing printed: every reason on the dose's page
        shown = e.visible_to(g.actor.permissions)  # a blinded printer reads the neutral reason
        return _page(
            allocation,
            print_form=form,
            problems=[t("Label refused: %(reason)s", reason=m) for m in shown.messages()],
            code=e.status,
        )


@bp.route("/containers/<int:container_id>/labels", methods=["POST"])
@requires("label.print")
def container_labels(container_id: int):
    """The label of one container (e.g. found with the scan box): refused unless released and allocated."""
    container = get_or_404(Container, container_id)
    form, errors = _print_request()
    try:
        if errors:
            raise Refused(errors)
        data = [container_label(db(), container, **_drawn_as(form))]
        return _send_labels(
            data, form, f"label-{container.lot.din}-{container.product_code}", ("containers", container.id)
        )
    except Refused as e:
        return render_template(
            "custody/refused.html", container=container, problems=e.visible_to(g.actor.permissions).messages()
        ), e.status


@bp.route("/doses/<int:allocation_id>/report.pdf")
@requires("dose.view")
def report_pdf(allocation_id: int):
    allocation = get_or_404(Allocation, allocation_id)
    protocol = allocation.patient.protocol_version.protocol()
    masked = is_masked(protocol)
    body = reports.report_pdf(db(), allocation, facility(), masked, printed_at=utcnow())
    log_unblinded_view([allocation.patient], f"custody report of dose #{allocation.id}")  # once shown
    return inline_pdf(body, f"custody-{allocation.patient.subject_id}-dose{allocation.dose_number}.pdf")


@bp.route("/doses/<int:allocation_id>/report/check", methods=["POST"])
@requires("dose.view")
def check_report(allocation_id: int):
    allocation = get_or_404(Allocation, allocation_id)
    form = DigestCheckForm()
    if not form.validate_on_submit():
        return _page(allocation, check_form=form, code=422)
    kind = reports.digest_check(db(), allocation, form.digest.data)
    result = ("matches" if kind else "does not match", kind)
    return _page(allocation, check_form=form, digest_result=result)
