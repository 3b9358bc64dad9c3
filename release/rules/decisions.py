"""Release decisions (DOMAIN.md §4): the lot verdict, every reason QA may not release a lot (a required test
missing, out of specification or unverified, a deviation open, the donor, quarantine, the signer entered or
verified a result: four eyes, 21 CFR Part 11, Annex 11 §15), when a result may be entered or verified, when a
specification version may be drafted, edited or approved, and the late-sterility alert. Pure: facts in,
every Problem out; the lot's and the specification's statuses are checked by their workflow tables."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from bank.i18n import N_, t
from bank.refusals import FORM, Problem
from release.rules.specification import QualitativeTest, Specification, SpecTest, name_of
from release.rules.texts import both, known_text
from release.rules.verdicts import Verdict

LotVerdict = Literal["pass", "fail", "incomplete"]


@dataclass(frozen=True)
class LotFacts:
    """The lot as the release decisions see it."""

    din: str
    status: str
    status_label: str
    quarantined: bool
    product_key: str


@dataclass(frozen=True)
class ResultFacts:
    """One recorded result of the lot, as the release decision sees it. `verdict` is the stored
    Verdict.status; `is_conditional` its conditional flag; a superseded result was replaced by a
    retest (kept and shown, not judged). `result_ref` is only quoted in evidence."""

    test_code: str
    verdict: str
    verified: bool
    entered_by: int
    verified_by: int | None
    is_conditional: bool = False
    superseded: bool = False
    performed_by: int | None = None
    result_ref: str = ""
    voided: bool = False


@dataclass(frozen=True)
class DonorReleaseFacts:
    """Donor side of a release: eligibility signed by the responsible person, look-back hold, autologous."""

    eligible_signed: bool
    under_lookback: bool
    is_autologous: bool


def current_results(results: Sequence[ResultFacts]) -> list[ResultFacts]:
    """Results that count for the verdict: all but the superseded and voided ones (shown, not judged)."""
    return [r for r in results if not r.superseded and not r.voided]


def _ref(result: ResultFacts) -> str:
    return f"{result.test_code}{' #' + result.result_ref if result.result_ref else ''}"


def _result_problems(test: SpecTest, r: ResultFacts, allow_conditional: bool) -> list[Problem]:
    ref, name, problems = _ref(r), name_of(test), []
    add = problems.append
    if r.verdict == "fail":
        msg = t("%(test)s is out of specification.", test=name)
        add(Problem("release.out_of_specification", msg, evidence=f"{ref}: fail"))
    elif r.verdict != "pass":
        add(
            Problem(
                "release.result_invalid",
                t("%(test)s result is invalid.", test=name),
                evidence=f"{ref}: {r.verdict!r}",
            )
        )
    if not r.verified or r.verified_by is None:
        msg = t("%(test)s result is not verified.", test=name)
        add(Problem("release.unverified", msg, evidence=f"{ref}: not verified"))
    elif r.verified_by == r.entered_by:
        msg = t("%(test)s result was verified by the person who entered it.", test=name)
        add(Problem("release.self_verified", msg, evidence=f"{ref}: entered_by=verified_by={r.entered_by}"))
    if r.is_conditional and r.verdict == "pass":
        if not allow_conditional:
            msg = t("%(test)s has only an interim result and conditional release was not chosen.", test=name)
            add(Problem("release.conditional_not_allowed", msg, evidence=f"{ref}: conditional"))
        elif not (isinstance(test, QualitativeTest) and test.conditional):
            msg = t("The specification does not allow conditional release on %(test)s.", test=name)
            add(Problem("release.conditional_not_in_spec", msg, evidence=f"{ref}: conditional"))
    return problems


def _test_problems(spec: Specification, results: Sequence[ResultFacts], allow: bool) -> list[Problem]:
    current, problems = current_results(results), []
    for test in spec.tests:
        mine = [r for r in current if r.test_code == test.code]
        if not mine and test.required:
            evidence = f"{test.code}; specification {spec.product_key} v{spec.version}"
            message = t("%(test)s has no result.", test=name_of(test))
            problems.append(Problem("release.test_missing", message, evidence=evidence))
        for result in mine:
            problems.extend(_result_problems(test, result, allow))
    return problems


def lot_verdict(
    spec: Specification, results: Sequence[ResultFacts], allow_conditional: bool = False
) -> LotVerdict:
    """'fail' if any current result of a specification test fails (an out-of-specification result
    stands until a retest supersedes it); 'pass' if every test is met by verified passing results
    (interim results only when `allow_conditional`); otherwise 'incomplete'. Results of tests not in
    the specification are ignored."""
    problems = _test_problems(spec, results, allow_conditional)
    if any(p.rule_id == "release.out_of_specification" for p in problems):
        return "fail"
    return "incomplete" if problems else "pass"


def release_blockers(
    spec: Specification,
    results: Sequence[ResultFacts],
    open_deviations: Sequence[str],
    donor: DonorReleaseFacts,
    signer_id: int,
    allow_conditional: bool,
) -> list[Problem]:
    """Every reason the lot may not be released by `signer_id`; empty list = release permitted.

    Reasons: required test missing; result out of specification, invalid, unverified or self-verified;
    interim (conditional) result without conditional release chosen or allowed by the test; each open
    deviation (named by its reference); donor not signed eligible (allogeneic) or under look-back;
    signer entered, performed or verified any result of the lot, superseded ones included (four eyes).
    """
    problems = _test_problems(spec, results, allow_conditional)
    add = problems.append
    for ref in open_deviations:
        add(
            Problem(
                "release.deviation_open",
                t("Deviation %(ref)s is open.", ref=ref),
                evidence=f"deviation={ref}",
            )
        )
    if donor.under_lookback:
        msg = t("Donor is under look-back: the lot is held.")
        add(Problem("release.donor_lookback", msg, evidence="look-back"))
    if not donor.is_autologous and not donor.eligible_signed:
        msg = t("Donor eligibility has not been determined and signed as eligible.")
        add(Problem("release.donor_not_eligible", msg, evidence="allogeneic; eligible_signed=False"))
    # Four eyes: one line naming every result the signer took part in, grouped by what they did, so a
    # QA person who verified ten results reads one clear reason instead of ten.
    involved: dict[str, list[str]] = {}
    for r in results:
        acts = {"entered": r.entered_by, "performed": r.performed_by, "verified": r.verified_by}
        for role, who in acts.items():
            if who == signer_id:
                involved.setdefault(role, []).append(r.test_code)
    if involved:
        acts = {
            "entered": t("entered %(tests)s"),
            "performed": t("performed %(tests)s"),
            "verified": t("verified %(tests)s"),
        }
        parts = [
            t(acts[role].msgid, tests=", ".join(dict.fromkeys(involved[role])))
            for role in ("entered", "performed", "verified")
            if role in involved
        ]
        msg = t(
            "You %(acts)s: a result's analyst or verifier cannot release the lot (four eyes); "
            "another QA person must sign.",
            acts=both(parts),
        )
        add(Problem("release.four_eyes", msg, evidence="; ".join(parts)))
    return problems


def lot_status_problems(lot: LotFacts) -> list[Problem]:
    """Release is taken from 'awaiting QC' only (shown with the other blockers; the lot workflow table
    enforces it when the release is signed)."""
    if lot.status == "awaiting_qc":
        return []
    message = t("Lot is %(status)s, not awaiting QC.", status=known_text(lot.status_label))
    return [Problem("release.lot_status", message, evidence=f"status={lot.status}")]


def release_problems(
    lot: LotFacts,
    spec: Specification | None,
    results: Sequence[ResultFacts],
    open_deviations: Sequence[str],
    donor: DonorReleaseFacts,
    signer_id: int,
    allow_conditional: bool,
) -> list[Problem]:
    """Every reason besides its status that `signer_id` may not release the lot: quarantine, no specification
    in force, and every release blocker."""
    problems = []
    if lot.quarantined:
        problems.append(
            Problem(
                "release.quarantined",
                t(
                    "Lot is quarantined until its donor is signed eligible "
                    "and the quarantine is lifted (21 CFR 1271.60)."
                ),
                evidence="quarantined",
            )
        )
    if spec is None:
        problems.append(
            Problem(
                "release.no_specification",
                t("No effective specification for %(product)s.", product=lot.product_key),
                evidence=lot.product_key,
            )
        )
        return problems
    return problems + release_blockers(spec, results, open_deviations, donor, signer_id, allow_conditional)


# --- entering and verifying results ---------------------------------------------------------------


def results_closed(
    lot: LotFacts, released_conditionally: bool, replaces_interim: bool, corrects: bool = False
) -> list[Problem]:
    """A rejected lot takes no result; a released one only the final reading of the test it was released on
    conditionally (an interim sterility result), or the correction of a result typed wrongly (the release
    is then flagged for re-review), and nothing else."""
    if lot.status == "rejected" or (
        lot.status == "released" and not (released_conditionally and replaces_interim) and not corrects
    ):
        return [
            Problem(
                "release.results_closed",
                t(
                    "Lot %(din)s is %(status)s: its results are closed.",
                    din=lot.din,
                    status=known_text(lot.status),
                ),
                evidence=f"status={lot.status}",
            )
        ]
    return []


def entry_problems(
    test: SpecTest, existing: ResultFacts | None, retest_of: ResultFacts | None
) -> list[Problem]:
    """A test has one current result: another replaces it only as a retest of the current one (the original
    is kept), except an interim result, which the next reading supersedes."""
    problems = []
    if retest_of is not None and retest_of.superseded:
        problems.append(
            Problem(
                "release.retest_superseded",
                t(
                    "Result #%(ref)s was already superseded: retest the current result.",
                    ref=retest_of.result_ref,
                ),
                evidence=f"result={retest_of.result_ref}",
            )
        )
    if existing is not None and retest_of is None and not existing.is_conditional:
        problems.append(
            Problem(
                "release.result_exists",
                t(
                    "%(test)s already has result #%(ref)s; "
                    "to replace it, retest it with a reason (the original is kept).",
                    test=name_of(test),
                    ref=existing.result_ref,
                ),
                evidence=f"result={existing.result_ref}",
                field="test_code",
            )
        )
    return problems


def entry_errors(
    method: str,
    instrument: str,
    performed_on: date | None,
    today: date,
    harvested_on: date | None,
    retest_of: ResultFacts | None,
    retest_reason: str | None,
) -> dict[str, str]:
    """Input errors by field of a result's record (what, how, when, why a retest)."""
    errors = {}
    if retest_of is not None and not (retest_reason or "").strip() and not retest_of.is_conditional:
        errors["retest_reason"] = t("A retest needs a reason (e.g. the OOS investigation reference).")
    for field, text, limit in (("method", method, 200), ("instrument", instrument, 120)):
        if len((text or "").strip()) > limit:
            errors[field] = t("At most %(limit)s characters.", limit=limit)
    if not (method or "").strip():
        errors["method"] = t("Name the method (e.g. Ph. Eur. 2.6.27, BacT/ALERT).")
    if performed_on is None:
        errors["performed_on"] = t("Give the date the test was performed.")
    elif performed_on > today:
        errors["performed_on"] = t("Cannot be in the future.")
    elif harvested_on is not None and performed_on < harvested_on:
        errors["performed_on"] = t("Before the harvest of this lot (%(day)s).", day=harvested_on)
    return errors


