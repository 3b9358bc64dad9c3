"""The application factory: configuration, database, security checks on every request, blueprints."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, g, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy.exc import DataError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.sansio.utils import host_is_trusted

from bank import (
    audit,  # noqa: F401  (registers the audit listeners)
    languages,
)
from bank.anchors import install_site
from bank.clock import utc_text
from bank.config import load_config
from bank.db import make_engine, make_session_factory
from bank.i18n import N_, Text, localize, t
from bank.keptforms import keep_form, kept_pages, take_kept_form
from bank.lists import export_url
from bank.permissions import ROLE_LABELS, hidden_by_blinding
from bank.refusals import MASKED_RECORD_MESSAGE
from bank.signin import end_session, find_session, needs_touch, touch
from bank.uow import Actor, unit_of_work
from bank.users import actor_for
from bank.web import PUBLIC, can, db
from bank.workflow import status_kind, status_label

ROOT = Path(__file__).resolve().parent.parent
csrf = CSRFProtect()


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder="static",
    )
    app.config.update(load_config(Path(app.instance_path), overrides))
    install_site(app.config)  # the audit key and checkpoints (bank.anchors)
    # The cookie lives as long as a session may; the database decides when it ends (bank.signin).
    app.permanent_session_lifetime = timedelta(hours=app.config["SESSION_ABSOLUTE_HOURS"])
    _private_sqlite_file(app.config["DATABASE_URL"])
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["bank.engine"] = engine
    app.extensions["bank.sessions"] = make_session_factory(engine, app.config["MAX_FAILED_LOGINS"])
    app.extensions["bank.scan_resolvers"] = []
    app.extensions["bank.nav"] = []
    csrf.init_app(app)
    languages.init_app(app)
    _register_blueprints(app)
    wire_domains()
    _register_security(app)
    _register_errors(app)
    _register_templates(app)
    from bank.cli import register_cli

    register_cli(app)
    return app


def _private_sqlite_file(url: str) -> None:
    """Create the SQLite database file readable by its owner only (SQLite gives its -wal and -shm files
    the same mode); an existing file is narrowed to that too."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url == prefix or ":memory:" in url:
        return
    path = Path(url[len(prefix) :].split("?", 1)[0])
    if path.parent.is_dir():
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
        path.chmod(0o600)


def wire_domains() -> None:
    """Connect every cross-domain receiver to its signal (bank.signals). Called by the app factory (so
    the web and `flask` commands run wired) and by the tests; connecting twice is harmless."""
    from bank.notifications import receivers as tell
    from bank.signals import (
        account_locked,
        custody_excursion,
        donor_lookback_started,
        formulation_requested,
        late_result_found,
        serious_reaction_reported,
    )
    from doses.services import hold_for_donor_lookback, hold_for_late_result, placebo_formulation_problems
    from lots.services import hold_for_lookback

    donor_lookback_started.connect(_receiver(hold_for_lookback, "donor"), weak=False)
    donor_lookback_started.connect(_receiver(hold_for_donor_lookback, "donor"), weak=False)
    late_result_found.connect(_receiver(hold_for_late_result, "lot"), weak=False)
    formulation_requested.connect(_formulation_receiver(placebo_formulation_problems), weak=False)
    # Notifications (issue 20): whoever must act is told, in the application and by e-mail.
    late_result_found.connect(_receiver(tell.late_result, "lot"), weak=False)
    donor_lookback_started.connect(_receiver(tell.donor_lookback, "donor"), weak=False)
    account_locked.connect(_receiver(tell.account_locked, "user"), weak=False)
    if tell.custody_excursion not in _RECEIVERS:
        _RECEIVERS[tell.custody_excursion] = lambda session, **kw: tell.custody_excursion(
            session, kw["allocation"], kw["event"]
        )
    custody_excursion.connect(_RECEIVERS[tell.custody_excursion], weak=False)
    serious_reaction_reported.connect(_receiver(tell.serious_reaction, "event"), weak=False)


_RECEIVERS: dict = {}


