"""User administration: create, edit roles, grant unblinding, deactivate, unlock, reset password."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import or_, select

from bank.forms import ConfirmForm, EditUserForm, NewUserForm
from bank.models import User
from bank.users import UserError, create_user, generate_password, reset_password, unlock, update_account
from bank.web import apply_errors, db, get_or_404, paginate, requires, work

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/users")
@requires("user.manage")
def users():
    q = request.args.get("q", "").strip()[:64]
    stmt = select(User).order_by(User.username)
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(or_(User.username.ilike(like), User.full_name.ilike(like)))
    return render_template("admin/users.html", page=paginate(stmt), q=q)


@bp.route("/users/new", methods=["GET", "POST"])
@requires("user.manage")
def new_user():
    form = NewUserForm()
    if form.validate_on_submit():
        password = generate_password()
        try:
            with work("user created"):
                user = create_user(db(), form.username.data, form.full_name.data, form.roles.data, password,
                                   unblinded=form.unblinded.data)
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
            abort(409, description="This account was changed by someone else since you opened it. "
                                   "Reload the page to see the current values.")
        try:
            with work(form.reason.data):
                update_account(db(), user, form.full_name.data, form.roles.data, form.unblinded.data,
                               form.is_active.data, g.user.id)
        except UserError as e:
            apply_errors(form, e.errors)
        else:
            flash(f"Account {user.username} updated.", "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=user, action_form=ConfirmForm())


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
