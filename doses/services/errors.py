"""The errors the doses services raise: input problems keyed by form field, and allocation refusals
that carry every rule problem (rule id, message, evidence) so a screen can name each reason."""

from __future__ import annotations

from collections.abc import Iterable

from doses.rules import Problem

FORM = "form"  # key of a problem about the whole form, not one field


class DoseError(ValueError):
    """`errors` maps a form field name (or FORM) to a message people can act on; nothing was changed."""

    def __init__(self, errors: dict[str, str]):
        self.errors = dict(errors)
        super().__init__("; ".join(self.errors.values()))


class AllocationRefused(ValueError):
    """Allocation (or a proposal) refused: every problem found, none hidden. Views mask the problems
    flagged `reveals_treatment` for blinded users (doses.services.blinding.visible_problems)."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = list(problems)
        super().__init__("; ".join(f"{p.rule_id}: {p.message}" for p in self.problems))

    @property
    def rule_ids(self) -> set[str]:
        return {p.rule_id for p in self.problems}


def refuse_if(errors: dict[str, str]) -> None:
    if errors:
        raise DoseError(errors)
