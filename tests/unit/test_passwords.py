"""Password policy (issue 17): length, the bundled list of common passwords, and the lock's growing delay;
the control-character filter every form uses; LIKE patterns that take % and _ literally."""

import pytest

from bank.passwords import MIN_LENGTH, common_passwords, is_common, policy_problems

pytestmark = pytest.mark.requirement("ER-PASSWORDS")


@pytest.mark.parametrize(
    "password",
    [
        "password12",
        "Password1!",
        "Password1234!",
        "QWERTY123456789",
        "iloveyou!!!!2024",
        "Sunshine_2026",
        "LETMEIN########",
    ],
)
def test_common_passwords_are_refused_whatever_the_case_and_suffix(password):
    assert is_common(password)
    assert policy_problems(password), password


@pytest.mark.parametrize(
    "password", ["Correct-horse-42", "Lab-Keeper-2026!", "Bench-work-2026", "tG7#kq9!Lw2x"]
)
def test_uncommon_passwords_of_twelve_characters_pass(password):
    assert policy_problems(password, "jane") == []


def test_eleven_characters_are_too_short():
    assert MIN_LENGTH == 12
    assert "at least 12 characters" in policy_problems("Xk7-qpw9-Lm")


def test_the_bundled_list_holds_thousands_of_lower_case_passwords():
    listed = common_passwords()
    assert len(listed) >= 4000
    assert {"123456", "password", "qwerty", "dragon"} <= listed
    assert all(p == p.lower() for p in listed)
