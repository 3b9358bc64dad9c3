"""Issue 8: schema-driven fuzzing over the OpenAPI document. For any generated input — valid, nearly
valid or junk — the API answers without a 5xx, and a refused request writes nothing."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bank.models import AuditEntry
from tests.support import OpenApiClient, token_for

pytestmark = pytest.mark.requirement("API-SAME-RULES")

JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=300),
    st.sampled_from(
        [
            "",
            " ",
            "0",
            "-1",
            "1e309",
            "NaN",
            "2026-02-30",
            "9999-12-31",
            "0000-00-00",
            "'; DROP TABLE users; --",
            "\u0000",
            "<script>",
            "x" * 5000,
        ]
    ),
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


def value_for(schema: dict):
    kind = schema.get("type")
    if "enum" in schema:
        good = st.sampled_from(schema["enum"])
    elif schema.get("format") == "date":
        good = st.dates().map(lambda d: d.isoformat())
    elif kind == "integer":
        good = st.integers(min_value=-5, max_value=10**7)
    elif kind == "number":
        good = st.floats(min_value=-1000, max_value=10**6, allow_nan=False)
    elif kind == "boolean":
        good = st.booleans()
    elif kind == "array":
        good = st.lists(value_for(schema.get("items", {})), max_size=3)
    else:
        good = st.text(max_size=schema.get("maxLength", 50) + 5)
    return st.one_of(good, good, JUNK)


def body_for(schema: dict):
    props = schema.get("properties", {})
    return st.fixed_dictionaries({}, optional={name: value_for(s) for name, s in props.items()}).flatmap(
        lambda body: st.one_of(
            st.just(body),
            st.dictionaries(st.text(max_size=8), JUNK, max_size=2).map(lambda extra: {**body, **extra}),
        )
    )


@pytest.fixture(scope="module")
def fuzz_client(app):
    from bank.uow import Actor, unit_of_work
    from bank.users import create_user
    from donors.services.criteria import ensure_seed_criteria
    from doses.services import ensure_seed_protocols
    from lots.services import seed_product_types
    from release.services import ensure_seed_specifications

    session = app.extensions["bank.sessions"]()
    with unit_of_work(session, Actor(None, "fuzz setup")):
        # Reference data the app otherwise stores on first use (a legitimate write, not a partial one).
        ensure_seed_criteria(session)
        seed_product_types(session)
        ensure_seed_specifications(session)
        ensure_seed_protocols(session)
        user = create_user(
            session,
            "fuzz.user",
            "Fuzz User",
            ["technician", "qa", "clinical"],
            "Fuzz-password-2026",
            must_change_password=False,
        )
    session.close()
    from tests.support import WebClient

    web = WebClient(app.test_client())
    web.login(user.username, "Fuzz-password-2026")
    return OpenApiClient(app.test_client(), token_for(web, "fuzzer"))


def _operations(app):
    with app.test_request_context():
        from bank.api import openapi_document

        doc = openapi_document(app)
    return sorted(op["operationId"] for methods in doc["paths"].values() for op in methods.values())


def test_fuzz_covers_every_documented_operation(app, fuzz_client):
    assert set(_operations(app)) == set(fuzz_client.ops)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_no_5xx_and_no_partial_write_for_any_generated_input(fuzz_client, engine, data):
    op_id = data.draw(st.sampled_from(sorted(fuzz_client.ops)), label="operation")
    method, path, op = fuzz_client.ops[op_id]
    params = {
        p["name"]: data.draw(
            st.one_of(st.integers(min_value=1, max_value=5), st.integers(min_value=10**6, max_value=10**9)),
            label=p["name"],
        )
        for p in op.get("parameters", [])
        if p["in"] == "path"
    }
    body = None
    if "requestBody" in op:
        body = data.draw(body_for(op["requestBody"]["content"]["application/json"]["schema"]), label="body")
    elif method == "GET":
        body = {
            p["name"]: str(data.draw(value_for(p["schema"])))
            for p in op.get("parameters", [])
            if p["in"] == "query"
        }
    with engine.connect() as conn:
        before = conn.execute(select(func.max(AuditEntry.id))).scalar()
    resp = fuzz_client.call(op_id, body, **params)
    assert resp.status_code < 500, (op_id, params, body, resp.get_data(as_text=True)[:500])
    if resp.status_code >= 400:
        assert resp.is_json, (op_id, resp.status_code)
        with engine.connect() as conn:
            assert conn.execute(select(func.max(AuditEntry.id))).scalar() == before, (op_id, body)
