"""Personal API tokens: each user creates and revokes their own (shown once, kept hashed)."""

from __future__ import annotations

from flask import Blueprint, abort, g, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from bank.api import issue_token, revoke_token
from bank.forms import ConfirmForm, TokenForm
from bank.languages import flash
from bank.models import ApiToken
from bank.web import apply_errors, db, get_or_404, requires, work

bp = Blueprint("tokens", __name__, url_prefix="/account/tokens")


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
    tokens = (
        db().scalars(select(ApiToken).where(ApiToken.user_id == g.user.id).order_by(ApiToken.id.desc())).all()
    )
    return render_template("tokens/index.html", form=form, tokens=tokens, revoke_form=ConfirmForm())


@bp.route("/<int:token_id>/revoke", methods=["POST"])
@requires("api.token")
def revoke(token_id: int):
    token = get_or_404(ApiToken, token_id)
    if token.user_id != g.user.id:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    with work("API token revoked"):
        revoke_token(db(), token)
    flash(_("Token '%(name)s' revoked.", name=token.name), "success")
    return redirect(url_for("tokens.index"))
