"""Sign in (throttled, one answer for every refusal), sign out, password change, the user's sessions."""

from __future__ import annotations

from datetime import timedelta

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

from bank.forms import ChangePasswordForm, ConfirmForm, LoginForm
from bank.i18n import N_, t
from bank.keptforms import kept_pages
from bank.languages import LANGUAGES, flash
from bank.lists import SortColumn, csv_download, shown_time, sorting, wants_csv
from bank.models import UserSession
from bank.passwords import MIN_LENGTH
from bank.signin import (
    Limits,
    end_session,
    end_sessions_of,
    open_sessions_of,
    record_attempt,
    retry_after,
    start_session,
    touch,
)
from bank.uow import Actor, unit_of_work
from bank.users import UserError, authenticate, change_password
from bank.web import AUTHENTICATED_VIEW, apply_errors, confirmed, db, own_or_404, public, requires, work

bp = Blueprint("auth", __name__)


def safe_next(target: str | None) -> str:
    """Where to go after signing in: only a path of this site — one leading "/" (not "//", which a browser
    reads as another host), no backslash and no control character or space (a browser drops a tab or a
    line break, so "/\\t/evil.example" would become "//evil.example")."""
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and not any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in target)
    ):
        return target
    return url_for("home.index")


def client_address() -> str:
    return (request.remote_addr or "")[:64]


def idle_limit() -> timedelta:
    return timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    form = LoginForm()
    if form.validate_on_submit():
        name = form.username.data.strip().lower()[:64]
        address = client_address()
        attempt = Actor(None, f"sign-in attempt as '{name}'")
        config = current_app.config
        wait = retry_after(
            db(), name, address, Limits(config["LOGIN_LIMIT_PER_ADDRESS"], config["LOGIN_LIMIT_PER_NAME"])
        )
        if wait:
            with unit_of_work(db(), attempt):
                record_attempt(db(), name, address, "throttled")
            form.password.errors = [
                t("Too many failed sign-ins. Wait %(seconds)s seconds, then try again.", seconds=wait)
            ]
            response = make_response(render_template("auth/login.html", form=form), 429)
            response.headers["Retry-After"] = str(wait)
            return response
        with unit_of_work(db(), attempt):
            outcome = authenticate(
                db(), form.username.data, form.password.data, config["MAX_FAILED_LOGINS"], address
            )
            if outcome.user is not None:
                sid = start_session(
                    db(),
                    outcome.user,
                    address,
                    request.user_agent.string,
                    timedelta(hours=config["SESSION_ABSOLUTE_HOURS"]),
                )
        if outcome.user is None:
            form.password.errors = [outcome.message]
            return render_template("auth/login.html", form=form), 401
        chosen = session.get("language")
        session.clear()  # a new session for the signed-in user (no fixation)
        session["sid"] = sid
        session.permanent = True
        if chosen in LANGUAGES:
            session["language"] = chosen  # the language chosen on the sign-in page goes on being read
        kept = kept_pages(db(), outcome.user.id)
        if kept:
            session["kept_forms"] = True  # bank.app shows them again on their pages
        if outcome.user.must_change_password:
            flash(_("Choose a new password before you continue."), "warning")
            return redirect(url_for("auth.change_password_view"))
        return redirect(safe_next(request.args.get("next") or (kept[-1] if kept else None)))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@public
def logout():
    row = g.get("sign_in_session")
    if row is not None:
        with unit_of_work(db(), g.actor):
            end_session(row, N_("signed out"))
    chosen = session.get("language")
    session.clear()
    if chosen:
        session["language"] = chosen  # the sign-in page stays in the language of the one who left
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@requires(AUTHENTICATED_VIEW)
def change_password_view():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            with work("password change"):
                change_password(
                    db(),
                    g.user,
                    form.current_password.data,
                    form.new_password.data,
                    form.confirm.data,
                    keep_session_id=g.sign_in_session.id,
                )
        except UserError as e:
            apply_errors(form, e.errors)
        else:
            flash(_("Your password is changed. Your other sessions are ended."), "success")
            return redirect(url_for("home.index"))
    return render_template("auth/change_password.html", form=form, min_length=MIN_LENGTH)


# A few open sessions, read whole: they sort in Python (Sorting.arrange).
SESSION_COLUMNS = (
    SortColumn("signed_in", N_("Signed in"), lambda s: s.created_at),
    SortColumn("last_activity", N_("Last activity"), lambda s: s.last_seen_at),
    SortColumn("address", N_("Address"), lambda s: s.address or ""),
)


@bp.route("/account/sessions")
@requires(AUTHENTICATED_VIEW)
def sessions():
    order = sorting(*SESSION_COLUMNS)
    rows = order.arrange(open_sessions_of(db(), g.user.id, idle_limit()))
    if wants_csv():  # the table as shown
        cells = (
            (
                shown_time(s.created_at),
                shown_time(s.last_seen_at),
                shown_time(s.expires_at),
                s.address,
                s.user_agent,
                _("this session") if s.id == g.sign_in_session.id else "",
            )
            for s in rows
        )
        header = ("signed_in", "last_activity", "ends_at_the_latest", "address", "browser", "this_session")
        return csv_download("sessions.csv", header, cells)
    return render_template(
        "auth/sessions.html", rows=rows, current_id=g.sign_in_session.id, form=ConfirmForm(), sorting=order
    )


@bp.route("/account/sessions/<int:session_id>/end", methods=["POST"])
@requires(AUTHENTICATED_VIEW)
def end_one_session(session_id: int):
    row = own_or_404(UserSession, session_id)
    confirmed(ConfirmForm(), lambda: end_session(row, N_("ended by the user")), "session ended by its user")
    if row.id == g.sign_in_session.id:
        session.clear()
        flash(_("You are signed out."), "info")
        return redirect(url_for("auth.login"))
    flash(_("The session is ended."), "success")
    return redirect(url_for("auth.sessions"))


@bp.route("/account/sessions/end-others", methods=["POST"])
@requires(AUTHENTICATED_VIEW)
def end_other_sessions():
    ended = confirmed(
        ConfirmForm(),
        lambda: end_sessions_of(db(), g.user.id, N_("ended by the user"), keep_id=g.sign_in_session.id),
        "other sessions ended by their user",
    )
    flash(_("%(count)s other session(s) ended.", count=ended), "success")
    return redirect(url_for("auth.sessions"))


@bp.route("/account/keep-alive", methods=["POST"])
@requires(AUTHENTICATED_VIEW)
def keep_alive():
    """'Stay signed in' (the idle warning in base.html): the session's idle time starts again now. The
    request carries the page's CSRF token in the X-CSRFToken header."""
    with unit_of_work(db(), g.actor):
        touch(g.sign_in_session)
    return {"idle_seconds": int(idle_limit().total_seconds())}


@bp.route("/language", methods=["POST"])
@public
def choose_language():
    """The language switch of every page: kept on the account of a signed-in user (audited), in the
    browser's session before signing in; then back to the page it was chosen on."""
    chosen = request.form.get("language", "")
    if chosen not in LANGUAGES:
        abort(400, description=_("Choose French or English."))
    if g.user is not None:
        with work("language chosen"):
            g.user.language = chosen
    session["language"] = chosen
    return redirect(safe_next(request.form.get("back")))
