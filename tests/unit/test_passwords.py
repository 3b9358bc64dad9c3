"""Password policy (issue 17): length, the bundled list of common passwords, and the lock's growing delay;
the control-character filter every form uses; LIKE patterns that take % and _ literally."""

from datetime import timedelta

import pytest
from flask import Flask
from werkzeug.datastructures import MultiDict
from wtforms import StringField

from bank.forms import BankForm
from bank.passwords import MIN_LENGTH, common_passwords, is_common, policy_problems
from bank.users import LOCK_FIRST, LOCK_LONGEST, lock_duration
from bank.web import like_pattern


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


def test_the_lock_doubles_after_each_failure_past_the_limit_up_to_an_hour():
    assert lock_duration(5, 5) == LOCK_FIRST == timedelta(minutes=1)
    assert [lock_duration(n, 5) for n in (6, 7, 8)] == [timedelta(minutes=m) for m in (2, 4, 8)]
    assert lock_duration(12, 5) == LOCK_LONGEST == timedelta(hours=1)
    assert lock_duration(500, 5) == LOCK_LONGEST


@pytest.fixture
def request_context():
    """FlaskForm reads the request: a bare application's is enough (no database)."""
    with Flask(__name__).test_request_context():
        yield


class _NoteForm(BankForm):
    class Meta:
        csrf = False

    note = StringField("Note")
    other = StringField("Other")


@pytest.mark.parametrize("text", ["a\x00b", "\x1b[31m", "x\x07"])
def test_a_control_character_is_a_field_error(text, request_context):
    form = _NoteForm(formdata=MultiDict({"note": text, "other": "fine"}))
    assert not form.validate()
    assert list(form.errors) == ["note"] and "control character" in form.errors["note"][0]


def test_tabs_and_line_breaks_are_text(request_context):
    assert _NoteForm(formdata=MultiDict({"note": "line 1\r\n\tline 2"})).validate()


def test_like_pattern_takes_percent_underscore_and_backslash_literally():
    assert like_pattern("50%_a\\b") == "%50\\%\\_a\\\\b%"
