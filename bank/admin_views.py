"""User administration: create, edit roles, grant unblinding, deactivate, unlock, reset password, end
sessions; the accounts recently locked by wrong passwords, and every sign-in attempt.

A one-time password is shown once, on its own page reached by a redirect after the act (never at the
form's address, which a reload or the browser's history would post again); a reset is confirmed first."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy import or_, select

from bank.auth_views import idle_limit
from bank.forms import ConfirmForm, EditUserForm, NewUserForm, SignInAttemptFilterForm
from bank.i18n import N_
from bank.languages import flash
from bank.lists import Export, SortColumn, listed
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
from bank.web import (
    LIKE_ESCAPE,
    apply_errors,
    confirmed,
    db,
    get_or_404,
    like_pattern,
    requires,
    text_arg,
    work,
)

bp = Blueprint("admin", __name__, url_prefix="/admin")

# The session key holding a one-time password between the act and the page that shows it once. The
# session cookie is signed, not encrypted: the password is sealed with a key derived from SECRET_KEY, so
# the cookie alone does not reveal it; it leaves the cookie at the first display.
ONE_TIME = "one_time_password"


def _keystream(nonce: bytes, length: int) -> bytes:
    key = hmac.new(current_app.secret_key.encode(), b"one-time password", hashlib.sha256).digest()
    return hashlib.shake_256(key + nonce).digest(length)


def _seal(password: str) -> str:
    data, nonce = password.encode(), secrets.token_bytes(16)
    sealed = bytes(a ^ b for a, b in zip(data, _keystream(nonce, len(data)), strict=True))
    return base64.urlsafe_b64encode(nonce + sealed).decode()


def _unseal(blob: str) -> str | None:
    try:
        raw = base64.urlsafe_b64decode(blob.encode())
    except (ValueError, TypeError):
        return None
    nonce, sealed = raw[:16], raw[16:]
    return bytes(a ^ b for a, b in zip(sealed, _keystream(nonce, len(sealed)), strict=True)).decode(
        errors="replace"
    )


def _show_once(user: User, password: str):
    session[ONE_TIME] = {"user_id": user.id, "sealed": _seal(password)}
    return redirect(url_for("admin.one_time_password", user_id=user.id))


USER_COLUMNS = (
    SortColumn("username", N_("User name"), User.username),
    SortColumn("name", N_("Printed name"), User.full_name),
    SortColumn("last_sign_in", N_("Last sign-in"), User.last_login_at),
)
USER_EXPORT = Export(
    "users.csv",
    ("username", "printed_name", "roles", "unblinded", "active", "locked", "last_sign_in_utc"),
    lambda u: (
        u.username,
        u.full_name,
        " ".join(u.role_list),
        u.unblinded,
        u.is_active,
        u.is_locked,
        u.last_login_at,
    ),
)


@bp.route("/users")
@requires("user.manage")
def users():
    q = text_arg("q", 64)
    stmt = select(User).order_by(User.username)
    if q:
        like = like_pattern(q.lower())
        stmt = stmt.where(
            or_(User.username.ilike(like, escape=LIKE_ESCAPE), User.full_name.ilike(like, escape=LIKE_ESCAPE))
        )
    order, page = listed(stmt, USER_COLUMNS, User.id, USER_EXPORT)
    return render_template("admin/users.html", page=page, q=q, locked=recently_locked(db()), sorting=order)


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
            return _show_once(user, password)
    return render_template("admin/user_form.html", form=form, user=None)


@bp.route("/users/<int:user_id>/one-time-password")
@requires("user.manage")
def one_time_password(user_id: int):
    """The one-time password of a new or reset account, shown once: a reload shows that it was shown."""
    user = get_or_404(User, user_id)
    kept = session.get(ONE_TIME)
    password = None
    if kept and kept.get("user_id") == user.id:
        password = _unseal(session.pop(ONE_TIME).get("sealed", ""))
    response = make_response(render_template("admin/one_time_password.html", user=user, password=password))
    response.headers["Cache-Control"] = "no-store"  # never kept by the browser or a proxy
    return response


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
                description=_(
                    "This account was changed by someone else since you opened it. "
                    "Reload the page to see the current values."
                ),
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
            flash(_("Account %(name)s updated.", name=user.username), "success")
            return redirect(url_for("admin.users"))
    return render_template(
        "admin/user_form.html",
        form=form,
        user=user,
        action_form=ConfirmForm(),
        open_sessions=open_sessions_of(db(), user.id, idle_limit()),
    )


@bp.route("/users/<int:user_id>/end-sessions", methods=["POST"])
@requires("user.manage")
def end_user_sessions(user_id: int):
    user = get_or_404(User, user_id)
    ended = confirmed(
        ConfirmForm(),
        lambda: end_sessions_of(db(), user.id, "ended by an administrator"),
        "sessions ended by an administrator",
    )
    flash(_("%(count)s session(s) of %(name)s ended.", count=ended, name=user.username), "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


ATTEMPT_COLUMNS = (
    SortColumn("username", N_("User name typed"), SignInAttempt.username),
    SortColumn("address", N_("Address"), SignInAttempt.address),
    SortColumn("outcome", N_("Result"), SignInAttempt.outcome),
)
ATTEMPT_EXPORT = Export(
    "sign-in-attempts.csv",
    ("at_utc", "username", "user_id", "address", "outcome"),
    lambda a: (a.at, a.username, a.user_id, a.address, a.outcome),
)


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
    # Newest first, the list's own order, pages by key (it grows by every attempt); another order by OFFSET.
    order, page = listed(stmt, ATTEMPT_COLUMNS, SignInAttempt.id, ATTEMPT_EXPORT, keyset=SignInAttempt.id)
    return render_template("admin/sign_in_attempts.html", page=page, form=form, sorting=order)


@bp.route("/users/<int:user_id>/unlock", methods=["POST"])
@requires("user.manage")
def unlock_user(user_id: int):
    user = get_or_404(User, user_id)
    if ConfirmForm().validate_on_submit():
        with work("account unlocked by administrator"):
            unlock(db(), user)
        flash(_("Account %(name)s unlocked.", name=user.username), "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.route("/users/<int:user_id>/reset-password", methods=["GET", "POST"])
@requires("user.manage")
def reset_user_password(user_id: int):
    """A reset cannot be undone (the old password stops working, sessions end, API tokens are revoked):
    the first click asks for confirmation on its own page, the confirming POST acts."""
    user = get_or_404(User, user_id)
    form = ConfirmForm()
    if request.method == "GET":
        return render_template(
            "admin/confirm_reset.html",
            user=user,
            form=form,
            open_sessions=open_sessions_of(db(), user.id, idle_limit()),
        )
    password = confirmed(form, lambda: reset_password(db(), user), "password reset by administrator")
    return _show_once(user, password)