def _receiver(fn, key: str):
    """`fn(session, record)` as a blinker receiver `(sender=session, **{key: record})`, made once per
    function so that wiring again connects nothing new."""
    if fn not in _RECEIVERS:
        _RECEIVERS[fn] = lambda session, **kw: fn(session, kw[key])
    return _RECEIVERS[fn]


def _formulation_receiver(fn):
    if fn not in _RECEIVERS:
        _RECEIVERS[fn] = lambda session, **kw: fn(session, kw["lot"], kw["volume_ml"], kw["container_type"])
    return _RECEIVERS[fn]


def _register_blueprints(app: Flask) -> None:
    from bank import admin_views, api, api_core, audit_views, auth_views, home_views, token_views  # noqa: F401

    for bp in (auth_views.bp, home_views.bp, admin_views.bp, audit_views.bp, token_views.bp):
        app.register_blueprint(bp)
    # The only place bank knows the domains: each registers its blueprint, navigation and scan lookups.
    import biovigilance.views
    import donors.views
    import doses.custody.views
    import doses.views
    import lots.views
    import release.views

    for module in (
        donors.views,
        lots.views,
        release.views,
        doses.views,
        doses.custody.views,
        biovigilance.views,
    ):
        module.init_app(app)
    from bank.verification import views as verification_views

    verification_views.init_app(app)  # the page of the entries the domains registered as verifiable
    _register_queues(app)
    api.init_app(app)  # last: domain views have added their API routes to the shared blueprint
    app.extensions["bank.nav"].append((N_("Audit trail"), "audit.index", "audit.view"))
    app.extensions["bank.nav"].append((N_("Users"), "admin.users", "user.manage"))


def _register_queues(app: Flask) -> None:
    """The work queues of the home page and the notifications' pages (issue 20): the kernel's, then each
    domain's (bank.queues), registered here so that bank imports no domain elsewhere."""
    import biovigilance.queues
    import donors.queues
    import doses.queues
    import lots.queues
    import release.queues
    from bank import queues
    from bank.notifications import views as notification_views

    queues.init_app(app)
    for module in (donors.queues, lots.queues, release.queues, doses.queues, biovigilance.queues):
        module.register_queues(app)
    notification_views.init_app(app)


def _register_security(app: Flask) -> None:
    if app.config["PROXY_COUNT"]:
        # Behind N reverse proxies: the client's address (sign-in throttling) and scheme come from them.
        n = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)
    allowed_hosts = app.config["ALLOWED_HOSTS"]
    idle = timedelta(minutes=app.config["SESSION_IDLE_MINUTES"])

    @app.before_request
    def load_user_and_check_permission():
        g.user = None
        g.actor = None
        g.sign_in_session = None
        _refuse_unserved_request(allowed_hosts)
        view = app.view_functions.get(request.endpoint) if request.endpoint else None
        if request.endpoint == "static" or view is None:
            return None
        permission = getattr(view, "permission", None)
        api = request.path.startswith("/api/")
        signed_out = _sign_in(api, idle, permission)
        if signed_out is not None:
            return signed_out
        if permission == PUBLIC:
            return None
        return _check_permission(permission, api)

    app.before_request(_restore_kept_form)

    @app.after_request
    def security_headers(response):
        return _add_security_headers(response, https_only=app.config["SESSION_COOKIE_SECURE"])

    @app.teardown_appcontext
    def close_session(_exc):
        s = g.pop("db", None)
        if s is not None:
            s.close()


def _refuse_unserved_request(allowed_hosts) -> None:
    if not host_is_trusted(request.host, allowed_hosts):
        # Never build links, redirects or the OpenAPI document on a Host header nobody configured.
        abort(400, description=t("This host name is not served here (ALLOWED_HOSTS)."))
    if any("\x00" in value for values in request.args.listvalues() for value in values):
        # No record holds a NUL character (PostgreSQL text cannot): refuse the address plainly
        # instead of letting a search reach the database.
        abort(400, description=t("The address contains a NUL character; remove it and try again."))


def _to_sign_in():
    return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))


