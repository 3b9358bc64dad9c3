"""Criteria set versions: list, view, draft a new version from an existing one, review and activate
with QA signatures, and see what a version would decide for every donor."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, url_for
from sqlalchemy import select

from bank.esign import SignatureError, signature_valid, signatures_for
from bank.status import TransitionRefused
from bank.web import db, get_or_404, requires, work
from donors import forms, queries
from donors.criteria_sets import (
    CriteriaError,
    activate_version,
    content_for_signature,
    draft_new_version,
    editable_thresholds,
    parse,
    retire_draft,
    review_version,
)
from donors.determination import reevaluate_all
from donors.models import CriteriaSetVersion
from donors.views import active_criteria, bp, refuse


@bp.route("/criteria")
@requires("donor.view")
def criteria_index():
    active_criteria()
    versions = db().scalars(select(CriteriaSetVersion).order_by(CriteriaSetVersion.name,
                                                                CriteriaSetVersion.number.desc())).all()
    return render_template("donors/criteria_index.html", versions=versions)


@bp.route("/criteria/<int:version_id>")
@requires("donor.view")
def criteria_show(version_id: int):
    row = get_or_404(CriteriaSetVersion, version_id)
    sigs = [(s, signature_valid(s, content_for_signature(row))) for s in signatures_for(db(), row.__tablename__, row.id)]
    return render_template("donors/criteria_show.html", row=row, cs=parse(row), signatures=sigs,
                           history=queries.status_history(db(), row), sign_form=forms.SignForm(),
                           retire_form=forms.RetireForm())


@bp.route("/criteria/<int:version_id>/draft", methods=["GET", "POST"])
@requires("criteria.manage")
def criteria_draft(version_id: int):
    source = get_or_404(CriteriaSetVersion, version_id)
    cs = parse(source)
    thresholds = editable_thresholds(cs)
    form = forms.draft_form(thresholds, cs.sample_days_before, cs.sample_days_after)
    if form.validate_on_submit():
        values = {key: form[forms.threshold_field(key)].data for key, *_ in thresholds}
        try:
            with work("new criteria set version drafted"):
                row = draft_new_version(db(), source, values, form.window_before.data, form.window_after.data,
                                        form.note.data, g.user)
        except CriteriaError as e:
            errors = {forms.threshold_field(k) if "." in k else k: v for k, v in e.errors.items()}
            refuse(form, CriteriaError(errors))
        else:
            flash(f"Draft {row.label} created; another QA person reviews it.", "success")
            return redirect(url_for("donors.criteria_show", version_id=row.id))
    return render_template("donors/form.html", form=form, title=f"New version from {source.label}",
                           donor=None, submit="Create draft",
                           intro="Thresholds only; the list of criteria and markers stays that of the source.")


@bp.route("/criteria/<int:version_id>/<step>", methods=["POST"])
@requires("criteria.manage")
def criteria_step(version_id: int, step: str):
    row = get_or_404(CriteriaSetVersion, version_id)
    if step not in ("review", "activate", "retire"):
        abort(404)
    form = forms.RetireForm() if step == "retire" else forms.SignForm()
    if form.validate_on_submit():
        try:
            with work(form.reason.data if step == "retire" else None):
                if step == "review":
                    review_version(db(), row, g.user, form.signature_password.data)
                elif step == "activate":
                    activate_version(db(), row, g.user, form.signature_password.data)
                else:
                    retire_draft(db(), row, form.reason.data)
        except (TransitionRefused, SignatureError) as e:
            refuse(form, e)
        else:
            flash(f"{row.label}: {row.status}.", "success")
            return redirect(url_for("donors.criteria_show", version_id=row.id))
    messages = [e for f in form for e in f.errors] + list(form.form_errors)
    for message in messages:
        flash(f"{step.capitalize()} refused: {message}", "danger")
    return redirect(url_for("donors.criteria_show", version_id=row.id))


@bp.route("/criteria/<int:version_id>/reevaluate")
@requires("donor.determine")
def criteria_reevaluate(version_id: int):
    row = get_or_404(CriteriaSetVersion, version_id)
    return render_template("donors/reevaluate.html", row=row, results=reevaluate_all(db(), row))
