"""Personal API tokens: each user creates and revokes their own (shown once, kept hashed)."""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from bank.api import issue_token, revoke_token
from bank.forms import ConfirmForm, TokenForm
from bank.i18n import N_, t
from bank.languages import flash
from bank.lists import SortColumn, csv_download, shown_time, sorting, wants_csv
from bank.models import ApiToken
from bank.web import apply_errors, confirmed, db, own_or_404, requires, work

bp = Blueprint("tokens", __name__, url_prefix="/account/tokens")


TOKEN_COLUMNS = (
    SortColumn("name", N_("Name"), ApiToken.name),
    SortColumn("created", N_("Created"), ApiToken.created_at),
    SortColumn("state", N_("State"), ApiToken.revoked_at.is_(None)),  # revoked, then active
)


@bp.route("/", methods=["GET", "POST"])
@requires("api.token")
def index():
    form = TokenForm()
    if form.validate_on_submit():
        try:
            with work("API token created"):
                row, token = issue_token(db(), g.user, form.name.data)
        except ValueError as e:
            apply_errors(form, {"name": e.args[0]})
        else:
            return render_template("tokens/created.html", row=row, token=token)
    order = sorting(*TOKEN_COLUMNS)
    stmt = select(ApiToken).where(ApiToken.user_id == g.user.id).order_by(ApiToken.id.desc())
    tokens = db().scalars(order.apply(stmt, ApiToken.id)).all()
    if wants_csv() and request.method == "GET":  # the table as shown (never a token: only its start)
        rows = (
            (
                tk.name,
                f"{tk.prefix}…",
                shown_time(tk.created_at),
                t("revoked %(when)s", when=shown_time(tk.revoked_at)).localized()
                if tk.revoked_at
                else t("active").localized(),
            )
            for tk in tokens
        )
        return csv_download("api-tokens.csv", ("name", "starts_with", "created", "state"), rows)
    return render_template(
        "tokens/index.html", form=form, tokens=tokens, revoke_form=ConfirmForm(), sorting=order
    )


@bp.route("/<int:token_id>/revoke", methods=["POST"])
@requires("api.token")
def revoke(token_id: int):
    token = own_or_404(ApiToken, token_id)
    confirmed(ConfirmForm(), lambda: revoke_token(db(), token), "API token revoked")
    flash(_("Token '%(name)s' revoked.", name=token.name), "success")
    return redirect(url_for("tokens.index"))
