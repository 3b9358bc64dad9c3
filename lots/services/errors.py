"""The one error the lots services raise: every problem found, keyed by the form field it concerns."""

from __future__ import annotations

from collections.abc import Iterable

from lots.rules import Problem

FORM = "form"  # key of a problem that concerns the whole form, not one field


class LotError(ValueError):
    """`errors` maps a form field name (or FORM / another key) to a message people can act on."""

    def __init__(self, errors: dict[str, str]):
        self.errors = dict(errors)
        super().__init__("; ".join(self.errors.values()))

    @classmethod
    def of(cls, problems: Iterable[Problem], field: str = FORM) -> LotError:
        """Wrap rule problems; several problems on one field are joined so none is lost."""
        return cls({field: " ".join(p.message for p in problems)})


def refuse_if(errors: dict[str, str]) -> None:
    if errors:
        raise LotError(errors)