def verification_problems(result: ResultFacts, verifier_id: int, lot: LotFacts) -> list[Problem]:
    """Second-person verification: of a current, unverified result, never by the person who entered it."""
    ref, problems = result.result_ref, []
    if result.verified:
        problems.append(
            Problem(
                "release.already_verified",
                t("Result #%(ref)s is already verified.", ref=ref),
                evidence=f"result={ref}",
            )
        )
    if result.superseded:
        problems.append(
            Problem(
                "release.verify_superseded",
                t("Result #%(ref)s was superseded by a retest: verify the current one.", ref=ref),
                evidence=f"result={ref}",
            )
        )
    if result.entered_by == verifier_id:
        problems.append(
            Problem(
                "release.self_verification",
                t("You entered result #%(ref)s: a second person must verify it.", ref=ref),
                evidence=f"entered_by={verifier_id}",
            )
        )
    if lot.status == "rejected":
        problems.append(
            Problem(
                "release.results_closed",
                t("Lot %(din)s is rejected: its results are closed.", din=lot.din),
                evidence=f"status={lot.status}",
            )
        )
    return problems


def correction_problems(original: ResultFacts, actor_id: int, lot: LotFacts, void: bool) -> list[Problem]:
    """A result typed wrongly is corrected (a new result supersedes it, the original kept) or, entered in
    error, voided — both with a reason. Before verification only its author does it; after verification a
    correction is still possible but counts only once a second person verifies it (as any result), and a
    void is refused (a verified result is corrected or retested). Never a superseded or voided result, nor
    on a rejected lot."""
    ref, problems = original.result_ref, []
    add = problems.append
    if original.superseded or original.voided:
        msg = (
            t("Result #%(ref)s is voided: correct the current one.", ref=ref)
            if original.voided
            else t("Result #%(ref)s is superseded: correct the current one.", ref=ref)
        )
        add(Problem("release.correct_not_current", msg, evidence=ref))
    if not original.verified and original.entered_by != actor_id:
        msg = t(
            "Result #%(ref)s is not verified yet: only the analyst who entered it corrects or voids it.",
            ref=ref,
        )
        add(Problem("release.correct_not_author", msg, evidence=f"entered_by={original.entered_by}"))
    if void and original.verified:
        msg = t(
            "Result #%(ref)s is verified: correct it (a second person verifies the correction) or retest it.",
            ref=ref,
        )
        add(Problem("release.void_verified", msg, evidence=f"result={ref}"))
    if lot.status == "rejected":
        msg = t("Lot %(din)s is rejected: its results are closed.", din=lot.din)
        add(Problem("release.results_closed", msg, evidence=lot.status))
    return problems


