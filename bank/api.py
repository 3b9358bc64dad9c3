"""JSON API under /api/v1: personal bearer tokens, the same permissions as the UI, field-level errors,
and an OpenAPI 3.1 document built from the very forms that validate the input."""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from dataclasses import dataclass, field

from flask import Blueprint, Flask, abort, g, jsonify, request
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from wtforms import fields as wf
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from bank.clock import utcnow
from bank.forms import API_TIME_PATTERN, LocalDateTimeField
from bank.i18n import joined, localize, t
from bank.models import ApiToken, User
from bank.refusals import Refused
from bank.web import get_or_404, work

TOKEN_PREFIX = "msc_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a token for `user`; the clear token is returned once and never stored."""
    name = (name or "").strip()
    if not name or len(name) > 80:
        raise ValueError(t("give the token a name of 1–80 characters (e.g. 'flow cytometer')"))
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, name=name, prefix=token[:12], token_hash=hash_token(token))
    session.add(row)
    session.flush()
    return row, token


def revoke_token(session, token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.flush()


def user_for_token(session, header: str | None) -> User | None:
    """The active user a bearer token belongs to, or None. A temporary sign-in lock (wrong passwords
    typed by anyone) does not stop the owner's instruments; a reset or deactivation revokes the tokens
    (bank.users), and a user who must change their password is refused with 403 (bank.app)."""
    if not header or not header.startswith("Bearer "):
        return None
    token = header[len("Bearer ") :].strip()
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if row is None or row.revoked_at is not None:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    return user


# ---- input: the UI's forms, fed from JSON --------------------------------------------------------


class ApiInputError(Refused):
    """Input the API cannot read at all (400) or fields that fail their form's validation (422)."""

    def __init__(self, errors: dict[str, str], status: int = 422):
        super().__init__(errors)
        self._status = status

    @property
    def status(self) -> int:
        return self._status


def json_body() -> dict:
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise ApiInputError({"body": t("send a JSON object (Content-Type: application/json)")}, 400)
    return payload


def form_from_json(form_class, prepare=None, extra: tuple[str, ...] = ()):
    """Validate a JSON object with a WTForms form (CSRF off): the API and the UI share every rule.
    `prepare(form)` fills choices that come from the database, as the UI view does; keys in `extra`
    are read by the endpoint itself (e.g. a marker panel object) and left out of the form."""
    payload = {k: v for k, v in json_body().items() if k not in extra}
    allowed = set(form_class(meta={"csrf": False}, formdata=None)._fields)
    unknown = sorted(set(payload) - allowed)
    if unknown:
        raise ApiInputError({k: t("unknown field") for k in unknown})
    data = MultiDict()
    for key, value in payload.items():
        values = value if isinstance(value, list) else [value]
        for v in values:
            if isinstance(v, bool):
                if v:
                    data.add(key, "y")
            elif v is None:
                continue
            elif isinstance(v, (str, int, float)):
                data.add(key, str(v))
            else:
                raise ApiInputError({key: t("must be a string, number or boolean")})
    # JSON gives cell counts as numbers of cells, where people type millions (bank.forms.CellCountField).
    form = form_class(formdata=data, meta={"csrf": False, "naive_time": "refuse", "cells_in_millions": False})
    if prepare is not None:
        prepare(form)
    if not form.validate():
        raise ApiInputError({name: joined(errs) for name, errs in form.errors.items()})
    return form


# ---- OpenAPI -------------------------------------------------------------------------------------


@dataclass
class Operation:
    path: str
    method: str
    endpoint: str
    summary: str
    permission: str
    form: type | None = None
    response: dict = field(default_factory=lambda: {"type": "object"})
    produces: str = "application/json"
    path_params: tuple[str, ...] = ()
    query: dict = field(default_factory=dict)
    prepare: object = None
    extra_properties: dict = field(default_factory=dict)


OPERATIONS: list[Operation] = []


_STRPTIME = {"%Y": ("YYYY", r"[0-9]{4}"), "%m": ("MM", r"[0-9]{2}"), "%d": ("DD", r"[0-9]{2}")}
_STRPTIME |= {"%H": ("HH", r"[0-9]{2}"), "%M": ("MM", r"[0-9]{2}"), "%S": ("SS", r"[0-9]{2}")}


def _literal(text: str) -> str:
    return re.sub(r"([.^$*+?()\[\]{}|\\])", r"\\\1", text)


def _time_schema(f) -> dict:
    """A date field is `format: date`; a time or date-time field has the pattern of the formats its
    form accepts (WTForms' `format` list), so the API accepts exactly what the document says."""
    if isinstance(f, wf.DateField) and list(f.format) == ["%Y-%m-%d"]:
        return {"type": "string", "format": "date", "description": "date, YYYY-MM-DD"}
    if isinstance(f, LocalDateTimeField):
        return {
            "type": "string",
            "pattern": API_TIME_PATTERN,
            "description": "date and time with its offset, YYYY-MM-DDTHH:MM[:SS] then Z or +HH:MM / -HH:MM "
            "(ISO 8601); a time without an offset is refused (422)",
        }
    parts = [re.split(r"(%[YmdHMS])", fmt) for fmt in f.format]
    # Literal separators (-, :, T, space) are written as they are: ECMA-262 (JSON Schema) refuses "\-".
    patterns = ["".join(_STRPTIME[p][1] if p in _STRPTIME else _literal(p) for p in fmt) for fmt in parts]
    shown = " or ".join("".join(_STRPTIME[p][0] if p in _STRPTIME else p for p in fmt) for fmt in parts)
    what = "time" if isinstance(f, wf.TimeField) else "UTC date and time"
    return {"type": "string", "pattern": f"^({'|'.join(patterns)})$", "description": f"{what}, {shown}"}


def _choice_values(f) -> list[str]:
    return [str(c[0]) for c in f.choices if str(c[0])]


def _type_schema(f) -> dict:
    """The JSON type of a form field (checked in this order: a DateField is also a DateTimeField)."""
    if isinstance(f, wf.BooleanField):
        return {"type": "boolean"}
    if isinstance(f, wf.IntegerField):
        return {"type": "integer"}
    if isinstance(f, (wf.DecimalField, wf.FloatField)):
        return {"type": "number"}
    if isinstance(f, (wf.DateField, wf.TimeField, wf.DateTimeField)):  # the first two are DateTimeFields
        return _time_schema(f)
    if isinstance(f, wf.SelectMultipleField):
        schema = {"type": "array", "items": {"type": "string"}}
        if f.choices:
            schema["items"]["enum"] = _choice_values(f)
        return schema
    if isinstance(f, (wf.SelectField, wf.RadioField)):
        schema = {"type": "string"}
        if f.choices:
            schema["enum"] = _choice_values(f)
        return schema
    return {"type": "string"}


def _add_bounds(schema: dict, validators) -> None:
    """Length and number bounds from the field's validators, where they fit the type."""
    for v in validators:
        if isinstance(v, Length) and schema["type"] == "string":
            if v.max and v.max > 0:
                schema["maxLength"] = v.max
            if v.min and v.min > 0:
                schema["minLength"] = v.min
        if isinstance(v, NumberRange) and schema["type"] in ("integer", "number"):
            if v.min is not None:
                schema["minimum"] = v.min
            if v.max is not None:
                schema["maximum"] = v.max


def field_schema(f) -> dict:
    schema = _type_schema(f)
    _add_bounds(schema, f.validators)
    if f.description:
        schema["description"] = str(f.description)
    return schema


def form_schema(form_class, prepare=None, extra_properties: dict | None = None) -> dict:
    form = form_class(formdata=None, meta={"csrf": False})
    if prepare is not None:
        try:
            prepare(form)
        except HTTPException:
            pass  # the reference data behind the choices is not there yet: the field is described without them
    props, required = {}, []
    for name, f in form._fields.items():
        if isinstance(f, (wf.SubmitField, wf.HiddenField)) and name == "csrf_token":
            continue
        props[name] = field_schema(f)
        if any(isinstance(v, (DataRequired, InputRequired)) for v in f.validators):
            required.append(name)
    props.update(extra_properties or {})
    schema = {"type": "object", "properties": props, "additionalProperties": False}
    if required:
        schema["required"] = required
    return schema


def object_schema(**properties) -> dict:
    """The OpenAPI schema of a JSON object: each property by its JSON type's name ("integer") or by its
    own schema (a dict)."""
    return {
        "type": "object",
        "properties": {k: v if isinstance(v, dict) else {"type": v} for k, v in properties.items()},
    }


def of_type(json_type: str, *names: str) -> dict:
    """Properties that share one JSON type, for object_schema: `**of_type("string", "din", "status")`."""
    return dict.fromkeys(names, json_type)


# Every endpoint may answer these, all with the one error body (bank.api._refused and bank.app).
ERROR_RESPONSES = {
    "400": "Malformed request",
    "401": "Missing or invalid token",
    "403": "Permission missing",
    "404": "No such record",
    "409": "Refused by a rule or changed by someone else",
    "422": "Invalid fields (one message per field)",
}


def openapi_document(app: Flask) -> dict:
    paths: dict = {}
    problem = object_schema(
        rule_id="string", message="string", evidence="string", field={"type": ["string", "null"]}
    )
    error = object_schema(
        error="string",
        message={"type": ["string", "null"]},
        errors={"type": "object", "additionalProperties": {"type": "string"}},
        problems={"type": "array", "items": problem},
    )
    for op in OPERATIONS:
        item = {
            "operationId": op.endpoint.replace(".", "_"),
            "summary": op.summary,
            "description": f"Permission: `{op.permission}`.",
            "security": [{"bearer": []}],
            "parameters": [
                {"name": p, "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
                for p in op.path_params
            ]
            + [{"name": k, "in": "query", "required": False, "schema": v} for k, v in op.query.items()],
            "responses": {
                "200": {
                    "description": "OK",
                    "content": {
                        op.produces: {"schema": op.response}
                        if op.produces == "application/json"
                        else {"schema": {"type": "string", "format": "binary"}}
                    },
                },
                **{
                    code: {"description": meaning, "content": {"application/json": {"schema": error}}}
                    for code, meaning in ERROR_RESPONSES.items()
                },
            },
        }
        if op.form is not None:
            item["requestBody"] = {
                "required": True,
                "content": {
                    "application/json": {"schema": form_schema(op.form, op.prepare, op.extra_properties)}
                },
            }
        openapi_path = op.path
        for p in op.path_params:
            openapi_path = openapi_path.replace(f"<int:{p}>", "{" + p + "}")
        paths.setdefault("/api/v1" + openapi_path, {})[op.method.lower()] = item
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "MSC bank API",
            "version": "1",
            "description": "Donors, lots, release, doses, labels and custody. Authenticate with a personal "
            "token: `Authorization: Bearer msc_…` (create it under *API tokens*).",
        },
        # Never the request's Host header (anyone can send one): the configured address, else relative.
        "servers": [{"url": app.config.get("PUBLIC_URL") or "/"}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "paths": paths,
    }


bp = Blueprint("api", __name__, url_prefix="/api/v1")


def api_route(
    path: str,
    *,
    methods=("GET",),
    permission: str,
    summary: str,
    form=None,
    response=None,
    produces: str = "application/json",
    query: dict | None = None,
    prepare=None,
    extra_properties: dict | None = None,
):
    """Register an API endpoint on the shared blueprint, with its permission and OpenAPI description."""

    def decorate(view):
        view.permission = permission
        endpoint = view.__name__
        params = tuple(part[5:-1] for part in path.split("/") if part.startswith("<int:"))
        for method in methods:
            OPERATIONS.append(
                Operation(
                    path,
                    method,
                    f"api.{endpoint}",
                    summary,
                    permission,
                    form,
                    response or {"type": "object"},
                    produces,
                    params,
                    query or {},
                    prepare,
                    extra_properties or {},
                )
            )
        bp.add_url_rule(path, endpoint, view, methods=list(methods))
        return view

    return decorate


def api_write(
    path: str,
    record=None,
    *,
    form,
    reason,
    answer=None,
    status: int = 201,
    prepare=None,
    read_first: dict | None = None,
    **described,
):
    """A write endpoint (POST) declared once. In this order: the record the path names is loaded (404
    when there is none); the keys of `read_first` are read from the JSON body by their own reader (an
    ApiInputError when they are wrong) and left out of the form; the body is read by `form` (422 by
    field); then the handler runs in one unit of work attributed to the token's owner, with `reason`
    kept in the audit trail (a text, or a function of the form and the record), and `answer(result)`
    (or the handler's result itself) is sent back as JSON with `status`. So a handler holds only what
    differs: `handler(form)` or `handler(record, form)`, plus the `read_first` values by keyword, calls
    its service. A refusal is answered by the one handler below (409 rule, 422 input). `described`
    goes to api_route (permission, summary, response, extra_properties) for the OpenAPI document."""
    read_first = read_first or {}

    def decorate(handler):
        @functools.wraps(handler)
        def view(**path_ids):
            found = get_or_404(record, *path_ids.values()) if record is not None else None
            values = {key: read(json_body().get(key)) for key, read in read_first.items()}
            posted = form_from_json(form, prepare, extra=tuple(read_first))
            with work(reason(posted, found) if callable(reason) else reason):
                result = handler(posted, **values) if record is None else handler(found, posted, **values)
            return jsonify(answer(result) if answer is not None else result), status

        return api_route(path, methods=("POST",), form=form, prepare=prepare, **described)(view)

    return decorate


_REFUSED = t("Refused.")


@bp.errorhandler(Refused)
def _refused(e: Refused):
    """Every refusal of every endpoint, the same way: 422 for input errors by field, 409 for rule
    refusals with every problem listed (problems that would reveal a blinded arm masked)."""
    actor = g.get("actor")
    e = e.visible_to(actor.permissions if actor is not None else frozenset())
    body = {
        "error": "invalid input" if e.status in (400, 422) else "refused",
        "message": "; ".join(e.messages()) or localize(_REFUSED),
        "errors": {k: localize(v) for k, v in e.errors.items()},
        "problems": [p.as_dict() for p in e.problems],
    }
    return jsonify(body), e.status


PAGE_QUERY = {"page": {"type": "integer", "minimum": 1}}


def fields_of(record, *names: str) -> dict:
    """These attributes of a record as they are stored, by name: the part of its JSON that needs no
    conversion (text, numbers, booleans, null)."""
    return {name: getattr(record, name) for name in names}


def page_json(page, serialise) -> dict:
    """A page of a list (bank.web.paginate) as JSON: items plus paging figures."""
    return {
        "items": [serialise(x) for x in page.items],
        "page": page.page,
        "pages": page.pages,
        "total": page.total,
        "total_capped": page.total_capped,
    }  # lists count up to bank.web.COUNT_CAP


def api_user() -> User:
    if g.get("user") is None:
        abort(401)
    return g.user


def init_app(app: Flask) -> None:
    """Register the shared blueprint once every module has added its routes (bank.app imports
    bank.api_core and the domains' api modules first)."""
    app.register_blueprint(bp)
    csrf = app.extensions["csrf"]
    csrf.exempt(bp)  # bearer tokens, not cookies: no cross-site forgery possible
