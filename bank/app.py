"""The application factory: configuration, database, security checks on every request, blueprints."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import Flask, abort, flash, g, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from bank import audit  # noqa: F401  (registers the audit listeners)
from bank.anchors import install_site
from bank.config import load_config
from bank.db import make_engine, make_session_factory
from bank.models import User
from bank.permissions import ROLE_LABELS
from bank.users import actor_for
from bank.web import PUBLIC, can, db

ROOT = Path(__file__).resolve().parent.parent
csrf = CSRFProtect()


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=str(ROOT / "instance"), template_folder=str(ROOT / "templates"),
                static_folder="static")
    app.config.update(load_config(Path(app.instance_path), overrides))
    install_site(app.config)  # the audit key and checkpoints (bank.anchors)
    app.permanent_session_lifetime = timedelta(minutes=app.config["SESSION_IDLE_MINUTES"])
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["bank.engine"] = engine
    app.extensions["bank.sessions"] = make_session_factory(engine, app.config["MAX_FAILED_LOGINS"])
    app.extensions["bank.scan_resolvers"] = []
    app.extensions["bank.nav"] = []
    csrf.init_app(app)
    _register_blueprints(app)
    wire_domains()
    _register_security(app)
    _register_errors(app)
    _register_templates(app)
    from bank.cli import register_cli

    register_cli(app)
    return app


def wire_domains() -> None:
    """Connect every cross-domain receiver to its signal (bank.signals). Called by the app factory (so
    the web and `flask` commands run wired) and by the tests; connecting twice is harmless."""
    from bank.signals import donor_lookback_started, late_result_found
    from doses.services import hold_for_donor_lookback, hold_for_late_result
    from lots.services import hold_for_lookback

    donor_lookback_started.connect(_receiver(hold_for_lookback, "donor"), weak=False)
    donor_lookback_started.connect(_receiver(hold_for_donor_lookback, "donor"), weak=False)
    late_result_found.connect(_receiver(hold_for_late_result, "lot"), weak=False)


_RECEIVERS: dict = {}


def _receiver(fn, key: str):
    """`fn(session, record)` as a blinker receiver `(sender=session, **{key: record})`, made once per
    function so that wiring again connects nothing new."""
    if fn not in _RECEIVERS:
        _RECEIVERS[fn] = lambda session, **kw: fn(session, kw[key])
    return _RECEIVERS[fn]


def _register_blueprints(app: Flask) -> None:
    from bank import admin_views, api, audit_views, auth_views, home_views, token_views

    for bp in (auth_views.bp, home_views.bp, admin_views.bp, audit_views.bp, token_views.bp):
        app.register_blueprint(bp)
    # The only place bank knows the domains: each registers its blueprint, navigation and scan lookups.
    import donors.views
    import doses.custody.views
    import doses.views
    import lots.views
    import release.views

    for module in (donors.views, lots.views, release.views, doses.views, doses.custody.views):
        module.init_app(app)
    api.init_app(app)  # last: domain views have added their API routes to the shared blueprint
    app.extensions["bank.nav"].append(("Audit trail", "audit.index", "audit.view"))
    app.extensions["bank.nav"].append(("Users", "admin.users", "user.manage"))


def _register_security(app: Flask) -> None:
    @app.before_request
    def load_user_and_check_permission():
        g.user = None
        g.actor = None
        if any("\x00" in value for values in request.args.listvalues() for value in values):
            # No record holds a NUL character (PostgreSQL text cannot): refuse the address plainly
            # instead of letting a search reach the database.
            abort(400, description="The address contains a NUL character; remove it and try again.")
        view = app.view_functions.get(request.endpoint) if request.endpoint else None
        if request.endpoint == "static" or view is None:
            return None
        permission = getattr(view, "permission", None)
        uid = session.get("uid")
        if request.path.startswith("/api/"):
            # The API authenticates by bearer token only, never by the browser's session cookie.
            uid = None
            from bank.api import user_for_token

            token_user = user_for_token(db(), request.headers.get("Authorization"))
            if token_user is not None:
                g.user = token_user
                g.actor = actor_for(token_user)
        if uid is not None:
            now = datetime.now(UTC)
            last_seen = session.get("seen")
            idle = timedelta(minutes=app.config["SESSION_IDLE_MINUTES"])
            user = db().get(User, uid)
            expired = last_seen is None or now - datetime.fromisoformat(last_seen) > idle
            stale = user is None or not user.is_active or user.is_locked or session.get("pw_at") != (
                user.password_changed_at.isoformat() if user.password_changed_at else "")
            if expired or stale:
                session.clear()
                if permission != PUBLIC:
                    flash("Your session has ended (inactivity or account change). Sign in again.", "warning")
                    return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
            else:
                session["seen"] = now.isoformat()
                g.user = user
                g.actor = actor_for(user)
        if permission == PUBLIC:
            return None
        if permission is None:
            abort(403)  # fail closed: an endpoint that forgot to declare a permission is refused
        if g.user is None:
            if request.path.startswith("/api/"):
                abort(401)
            return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
        if g.user.must_change_password and not request.path.startswith("/api/") and request.endpoint not in ("auth.change_password_view", "auth.logout"):
            return redirect(url_for("auth.change_password_view"))
        if permission not in g.actor.permissions:
            abort(403)
        return None

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'")
        if g.get("user") is not None:
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.teardown_appcontext
    def close_session(_exc):
        s = g.pop("db", None)
        if s is not None:
            s.close()


def _register_errors(app: Flask) -> None:
    titles = {400: "Bad request", 401: "Sign in required", 403: "Not allowed", 404: "Not found",
              405: "Method not allowed", 409: "Changed by someone else", 413: "Too large",
              500: "Something went wrong"}

    def render(code: int, message: str | None):
        if request.path.startswith("/api/"):
            return {"error": titles.get(code, "Error"), "message": message}, code
        return render_template("errors/error.html", code=code, title=titles.get(code, "Error"),
                               message=message), code

    @app.errorhandler(CSRFError)
    def csrf_error(e):
        return render(400, "The form's security token is missing or expired. Reload the page and try again.")

    @app.errorhandler(StaleDataError)
    def stale(e):
        return render(409, "This record was changed by someone else since you opened it. Reload to see the "
                           "current values; nothing of yours was saved.")

    @app.errorhandler(HTTPException)
    def http_error(e):
        return render(e.code or 500, e.description if e.code in (400, 409, 413) else None)

    @app.errorhandler(Exception)
    def unexpected(e):
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return render(500, "The error was logged; nothing was saved. Try again or contact the administrator.")


def _register_templates(app: Flask) -> None:
    @app.context_processor
    def globals_():
        nav = [(label, endpoint) for label, endpoint, perm in app.extensions["bank.nav"] if can(perm)]
        return {"nav": nav, "can": can, "facility_name": app.config["FACILITY_NAME"],
                "facility_fin": app.config["FACILITY_FIN"], "role_labels": ROLE_LABELS}

    @app.template_filter("cells")
    def cells(value):
        """Cell counts as the lab writes them: 2.4 × 10⁷, not 2.4e+07."""
        if value is None:
            return ""
        if value == 0:
            return "0"
        exponent = len(str(int(abs(value)))) - 1 if abs(value) >= 1 else 0
        if exponent < 4:
            return f"{value:g}"
        mantissa = value / 10**exponent
        superscript = str(exponent).translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))
        return f"{mantissa:.3g} × 10{superscript}"

    @app.template_filter("utc")
    def utc(value):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if value else ""
