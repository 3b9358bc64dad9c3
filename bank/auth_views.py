"""Sign in, sign out, password change."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for

from bank.forms import ChangePasswordForm, LoginForm
from bank.uow import Actor, unit_of_work
from bank.users import UserError, authenticate, change_password
from bank.web import AUTHENTICATED_VIEW, apply_errors, db, public, requires, work

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    # Only local paths: never redirect a user to another site after login.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("home.index")


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    form = LoginForm()
    if form.validate_on_submit():
        attempt = Actor(None, f"login attempt as '{form.username.data.strip().lower()[:64]}'")
        with unit_of_work(db(), attempt):
            outcome = authenticate(db(), form.username.data, form.password.data,
                                   current_app.config["MAX_FAILED_LOGINS"])
        if outcome.user is None:
            form.password.errors = [outcome.message]
            return render_template("auth/login.html", form=form), 401
        session.clear()
        session["uid"] = outcome.user.id
        session["pw_at"] = outcome.user.password_changed_at.isoformat() if outcome.user.password_changed_at else ""
        session["seen"] = datetime.now(UTC).isoformat()
        session.permanent = True
        if outcome.user.must_change_password:
            flash("Choose a new password before you continue.", "warning")
            return redirect(url_for("auth.change_password_view"))
        return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@public
def logout():
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@requires(AUTHENTICATED_VIEW)
def change_password_view():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            with work("password change"):
                change_password(db(), g.user, form.current_password.data, form.new_password.data,
                                form.confirm.data)
        except UserError as e:
            apply_errors(form, e.errors)
        else:
            session["pw_at"] = g.user.password_changed_at.isoformat()
            flash("Your password is changed.", "success")
            return redirect(url_for("home.index"))
    return render_template("auth/change_password.html", form=form)
