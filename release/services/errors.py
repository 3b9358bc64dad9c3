"""The error the release services raise for refused input: every problem, keyed by the form field."""

from __future__ import annotations

FORM = "form"  # key of a problem that concerns the whole form, not one field


class ReleaseError(ValueError):
    """`errors` maps a form field name (or FORM) to a message people can act on."""

    def __init__(self, errors: dict[str, str]):
        self.errors = dict(errors)
        super().__init__("; ".join(self.errors.values()))


def unstorable(fields: dict[str, str | None]) -> dict[str, str]:
    """Fields holding control characters (a NUL byte cannot be stored by PostgreSQL at all; the others
    are never typed by people): refused by field instead of failing on write."""
    return {name: "Contains a control character that cannot be recorded." for name, value in fields.items()
            if value and any(ord(ch) < 32 and ch not in "\t\n\r" for ch in value)}


def refuse_if(errors: dict[str, str]) -> None:
    if errors:
        raise ReleaseError(errors)