def _sign_in(api: bool, idle: timedelta, permission):
    """Sets g.user and g.actor from the bearer token (API) or the session cookie (pages). Returns the
    redirect to the sign-in page when the session has ended on a page that needs one, else None."""
    if api:
        # The API authenticates by bearer token only, never by the browser's session cookie.
        from bank.api import user_for_token

        token_user = user_for_token(db(), request.headers.get("Authorization"))
        if token_user is not None:
            g.user = token_user
            g.actor = actor_for(token_user)
    elif "sid" in session:
        ended = _resume_session(idle)
        if ended and permission != PUBLIC:
            return _signed_out(ended, current_app.config["KEPT_FORM_HOURS"])
    return None


def _check_permission(permission, api: bool):
    """Refuses (or redirects) a request whose user may not reach a non-public endpoint; None lets it on."""
    if permission is None:
        abort(403)  # fail closed: an endpoint that forgot to declare a permission is refused
    if g.user is None:
        if api:
            abort(401)
        return _to_sign_in()
    if g.user.must_change_password:
        if api:
            return {
                "error": "Not allowed",
                "message": localize(
                    t(
                        "This account must change its password before it uses "
                        "the API: sign in to the application and choose a new password."
                    )
                ),
            }, 403
        if request.endpoint not in ("auth.change_password_view", "auth.logout"):
            return redirect(url_for("auth.change_password_view"))
    if permission not in g.actor.permissions:
        if hidden_by_blinding(permission, g.user.role_list, g.actor.permissions):
            abort(403, MASKED_RECORD_MESSAGE)  # neutral: the same words whichever record and arm
        abort(403)
    return None


def _add_security_headers(response, https_only: bool):
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'",
    )
    if https_only:
        # Served over HTTPS only: browsers must never come back over plain HTTP (a year, RFC 6797).
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if g.get("user") is not None:
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def _resume_session(idle: timedelta) -> str | None:
    """Sign the request in from the session cookie's id (bank.signin). Returns why the session has ended
    (and forgets the cookie), or None when it goes on."""
    found = find_session(db(), session.get("sid"), idle)
    if found.ended_because is not None:
        g.ended_user = found.user
        if found.row is not None and found.row.ended_at is None:
            with unit_of_work(db(), Actor(found.user.id, f"{found.user.full_name} ({found.user.username})")):
                end_session(found.row, found.ended_because)
        chosen = session.get("language")
        session.clear()
        if chosen:
            session["language"] = chosen  # the sign-in page stays in the language its reader chose
        return found.ended_because
    g.user = found.user
    g.actor = actor_for(found.user)
    g.sign_in_session = found.row
    if needs_touch(found.row):
        with unit_of_work(db(), g.actor):
            touch(found.row)
    return None


def _restore_kept_form():
    """After signing in again: the form kept when the session ended is shown filled in on its page."""
    if g.get("user") is None or request.method != "GET" or not session.get("kept_forms"):
        return None
    if request.path.startswith("/api/") or request.endpoint == "static":
        return None
    with unit_of_work(db(), g.actor):
        g.kept_form = take_kept_form(db(), g.user.id, request.path)
    g.kept_pages = kept_pages(db(), g.user.id)
    if not g.kept_pages:
        session.pop("kept_forms", None)
    return None


def _signed_out(ended: str, keep_hours: int):
    """The session behind this request has ended: back to sign-in. A form it sent is kept for the same
    user (bank.keptforms) and shown again on the page it came from once they have signed in."""
    user = g.pop("ended_user", None)
    ended = Text(ended)  # why, as bank.signin stored it: shown in the reader's language
    if request.method == "GET":
        languages.flash(t("Your session has ended (%(why)s). Sign in again.", why=ended), "warning")
        return redirect(url_for("auth.login", next=request.full_path))
    referrer = urlsplit(request.referrer or "")
    same_site = referrer.netloc == request.host
    page = referrer.path if same_site and referrer.path else request.path
    back = f"{page}?{referrer.query}" if same_site and referrer.query else page
    if user is None or request.files:
        languages.flash(
            t("Your session has ended (%(why)s) before the form was sent: nothing was recorded.", why=ended),
            "warning",
        )
        return redirect(url_for("auth.login", next=back))
    with unit_of_work(db(), Actor(user.id, f"{user.full_name} ({user.username})")):
        keep_form(db(), user.id, page, request.path, request.form.items(multi=True), keep_hours)
    languages.flash(
        t(
            "Your session has ended (%(why)s) before the form was sent: nothing was recorded, but what you "
            "typed is kept (password fields excepted). Sign in again to check it and send it.",
            why=ended,
        ),
        "warning",
    )
    return redirect(url_for("auth.login", next=back))


