"""Bench entries of a lot's QC (issue 18): the whole panel on one page, a correction that keeps the
original, and the void of a result entered in error; each a thin form → service → redirect."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for

from bank.i18n import localize, t
from bank.languages import flash
from bank.web import attempt, db, get_or_404, posted, requires, submitted, work
from lots.models import Lot
from release import services
from release.blueprint import bp, typed_markers, typed_number, typed_numbers, typed_result
from release.forms import ROW_ERROR_SLOTS, ROW_FIELDS, CorrectResultForm, VoidResultForm, panel_form
from release.models import TestResult
from release.reports import result_text
from release.rules import MarkerPanelTest, NumericTest


def _row(test, form) -> services.PanelRow:
    """A test's row as typed; method, instrument fall back to the panel's shared ones."""
    data = {name: (form[f"{test.code}__{name}"].data or "").strip() for name in ROW_FIELDS}
    markers = {}
    if isinstance(test, MarkerPanelTest):
        markers = {
            m: request.form.get(f"{test.code}__m_{m}", "").strip()[:20]
            for rule in test.rules
            for m in rule.markers
        }
    return services.PanelRow(
        method=data["method"] or (form.method.data or "").strip(),
        instrument=data["instrument"] or (form.instrument.data or "").strip(),
        performed_on=form.performed_on.data,
        value=typed_number(data["value"]) if isinstance(test, NumericTest) else data["value"],
        unit="%" if isinstance(test, MarkerPanelTest) else data["unit"],
        markers=typed_numbers(markers),
    )


@bp.route("/lots/<int:lot_id>/panel", methods=["GET", "POST"])
@requires("result.enter")
def enter_panel(lot_id: int):
    """Every test of the lot's specification without a current result, on one page; the filled rows are
    stored together or not at all, every row's errors shown next to it."""
    lot = get_or_404(Lot, lot_id)
    session = db()
    if services.lot_specification(session, lot) is None:
        with work("seed release specifications"):  # a new installation stores the seed ones on first use
            services.ensure_seed_specifications(session)
    current = {r.test_code for r in services.results_of(session, lot) if r.current}
    tests = [test for test in services.panel_rows(session, lot) if test.code not in current]
    form = panel_form([test.code for test in tests])
    if request.method == "GET":
        for test in tests:
            form[f"{test.code}__unit"].data = getattr(test, "unit", "") or ""
    if form.validate_on_submit():
        rows = {test.code: _row(test, form) for test in tests}
        done = attempt(
            form,
            lambda: services.enter_panel(
                session, lot, rows, confirm_out_of_specification=form.confirm_out_of_specification.data
            ),
            "QC panel entered",
        )
        if done.ok:
            flash(
                t(
                    "%(count)s result(s) recorded; each needs a second person's verification.",
                    count=len(done.value),
                ),
                "success",
            )
            return redirect(url_for("release.lot", lot_id=lot.id))
    oos = any(form[f"{test.code}__confirm_out_of_specification"].errors for test in tests)
    return render_template(
        "release/panel.html",
        lot=lot,
        form=form,
        tests=tests,
        slots=ROW_ERROR_SLOTS,
        oos=oos or bool(form.confirm_out_of_specification.data),
        acceptance_text=services.acceptance_text,
    )


def _own_result(result_id: int) -> tuple[TestResult, Lot]:
    result = get_or_404(TestResult, result_id)
    return result, get_or_404(Lot, result.lot_id)


@bp.route("/results/<int:result_id>/correct", methods=["GET", "POST"])
@requires("result.enter")
def correct_result(result_id: int):
    """Correct a result typed wrongly: the original stays, struck through, with who, when and why."""
    result, lot = _own_result(result_id)
    spec_row = services.lot_specification(db(), lot)
    test = spec_row.spec().get_test(result.test_code) if spec_row else None
    if test is None:
        abort(404)
    form = CorrectResultForm()
    markers = typed_markers(test)
    if request.method == "GET":
        form.method.data, form.instrument.data = result.method, result.instrument
        form.performed_on.data, form.unit.data = result.performed_on, result.unit
        if isinstance(test, MarkerPanelTest):
            markers = {k: str(v) for k, v in result.parsed_value().items()}
        else:
            form.value.data = result.value
    done = posted(
        form,
        lambda: services.correct_result(
            db(),
            result,
            reason=form.reason.data,
            **typed_result(form, test),
            markers=typed_numbers(markers) or None,
        ),
        form.reason.data,
    )
    if done.ok:
        flash(
            t(
                "Result #%(ref)s corrected by #%(correction)s; the correction needs a second person's "
                "verification.",
                ref=result.id,
                correction=done.value.id,
            ),
            "success",
        )
        return redirect(url_for("release.lot", lot_id=lot.id))
    return result_page("release/correct.html", lot, form, test, markers, result=result)


def result_page(template: str, lot: Lot, form, test, markers: dict[str, str], **page):
    """A form of one result of a lot (entry or correction): the marker values typed, their errors in one
    line, and how results and acceptance criteria read."""
    return render_template(
        template,
        lot=lot,
        form=form,
        test=test,
        markers=markers,
        marker_error=" ".join(localize(e) for e in form.markers.errors),
        result_text=result_text,
        acceptance_text=services.acceptance_text,
        **page,
    )


@bp.route("/results/<int:result_id>/void", methods=["GET", "POST"])
@requires("result.enter")
def void_result(result_id: int):
    """Void a result entered in error (before its verification, by its author)."""
    result, lot = _own_result(result_id)
    form = VoidResultForm()
    if submitted(form, lambda: services.void_result(db(), result, form.reason.data), form.reason.data):
        flash(t("Result #%(ref)s voided; it stays on record.", ref=result.id), "warning")
        return redirect(url_for("release.lot", lot_id=lot.id))
    return render_template("release/void.html", lot=lot, form=form, result=result, result_text=result_text)
