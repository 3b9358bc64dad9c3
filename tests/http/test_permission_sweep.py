"""Every endpoint declares a permission; anonymous users are sent to login (DESIGN.md: permissions)."""

import pytest

from bank.permissions import ALL_PERMISSIONS
from bank.web import PUBLIC

pytestmark = pytest.mark.requirement("ER-AUTHORITY")


def test_every_endpoint_declares_a_known_permission(app):
    missing, unknown = [], []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        permission = getattr(app.view_functions[rule.endpoint], "permission", None)
        if permission is None:
            missing.append(rule.endpoint)
        elif permission != PUBLIC and permission not in ALL_PERMISSIONS:
            unknown.append((rule.endpoint, permission))
    assert not missing, f"endpoints without a permission: {missing}"
    assert not unknown, f"endpoints with an unknown permission: {unknown}"


def test_only_login_and_logout_are_public(app):
    public = {
        r.endpoint
        for r in app.url_map.iter_rules()
        if getattr(app.view_functions[r.endpoint], "permission", None) == PUBLIC
    }
    # the language switch is public so that the sign-in page can be read in French (issue 19)
    assert public <= {"auth.login", "auth.logout", "auth.choose_language", "api.openapi"}


def test_every_get_page_redirects_anonymous_users_to_login(app):
    client = app.test_client()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or "GET" not in rule.methods or rule.endpoint.startswith("auth."):
            continue
        if getattr(app.view_functions[rule.endpoint], "permission", None) == PUBLIC:
            continue
        url = rule.rule.replace("<int:", "<").replace("<", "").replace(">", "")
        url = "/".join(
            "1" if part and part.isidentifier() and part in rule.arguments else part
            for part in url.split("/")
        )
        resp = client.get(url)
        expected = 401 if url.startswith("/api/") else 302
        assert resp.status_code == expected, (rule.rule, resp.status_code)
