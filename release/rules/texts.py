"""Pieces of release messages that stay whole in both languages (pure): a stored reference text shown in the
reader's language, lists joined with "or" / "and" / a separator, and exact figures such as "95.0" or a limit
"≥ 70" written with the reader's decimal mark. Every result is a bank.i18n.Text: English as a str (stored
verdicts, evidence and digests see exactly the English of before), translated where it is shown."""

from __future__ import annotations

from collections.abc import Sequence

from bank.i18n import N_, Text


def known_text(text: str) -> Text:
    """A stable stored text (a seed test's name, a status word, a reason the system writes: marked N_ where
    it is defined) that shows itself in the reader's language inside a message, as bank.i18n.localize shows
    it alone; a text the catalogue does not know (a site's own test name) is shown as it is."""
    return Text(text)


def _fold(msgid: str, items: Sequence) -> Text | str:
    if not items:
        return ""
    out = items[0]
    for item in items[1:]:
        out = Text(msgid, {"first": out, "then": item})
    return out


def either(items: Sequence) -> Text | str:
    """'a or b or c' in the reader's language (the items themselves are data: terms, markers)."""
    return _fold(N_("%(first)s or %(then)s"), list(items))


def both(items: Sequence) -> Text | str:
    """'a and b and c' in the reader's language."""
    return _fold(N_("%(first)s and %(then)s"), list(items))


def joined(items: Sequence, separator: str) -> Text:
    """Messages joined with a punctuation separator ('; ', ', ', '. '), each still shown in the reader's
    language: the joined text is a message of placeholders only, which every language writes the same."""
    items = list(items)
    msgid = separator.replace("%", "%%").join(f"%(p{i})s" for i in range(len(items)))
    return Text(msgid, {f"p{i}": item for i, item in enumerate(items)})


def decimal_mark() -> str:
    """The reader's decimal mark now, as bank.i18n writes one half."""
    return Text("%(half)s", {"half": 0.5}).localized()[1]


class Figure(Text):
    """An exact decimal as recorded or specified ('95.0', '0.0125'): every digit kept, never rounded (a lab
    value is read digit by digit), shown with the reader's decimal mark."""

    def localized(self) -> str:
        return self.msgid.replace(".", decimal_mark())


def figure(value) -> Figure:
    """`value` (a Decimal, the exact text of one, or a float limit written as '%g') as a Figure."""
    return Figure(f"{value:g}" if isinstance(value, float) else str(value))


def limit(op: str, value) -> Text:
    """A bound as the specification states it: '≥ 70', '< 0,5' in French."""
    return Text("%(op)s %(value)s", {"op": op, "value": figure(value)})
