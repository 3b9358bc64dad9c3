"""Messages for people in the reader's language, written once in English in the code.

Pure (no Flask): rules, workflow tables and forms build their messages with `t("…%(x)s…", x=…)` at any
time, even at import; the result is a `Text`, a `str` holding the English sentence (so logs, stored
reasons and comparisons stay stable) that also keeps its message id and values, and is shown in the
reader's language wherever it is rendered (a template calls `__html__`, the API and flash call
`localize`). The application installs the translator (bank.languages); without one, English.

Catalogues: translations/<lang>/LC_MESSAGES/messages.po, extracted with `pybabel extract -F babel.cfg`
(README: Languages). `N_` marks a stored, stable text (a signature meaning, a status) for extraction
without changing it: it is translated only where it is shown (`localize(value)` / `|tr`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal

from markupsafe import escape


# The installed translator: (msgid) -> text in the reader's language; and the number formatter.
def _untranslated(msgid: str) -> str:
    return msgid


def _plain_number(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


_translate: Callable[[str], str] = _untranslated
_number: Callable[[float | Decimal], str] = _plain_number
_day: Callable[[date], str] = date.isoformat
_moment: Callable[[datetime], str] = str


def install(
    translate: Callable[[str], str],
    number: Callable[[float | Decimal], str],
    day: Callable[[date], str] = date.isoformat,
    moment: Callable[[datetime], str] = str,
) -> None:
    """Set once by the application (bank.languages): how a message id, a number, a calendar day and a
    time are shown now."""
    global _translate, _number, _day, _moment
    _translate, _number, _day, _moment = translate, number, day, moment


def _placed(value, ways):
    """A value placed in a message, written the first of `ways` ((type, write) pairs) that fits its type; a
    list or tuple item by item, joined with commas; anything else as it is."""
    if isinstance(value, list | tuple):
        return ", ".join(str(_placed(v, ways)) for v in value)
    for kind, write in ways:
        if isinstance(value, kind) and not isinstance(value, bool):
            return write(value)
    return value


def _english(value):
    """A value placed in a message as the stored English sentence holds it."""
    return _placed(value, ((Text, str), (float, _plain_number)))


def _shown(value):
    """A value placed in a message, as the reader reads it: a nested message translated, a decimal
    number, a day or a time in the reader's notation (81,5 and 03/12/2026 in French), anything else as
    it is."""
    nested = (Text, lambda text: text.localized())  # a subclass may show itself its own way
    return _placed(value, (nested, (float | Decimal, _number), (datetime, _moment), (date, _day)))


def _fill(msgid: str, params: dict, shown) -> str:
    if not params:
        return msgid
    try:
        return msgid % {k: shown(v) for k, v in params.items()}
    except (KeyError, ValueError, TypeError):  # a translation with a broken placeholder: never a 500
        return msgid


class Text(str):
    """An English sentence that can show itself in the reader's language (see the module doc)."""

    msgid: str
    params: dict

    def __new__(cls, msgid: str, params: dict | None = None):
        params = dict(params or {})
        obj = super().__new__(cls, _fill(msgid, params, _english))
        obj.msgid, obj.params = msgid, params
        return obj

    def __getnewargs__(self):  # copy and pickle rebuild it from its id and values
        return (self.msgid, self.params)

    def localized(self) -> str:
        return _fill(_translate(self.msgid) if self.msgid else self.msgid, self.params, _shown)

    def __html__(self) -> str:
        return str(escape(self.localized()))


def t(msgid: str, **params) -> Text:
    """A message for people: `t("Weight %(kg)s kg is out of range.", kg=81.5)`. Placeholders are
    `%(name)s`; a value may itself be a `t(...)` message."""
    return Text(msgid, params)


def joined(parts, separator: str = "; ") -> Text:
    """Several messages read as one (e.g. every problem of a password), each in the reader's language:
    the English is the parts joined by `separator`, as a plain join would give."""
    parts = list(parts)
    msgid = separator.join(f"%(part{i})s" for i in range(len(parts)))
    return Text(msgid, {f"part{i}": part for i, part in enumerate(parts)})


class LowerCase(Text):
    """A stable text (a kind's label, "Passage") put inside a sentence in lower case ("a passage"), in
    the reader's language."""

    def __new__(cls, msgid: str, params: dict | None = None):
        obj = str.__new__(cls, str(msgid).lower())
        obj.msgid, obj.params = str(msgid), {}
        return obj

    def localized(self) -> str:
        return super().localized().lower()


def N_(msgid: str) -> str:
    """Marks a stable text for the catalogue and returns it unchanged (translated where shown)."""
    return msgid


def localize(value):
    """`value` in the reader's language: a Text translated; a stable text marked with N_ looked up in
    the catalogue; a date left to the caller's formatting; anything else unchanged."""
    if isinstance(value, Text):
        return value.localized()
    if isinstance(value, str) and value:
        return _translate(value)
    if isinstance(value, date | datetime):
        return value
    return value
