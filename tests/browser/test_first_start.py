"""Issue 2 as a new user would do it: the admin signs in with the first-start password, must change
it, then creates a technician, who signs in with a one-time password and must change it too."""

import pytest

from tests.support import sign_in

pytestmark = pytest.mark.browser


def test_admin_first_sign_in_and_creates_a_technician(new_page, shots):
    page = new_page()
    page.goto("/")
    assert "/login" in page.url
    shots(page, "login page")
    sign_in(page, "admin", "wrong-password-1")
    assert (
        page.locator(".invalid-feedback").first.inner_text().startswith("Unknown user name or wrong password")
    )
    sign_in(page, "admin", "First-start-2026")
    assert page.url.endswith("/account/password")
    shots(page, "forced password change")
    page.fill("input[name=current_password]", "First-start-2026")
    page.fill("input[name=new_password]", "Keeper-of-cells-7")
    page.fill("input[name=confirm]", "Keeper-of-cells-7")
    page.click("main button[type=submit]")
    assert page.locator(".alert-success").inner_text().startswith("Your password is changed.")
    page.click("text=Users")
    page.click("text=New user")
    page.fill("input[name=username]", "tech.ana")
    page.fill("input[name=full_name]", "Ana Technician")
    page.check("input[name=roles][value=technician]")  # roles are checkboxes (issue 24)
    shots(page, "new technician form")
    page.click("main button[type=submit]")
    one_time = page.get_by_test_id("one-time-password").inner_text().strip()
    shots(page, "one-time password shown")
    page.click("button:has-text('Sign out')")

    sign_in(page, "tech.ana", one_time)
    assert page.url.endswith("/account/password")
    page.fill("input[name=current_password]", one_time)
    page.fill("input[name=new_password]", "Bench-work-2026")
    page.fill("input[name=confirm]", "Bench-work-2026")
    page.click("main button[type=submit]")
    assert "Ana Technician" in page.get_by_test_id("current-user").inner_text()
    page.goto("/admin/users")
    assert "403" in page.get_by_test_id("error-page").inner_text()
    shots(page, "technician refused the admin pages")