def rereview_problems(signed_at_refs: Sequence[str], changed: Sequence[tuple[str, str]]) -> list[Problem]:
    """A release or rejection signed on results later corrected or voided is flagged for QA re-review:
    one problem per changed result it was signed on (`changed`: (result ref, what happened, a message))."""
    signed = set(signed_at_refs)
    return [
        Problem(
            "release.rereview",
            t(
                "Signed on result #%(ref)s, since %(what)s: QA must re-review this decision.",
                ref=ref,
                what=what,
            ),
            evidence=ref,
        )
        for ref, what in changed
        if ref in signed
    ]


# --- specification versions -----------------------------------------------------------------------


def draft_problems(product_key: str, statuses: Sequence[str]) -> list[Problem]:
    """A new version is copied from an existing one; one version at a time is in preparation."""
    if not statuses:
        message = t("No specification of %(product)s to copy.", product=product_key)
        return [Problem("release.spec_none", message, evidence=product_key)]
    if any(s in ("draft", "approved") for s in statuses):
        return [
            Problem(
                "release.spec_in_preparation",
                t("%(product)s already has a version in preparation: finish it first.", product=product_key),
                evidence=product_key,
            )
        ]
    return []


def edit_problems(label: str, status: str, expected_version: int | None, version: int) -> list[Problem]:
    """Only a draft is edited, and only from what the editor last saw (a stale edit is refused)."""
    if status != "draft":
        message = t(
            "%(spec)s is %(status)s: only a draft can be edited.", spec=label, status=known_text(status)
        )
        return [Problem("release.spec_not_draft", message, evidence=status)]
    if expected_version is not None and expected_version != version:
        return [
            Problem(
                "release.spec_stale",
                t("This draft was changed by someone else since you opened it; reload."),
                evidence=f"version {expected_version} != {version}",
                field=FORM,
            )
        ]
    return []


