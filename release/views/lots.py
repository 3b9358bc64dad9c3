"""QC of a lot: the queue, the lot's QC page (results, verdicts, blockers), entering and verifying
results, retests, QA release and rejection."""

from __future__ import annotations

import re

from flask import abort, g, redirect, render_template, request, url_for
from sqlalchemy import case, func, select
from sqlalchemy.orm import selectinload

from bank.i18n import N_, localize, t
from bank.languages import flash
from bank.lists import EXPORT_LIMIT, SortColumn, by_status, csv_download, shown_status, sorting, wants_csv
from bank.models import User
from bank.status import status_history
from bank.web import LIKE_ESCAPE, can, db, get_or_404, like_pattern, paginate, posted, requires, work
from lots.blueprint import of_product, product_keys
from lots.models import Lot
from lots.states import LOT_WORKFLOW
from release import services
from release.blueprint import bp, typed_markers, typed_numbers, typed_result
from release.forms import RejectForm, ReleaseForm, ResultForm
from release.models import LateResultAlert, TestResult
from release.reports import coa_digest, result_text
from release.rules import MarkerPanelTest, NumericTest, QualitativeTest, name_of
from release.views.entries import result_page


def _queue_counts(ids: list[int]) -> dict[int, tuple[int, int, int, int]]:
    """(results, verified, out of spec, open alerts) of each lot: two grouped queries, not two per lot."""
    if not ids:
        return {}
    current = TestResult.superseded_by_id.is_(None) & TestResult.voided_at.is_(None)
    rows = (
        db()
        .execute(
            select(
                TestResult.lot_id,
                func.count(),
                func.sum(case((TestResult.verified_at.is_not(None), 1), else_=0)),
                func.sum(case((TestResult.verdict == "fail", 1), else_=0)),
            )
            .where(TestResult.lot_id.in_(ids), current)
            .group_by(TestResult.lot_id)
        )
        .all()
    )
    alerts = dict(
        db()
        .execute(
            select(LateResultAlert.lot_id, func.count())
            .where(LateResultAlert.lot_id.in_(ids), LateResultAlert.status == "open")
            .group_by(LateResultAlert.lot_id)
        )
        .all()
    )
    counts = {i: (0, 0, 0, alerts.get(i, 0)) for i in ids}
    counts.update(
        {
            lot_id: (n, verified or 0, failed or 0, alerts.get(lot_id, 0))
            for lot_id, n, verified, failed in rows
        }
    )
    return counts


QUEUE_COLUMNS = (
    SortColumn("din", N_("DIN"), Lot.din),
    SortColumn("status", N_("Status"), Lot.status),
)


@bp.route("/")
@requires("release.view")
def index():
    """The release queue: lots awaiting QC by default; any lot status, DIN search, product filter."""
    q = re.sub(r"[^A-Z0-9]", "", request.args.get("q", "").upper())[:20]  # a DIN has letters and digits only
    product = request.args.get("product", "")[:40]
    stmt = select(Lot).order_by(Lot.id.desc())
    if q:
        stmt = stmt.where(Lot.din.like(like_pattern(q), escape=LIKE_ESCAPE))
    stmt, status = by_status(stmt, Lot.status, LOT_WORKFLOW.states, "awaiting_qc")
    stmt = of_product(stmt, product)
    order = sorting(*QUEUE_COLUMNS)
    stmt = order.apply(stmt, Lot.id)
    if wants_csv():  # the columns the queue shows, every lot as filtered
        lots = list(db().scalars(stmt.options(selectinload(Lot.product_type)).limit(EXPORT_LIMIT)))
        rows = []
        for start in range(0, len(lots), 500):  # counted 500 lots at a time
            chunk = lots[start : start + 500]
            counts = _queue_counts([lot.id for lot in chunk])
            for lot in chunk:
                c = counts[lot.id]
                words = shown_status(lot.status, LOT_WORKFLOW)
                if lot.quarantined:
                    words += " " + localize(t("quarantined"))
                product = f"{lot.product_type.key} v{lot.product_type.version}"
                rows.append((lot.din, product, words, *c))
        header = ("din", "product", "status", "results", "verified", "out_of_spec", "open_alerts")
        return csv_download("release-queue.csv", header, rows)
    page = paginate(stmt)
    counts = _queue_counts([lot.id for lot in page.items])
    keys = product_keys()
    return render_template(
        "release/index.html",
        page=page,
        q=q,
        status=status,
        product=product,
        counts=counts,
        statuses=LOT_WORKFLOW.states,
        product_keys=keys,
        workflow=LOT_WORKFLOW,
        sorting=order,
    )


