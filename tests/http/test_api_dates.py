"""The OpenAPI document types date fields as dates (`format: date`) and time and date-time fields with
the pattern their forms accept, and the API accepts exactly what it documents (issue 18): every
documented date, time and date-time field is fed values generated from its own schema."""

from __future__ import annotations

import calendar
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bank.api import OPERATIONS, ApiInputError, form_from_json

pytestmark = pytest.mark.requirement("ER-TIME", "API-SAME-RULES")


def _time_fields(app) -> list[tuple[str, str, dict]]:
    """(operation endpoint, field, schema) of every documented date, time or date-time field."""
    doc = app.test_client().get("/api/v1/openapi.json").json
    found = []
    for methods in doc["paths"].values():
        for op in methods.values():
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            for name, schema in body.get("properties", {}).items():
                desc = schema.get("description", "")
                if schema.get("format") == "date" or desc.startswith(
                    ("time,", "date and time with its offset")
                ):
                    found.append((op["operationId"], name, schema))
    return found


def test_date_fields_are_documented_as_dates_and_times_with_their_real_pattern(app):
    fields = {(op, name): schema for op, name, schema in _time_fields(app)}
    assert fields[("api_patients_allocate", "planned_date")]["format"] == "date"
    assert fields[("api_patients_allocate", "planned_time")]["pattern"] == "^([0-9]{2}:[0-9]{2})$"
    assert fields[("api_lots_harvest", "collected_at")]["pattern"] == (
        # [0-9], not \d: Python's \d takes any digit. The offset is required (issue 19).
        "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2})?(Z|[+-][0-9]{2}:[0-9]{2})$"
    )
    for (_, name), schema in fields.items():
        assert "format" in schema or "pattern" in schema, name
        assert schema.get("format") != "date" or "pattern" not in schema, name


def _valid(value: str) -> bool:
    """Calendar sense a pattern of digits cannot carry (month 13, 25 o'clock, 30 February)."""
    pattern = r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?(?:Z|[+-](\d{2}):(\d{2}))?)?"
    if m := re.fullmatch(pattern, value):
        y, mo, d = int(m[1]), int(m[2]), int(m[3])
        if not (1 <= y and 1 <= mo <= 12 and 1 <= d <= calendar.monthrange(y, mo)[1]):
            return False
        hours_minutes = [(m[4], m[5]), (m[7] or "0", m[8] or "0")] if m[4] else []
        return all(int(h) < 24 and int(mi) < 60 for h, mi in hours_minutes) and int(m[6] or 0) < 60
    m = re.fullmatch(r"(\d{2}):(\d{2})", value)
    return m is not None and int(m[1]) < 24 and int(m[2]) < 60


def _from_schema(schema: dict):
    if schema.get("format") == "date":
        return st.dates().map(lambda d: d.isoformat())
    return st.from_regex(schema["pattern"], fullmatch=True).filter(_valid)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_every_documented_date_field_accepts_a_value_generated_from_its_schema(app, data):
    fields = _time_fields(app)
    op_id, name, schema = data.draw(st.sampled_from(fields), label="field")
    value = data.draw(_from_schema(schema), label="value")
    operation = next(o for o in OPERATIONS if o.endpoint.replace(".", "_") == op_id and o.form)
    with app.test_request_context(json={name: value}):
        try:
            # Without `prepare` (choices from reference data): only this one field's validation matters.
            form_from_json(operation.form, None, tuple(operation.extra_properties))
        except ApiInputError as e:
            assert name not in e.errors, (op_id, name, value, e.errors.get(name))
