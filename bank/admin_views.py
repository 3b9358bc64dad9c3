"""User administration: create, edit roles, grant unblinding, deactivate, unlock, reset password, end
sessions; the accounts recently locked by wrong passwords, and every sign-in attempt."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from sqlalchemy import or_, select

from bank.forms import ConfirmForm, EditUserForm, NewUserForm, SignInAttemptFilterForm
from bank.models import SignInAttempt, User
from bank.signin import FAILURES, end_sessions_of, open_sessions_of
from bank.users import (
    UserError,
    create_user,
    generate_password,
    recently_locked,
    reset_password,
    unlock,
    update_account,
)
from bank.web import LIKE_ESCAPE, apply_errors, db, get_or_404, like_pattern, paginate, requires, work

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/users")
@requires("user.manage")
def users():
    q = request.args.get("q", "").strip()[:64]
    stmt = select(User).order_by(User.username)
    if q:
        like = like_pattern(q.lower())
        stmt = stmt.where(
            or_(User.username.ilike(like, escape=LIKE_ESCAPE), User.full_name.ilike(like, escape=LIKE_ESCAPE))
        )
    return render_template("admin/users.html", page=paginate(stmt), q=q, locked=recently_locked(db()))


@bp.route("/users/new", methods=["GET", "POST"])
@requires("user.manage")
def new_user():
    form = NewUserForm()
    if form.validate_on_submit():
        password = generate_password()
        try:
            with work("user created"):
                user = create_user(
                    db(),
                    form.username.data,
                    form.full_name.data,
                    form.roles.data,
                    password,
                    unblinded=form.unblinded.data,
                )
        except UserError as e:
            apply_errors(form, e.errors)
        else:
            return render_template("admin/one_time_password.html", user=user, password=password)
    return render_template("admin/user_form.html", form=form, user=None)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@requires("user.manage")
def edit_user(user_id: int):
    user = get_or_404(User, user_id)
    form = EditUserForm(obj=user if request.method == "GET" else None)
    if request.method == "GET":
        form.roles.data = user.role_list
        form.version.data = str(user.version)
    if form.validate_on_submit():
        if form.version.data != str(user.version):
            abort(
                409,
                description="This account was changed by someone else since you opened it. "
                "Reload the page to see the current values.",
            )
        try:
            with work(form.reason.data):
                update_account(
                    db(),
                    user,
                    form.full_name.data,
                    form.roles.data,
                    form.unblinded.data,
                    form.is_active.data,
                    g.user.id,
                )
        except UserError as e:
            apply_errors(form, e.errors)
        else:
            flash(f"Account {user.username} updated.", "success")
            return redirect(url_for("admin.users"))
    return render_template(
        "admin/user_form.html",
        form=form,
        user=user,
        action_form=ConfirmForm(),
        open_sessions=open_sessions_of(db(), user.id, _idle()),
    )


def _idle() -> timedelta:
    return timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])


@bp.route("/users/<int:user_id>/end-sessions", methods=["POST"])
@requires("user.manage")
def end_user_sessions(user_id: int):
    user = get_or_404(User, user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    with work("sessions ended by an administrator"):
        ended = end_sessions_of(db(), user.id, "ended by an administrator")
    flash(f"{ended} session(s) of {user.username} ended.", "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.route("/sign-in-attempts")
@requires("user.manage")
def sign_in_attempts():
    """Every sign-in attempt, newest first: unknown names, wrong passwords, locked, throttled."""
    form = SignInAttemptFilterForm(request.args, meta={"csrf": False})
    stmt = select(SignInAttempt).order_by(SignInAttempt.id.desc())
    if form.validate():
        if form.username.data:
            stmt = stmt.where(SignInAttempt.username == form.username.data.strip().lower())
        if form.address.data:
            stmt = stmt.where(SignInAttempt.address == form.address.data.strip())
        if form.show.data != "all":
            stmt = stmt.where(SignInAttempt.outcome.in_((*FAILURES, "throttled")))
    page = paginate(stmt, keyset=SignInAttempt.id)
    return render_template("admin/sign_in_attempts.html", page=page, form=form)


@bp.route("/users/<int:user_id>/unlock", methods=["POST"])
@requires("user.manage")
def unlock_user(user_id: int):
    user = get_or_404(User, user_id)
    if ConfirmForm().validate_on_submit():
        with work("account unlocked by administrator"):
            unlock(db(), user)
        flash(f"Account {user.username} unlocked.", "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.route("/users/<int:user_id>/reset-password", methods=["POST"])
@requires("user.manage")
def reset_user_password(user_id: int):
    user = get_or_404(User, user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    with work("password reset by administrator"):
        password = reset_password(db(), user)
    return render_template("admin/one_time_password.html", user=user, password=password)