def _own_ids(form, prefix: str):
    """Both signing forms sit on one page: give their fields distinct ids, so a label click ticks the
    box of its own form (never 'I reject this lot' from the release form). Names stay the same."""
    for f in form:
        f.id = f"{prefix}-{f.name}"
        f.label.field_id = f.id
    return form


def _lot_page(lot: Lot, release_form=None, reject_form=None, refused=None):
    session = db()
    spec_row = services.lot_specification(session, lot)
    spec = spec_row.spec() if spec_row else None
    results = services.results_of(session, lot)
    current = {r.test_code: r for r in results if r.current}
    blockers, needs_conditional = None, False
    if can("lot.release") and lot.status == "awaiting_qc":
        # Shown before signing: what blocks even a conditional release, and whether only one is possible.
        blockers = services.release_problems(session, lot, g.user.id, conditional=True)
        needs_conditional = not blockers and bool(services.release_problems(session, lot, g.user.id, False))
    history = status_history(session, lot)
    record = services.release_record(session, lot)
    alerts = services.alerts_of(session, lot)
    return render_template(
        "release/lot.html",
        lot=lot,
        spec_row=spec_row,
        spec=spec,
        results=results,
        current=current,
        record=record,
        blockers=blockers,
        needs_conditional=needs_conditional,
        refused=refused,
        workflow=LOT_WORKFLOW,
        history=history,
        decision=services.decision_signature(session, lot),
        alerts=alerts,
        alert_messages={a.id: services.alert_text(session, a) for a in alerts},
        release_form=_own_ids(release_form or ReleaseForm(formdata=None), "release"),
        reject_form=_own_ids(reject_form or RejectForm(formdata=None), "reject"),
        acceptance_text=services.acceptance_text,
        result_text=result_text,
        users=_names(results),
        digest=coa_digest(session, lot) if record and record.decision else None,
        released=services.lot_is_released(session, lot),
        rereview=services.decision_rereview(session, lot, record),
    )


def _names(results: list[TestResult]) -> dict[int, str]:
    ids = {i for r in results for i in (r.entered_by_id, r.verified_by_id, r.voided_by_id) if i}
    return {u.id: u.full_name for u in db().scalars(select(User).where(User.id.in_(ids)))} if ids else {}


@bp.route("/lots/<int:lot_id>")
@requires("release.view")
def lot(lot_id: int):
    return _lot_page(get_or_404(Lot, lot_id))


def _form_for(lot: Lot, spec, test_code: str, retest: TestResult | None) -> ResultForm:
    form = ResultForm()
    form.test_code.choices = [(test.code, name_of(test)) for test in spec.tests] if spec else []
    if request.method == "GET":
        form.test_code.data = retest.test_code if retest else test_code
        chosen = spec.get_test(form.test_code.data or "") if spec else None
        if isinstance(chosen, NumericTest):
            form.unit.data = chosen.unit
        elif isinstance(chosen, MarkerPanelTest):
            form.unit.data = "%"
        if retest:
            form.retest_of.data = str(retest.id)
    return form