def _register_errors(app: Flask) -> None:
    # The API's "error" is the English title (a stable word programs may test); pages show it translated.
    titles = {
        400: t("Bad request"),
        401: t("Sign in required"),
        403: t("Not allowed"),
        404: t("Not found"),
        405: t("Method not allowed"),
        409: t("Changed by someone else"),
        413: t("Too large"),
        500: t("Something went wrong"),
    }
    error = t("Error")
    defaults = {
        400: t("The request could not be understood: reload the page and try again."),
        409: t("The request conflicts with the record as it is now: reload the page and try again."),
        413: t("What was sent is too large."),
    }

    def render(code: int, message: str | None):
        if request.path.startswith("/api/"):
            return {"error": str(titles.get(code, error)), "message": localize(message)}, code
        return render_template(
            "errors/error.html", code=code, title=titles.get(code, error), message=message
        ), code

    @app.errorhandler(CSRFError)
    def csrf_error(e):
        return render(
            400, t("The form's security token is missing or expired. Reload the page and try again.")
        )

    @app.errorhandler(DataError)
    def data_error(e):
        # A form not yet on bank.forms.BankForm let a NUL byte through to PostgreSQL: nothing was saved.
        app.logger.warning("database refused the data on %s %s: %s", request.method, request.path, e.orig)
        return render(
            400,
            t(
                "The form holds a character that cannot be recorded (a control character). "
                "Remove it and try again; nothing was saved."
            ),
        )

    @app.errorhandler(StaleDataError)
    def stale(e):
        return render(
            409,
            t(
                "This record was changed by someone else since you opened it. Reload to see the "
                "current values; nothing of yours was saved."
            ),
        )

    @app.errorhandler(HTTPException)
    def http_error(e):
        masked = e.code == 403 and e.description == MASKED_RECORD_MESSAGE
        shown = e.code in (400, 409, 413) or masked
        # Werkzeug's own description of a code is English only: its translated stand-in is ours.
        said = defaults.get(e.code) if e.description == type(e).description else e.description
        return render(e.code or 500, said if shown else None)

    @app.errorhandler(Exception)
    def unexpected(e):
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return render(
            500, t("The error was logged; nothing was saved. Try again or contact the administrator.")
        )


def _register_templates(app: Flask) -> None:
    @app.context_processor
    def globals_():
        nav = [(label, endpoint) for label, endpoint, perm in app.extensions["bank.nav"] if can(perm)]
        return {
            "nav": nav,
            "facility_name": app.config["FACILITY_NAME"],
            "facility_fin": app.config["FACILITY_FIN"],
            "role_labels": ROLE_LABELS,
        }

    # The status badge's words and colour come from the workflows' one map (bank.workflow); lists export
    # themselves as filtered (bank.lists); a page's action buttons (macros, which see only the globals)
    # show only to who may use them.
    app.jinja_env.globals.update(
        status_kind=status_kind, status_label=status_label, export_url=export_url, can=can
    )

    @app.template_filter("cells")
    def cells(value):
        """Cell counts as the lab writes them: 2.4 × 10⁷, not 2.4e+07 (2,4 × 10⁷ in French)."""
        if value is None:
            return ""
        if value == 0:
            return "0"
        mark = "," if languages.language() == "fr" else "."
        exponent = len(str(int(abs(value)))) - 1 if abs(value) >= 1 else 0
        if exponent < 4:
            return f"{value:g}".replace(".", mark)
        mantissa = value / 10**exponent
        superscript = str(exponent).translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))
        return f"{mantissa:.3g}".replace(".", mark) + f" × 10{superscript}"

    @app.template_filter("utc")
    def utc(value):
        """Where a record must show UTC (said with its suffix)."""
        return utc_text(value)