def approval_problems(author_ids: Sequence[int | None], signer_id: int, change_note: str) -> list[Problem]:
    """A second QA person approves (four eyes) a draft that says what changed."""
    problems = []
    if signer_id in author_ids:
        problems.append(
            Problem(
                "release.spec_four_eyes",
                t("You drafted or edited this version: a second QA person must approve it."),
                evidence=f"signer={signer_id}",
            )
        )
    if not (change_note or "").strip():
        problems.append(
            Problem(
                "release.spec_no_change_note",
                t("Edit the draft and say what changed before approval."),
                evidence="change_note",
            )
        )
    return problems


# --- late sterility -------------------------------------------------------------------------


@dataclass(frozen=True)
class LateResultAlert:
    """An alert to send: who must be told (QA always, the clinician when patients are affected)."""

    rule_id: str
    message: str
    notify: tuple[str, ...]
    patients: tuple[str, ...]


def late_sterility_alert(
    final: Verdict, released_conditionally: bool, patients: Sequence[str] = (), lot_ref: str = ""
) -> LateResultAlert | None:
    """Alert needed when a lot released on an interim sterility result gets a final result that is not
    a pass (positive, or invalid so sterility is unconfirmed). None when no alert is needed: lot not
    conditionally released, or the result passes (an interim "no growth to date" is a conditional pass)."""
    if not released_conditionally or final.status == "pass":
        return None
    what = "positive" if final.status == "fail" else "invalid"
    found = t("positive") if what == "positive" else t("invalid")
    message = (
        t(
            "Final sterility of lot %(lot)s is %(what)s after conditional release: %(verdict)s",
            lot=lot_ref,
            what=found,
            verdict=final.message,
        )
        if lot_ref
        else t(
            "Final sterility is %(what)s after conditional release: %(verdict)s",
            what=found,
            verdict=final.message,
        )
    )
    return LateResultAlert(
        rule_id=f"release.late_sterility_{what}",
        message=message,
        # Stored as these words (shown in the reader's language with |tr).
        notify=(N_("QA"), N_("clinician")) if patients else (N_("QA"),),
        patients=tuple(patients),
    )
