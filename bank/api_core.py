"""Core API endpoints: who am I, and the OpenAPI document."""

from __future__ import annotations

from flask import current_app, jsonify

from bank.api import api_route, api_user, bp, openapi_document
from bank.permissions import AUTHENTICATED
from bank.web import public


@api_route(
    "/me",
    permission=AUTHENTICATED,
    summary="The user the token belongs to, with roles and permissions",
    response={
        "type": "object",
        "properties": {
            "username": {"type": "string"},
            "full_name": {"type": "string"},
            "roles": {"type": "array", "items": {"type": "string"}},
        },
    },
)
def me():
    from flask import g

    user = api_user()
    return jsonify(
        {
            "username": user.username,
            "full_name": user.full_name,
            "roles": user.role_list,
            "unblinded": user.unblinded,
            "permissions": sorted(g.actor.permissions),
        }
    )


@bp.route("/openapi.json")
@public
def openapi():
    return jsonify(openapi_document(current_app))
