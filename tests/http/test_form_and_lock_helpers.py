"""Issue 17, the request and lock helpers that need Flask or the users module (the unit layer imports
neither): control characters in any form field, literal LIKE patterns, the growing temporary lock."""

from datetime import timedelta

import pytest
from flask import Flask
from werkzeug.datastructures import MultiDict
from wtforms import StringField

from bank.forms import BankForm
from bank.users import LOCK_FIRST, LOCK_LONGEST, lock_duration
from bank.web import like_pattern


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


def test_entered_gives_each_field_by_name_with_empty_text_as_an_empty_string(request_context):
    from bank.forms import entered

    form = _NoteForm(formdata=MultiDict({"note": "thawed"}))
    assert entered(form) == {"note": "thawed", "other": ""}
    assert entered(form, "other") == {"note": "thawed"}