@bp.route("/lots/<int:lot_id>/results/new", methods=["GET", "POST"])
@requires("result.enter")
def enter_result(lot_id: int):
    lot = get_or_404(Lot, lot_id)
    session = db()
    spec_row = services.lot_specification(session, lot)
    if spec_row is None:
        # A new installation has no specification yet: store the seed ones on first use.
        with work("seed release specifications"):
            services.ensure_seed_specifications(session)
        spec_row = services.lot_specification(session, lot)
    spec = spec_row.spec() if spec_row else None
    retest_id = request.values.get("retest_of", type=int)
    retest = session.get(TestResult, retest_id) if retest_id else None
    if retest is not None and retest.lot_id != lot.id:
        abort(404)
    form = _form_for(lot, spec, request.args.get("test", ""), retest)
    test = spec.get_test(form.test_code.data or "") if spec else None
    markers = typed_markers(test)

    def enter():
        upload = None
        if form.attachment.data and form.attachment.data.filename:
            file = form.attachment.data
            upload = services.Upload(
                file.filename, file.mimetype or "", file.read(services.MAX_ATTACHMENT_BYTES + 1)
            )
        return services.enter_result(
            session,
            lot,
            test_code=form.test_code.data,
            **typed_result(form, test),
            markers=typed_numbers(markers),
            attachment=upload,
            retest_of_id=retest.id if retest else None,
            retest_reason=form.retest_reason.data,
        )

    done = posted(form, enter, form.retest_reason.data if retest else "result entered")
    if done.ok:
        result = done.value
        judged = services.verdict_of(test, result)
        verdict = judged.message if judged else result.verdict_message
        if result.verdict == "fail":
            message = t(
                "Result #%(ref)s recorded: %(verdict)s OUT OF SPECIFICATION. It needs a second person's "
                "verification.",
                ref=result.id,
                verdict=verdict,
            )
        else:
            message = t(
                "Result #%(ref)s recorded: %(verdict)s It needs a second person's verification.",
                ref=result.id,
                verdict=verdict,
            )
        flash(message, "danger" if result.verdict == "fail" else "success")
        return redirect(url_for("release.lot", lot_id=lot.id))
    suggestions = []
    if isinstance(test, QualitativeTest):
        # Controlled terms are typed in the reader's language too (stored in English); a specification
        # without terms compares the English text, so its values are suggested as stored.
        suggestions = [localize(term.term) for term in test.terms] or [
            test.expected,
            *test.accepted,
            *test.conditional,
        ]
    return result_page(
        "release/result_form.html",
        lot,
        form,
        test,
        markers,
        spec_row=spec_row,
        suggestions=suggestions,
        retest=retest,
        retest_verdict=_verdict_message(spec, retest),
    )


def _verdict_message(spec, result: TestResult | None):
    """A recorded result's verdict in the reader's language (judged again; the stored English otherwise)."""
    if result is None:
        return None
    judged = services.verdict_of(spec.get_test(result.test_code) if spec else None, result)
    return judged.message if judged else result.verdict_message


def _decided(lot: Lot, form, decide, reason: str, said: str, category: str, form_name: str):
    """QA's signed decision (release or rejection) posted from the lot's QC page: `said` on the page it goes
    back to; refused, the page again with every reason above the form (`form_name` on the page)."""
    done = posted(form, decide, reason)
    if not done.ok:
        return _lot_page(lot, refused=done.problems, **{form_name: form})
    flash(said, category)
    return redirect(url_for("release.lot", lot_id=lot.id))


@bp.route("/lots/<int:lot_id>/release", methods=["POST"])
@requires("lot.release")
def release(lot_id: int):
    lot = get_or_404(Lot, lot_id)
    form = ReleaseForm()
    return _decided(
        lot,
        form,
        lambda: services.release_lot(db(), lot, g.user, form.signature_password.data, form.conditional.data),
        "lot released",
        t("Lot %(din)s released for clinical use.", din=lot.din),
        "success",
        "release_form",
    )


@bp.route("/lots/<int:lot_id>/reject", methods=["POST"])
@requires("lot.release")
def reject(lot_id: int):
    lot = get_or_404(Lot, lot_id)
    form = RejectForm()
    return _decided(
        lot,
        form,
        lambda: services.reject_lot(db(), lot, g.user, form.signature_password.data, form.reason.data),
        form.reason.data,
        t("Lot %(din)s rejected.", din=lot.din),
        "warning",
        "reject_form",
    )
