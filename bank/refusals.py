"""One way to refuse: a `Problem` names one reason, `Refused` carries every reason at once.

Pure (no Flask, no SQLAlchemy): rules return Problems, services raise Refused, and one mapping shows a
refusal on a screen (bank.web.show_refusal) and one in the API (bank.api: 422 input, 409 rule).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bank.i18n import localize, t

FORM = "form"  # key of an input error about the whole form rather than one field

# What a user without the unblinded permission reads in place of a problem that would reveal the arm.
MASKED_RULE = "blinding.masked"
MASKED_MESSAGE = t(
    "This dose cannot be used for this request; the reason is withheld because it could reveal "
    "the treatment. Ask an unblinded pharmacist."
)
# What a user without the unblinded permission reads at the address of a lot, container, storage
# position, certificate or audit row: the same words whatever the record (bank.app).
MASKED_RECORD_MESSAGE = t("This record is masked for blinded users.")


@dataclass(frozen=True)
class Problem:
    """One reason a rule refuses: a stable rule id, a sentence for people, the facts behind it, the form
    field it concerns (None: the record as a whole), and whether showing it to a blinded user would
    reveal a treatment arm."""

    rule_id: str
    message: str
    evidence: str = ""
    field: str | None = None
    reveals_treatment: bool = False

    def __str__(self) -> str:
        return self.message

    def as_dict(self) -> dict:
        return {
            "rule_id": self.rule_id,
            "message": localize(self.message),
            "evidence": self.evidence,
            "field": self.field,
        }


def masked(problems: Iterable[Problem], permissions: frozenset[str] | set[str]) -> list[Problem]:
    """The problems as a user with `permissions` may read them: those that would reveal a blinded
    treatment become one neutral problem for users without the unblinded permission."""
    problems = list(problems)
    if "unblinded" in permissions:
        return problems
    kept = [p for p in problems if not p.reveals_treatment]
    if len(kept) < len(problems):
        kept.append(Problem(MASKED_RULE, MASKED_MESSAGE))
    return kept


class Refused(ValueError):
    """Nothing was changed. `errors` are input errors by form field (FORM for the whole form): the API
    answers 422. `problems` are rule refusals: the API answers 409, listing every one."""

    def __init__(self, errors: Mapping[str, str] | None = None, problems: Iterable[Problem] = ()):
        self.errors = {k: v for k, v in (errors or {}).items() if v}
        self.problems = list(problems)
        super().__init__("; ".join([*self.errors.values(), *(p.message for p in self.problems)]) or "refused")

    @classmethod
    def rule(cls, rule_id: str, message: str, evidence: str = "", field: str | None = None) -> Refused:
        return cls(problems=[Problem(rule_id, message, evidence, field)])

    @property
    def status(self) -> int:
        return 409 if self.problems else 422

    @property
    def rule_ids(self) -> set[str]:
        return {p.rule_id for p in self.problems}

    def visible_to(self, permissions) -> Refused:
        """The same refusal with treatment-revealing problems masked for a blinded reader."""
        shown = masked(self.problems, permissions)
        if shown == self.problems:
            return self
        return Refused(self.errors, shown)

    def messages(self) -> list[str]:
        """Every message, in the reader's language."""
        return [localize(m) for m in (*self.errors.values(), *(p.message for p in self.problems))]


def refuse_if(errors: Mapping[str, str] | None = None, problems: Iterable[Problem] = ()) -> None:
    """Raise Refused when there is any input error or rule problem; nothing else happens."""
    problems = list(problems)
    if errors or problems:
        raise Refused(errors, problems)


def control_character_errors(fields: Mapping[str, str | None]) -> dict[str, str]:
    """Input errors for text holding control characters: PostgreSQL cannot store a NUL byte at all, and
    the others are never typed by people. Tab, line feed and carriage return are text."""
    return {
        name: t("Contains a control character that cannot be recorded.")
        for name, value in fields.items()
        if isinstance(value, str) and any(ord(ch) < 32 and ch not in "\t\n\r" for ch in value)
    }
