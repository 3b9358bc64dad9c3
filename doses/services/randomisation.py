"""Randomisation lists of blinded trials: a CSV (subject_id, sequence) imported all-or-nothing, every
bad line named; the sequence of a subject is read only by allocation and by unblinded users."""

from __future__ import annotations

import csv
import hashlib
import io

from sqlalchemy import select
from sqlalchemy.orm import Session

from bank.db import rows_of
from bank.i18n import Text, t
from bank.refusals import Refused
from bank.uow import current_actor
from doses.models import Patient, ProtocolVersion, RandomisationEntry, RandomisationImport
from doses.rules import normalise_subject_id, subject_id_error
from doses.rules.protocol import Protocol

MAX_BYTES = 1_000_000
MAX_ROWS = 10_000
MAX_LISTED = 10  # line errors listed on the page; the count says how many more


def import_randomisation(
    session: Session, protocol_row: ProtocolVersion, filename: str, data: bytes
) -> RandomisationImport:
    """Import the list for the protocol of `protocol_row`. Refused as a whole (Refused on 'file') when
    the protocol is open-label, the file is not a CSV with the header subject_id,sequence, or any line has
    a malformed subject id, a sequence the protocol does not define, a duplicate, or a subject that
    already has a sequence."""
    protocol = protocol_row.protocol()
    if not protocol.blinded:
        raise Refused(
            {
                "file": t(
                    "%(protocol)s is open-label: every subject follows %(sequence)s; there is no randomisation "
                    "list.",
                    protocol=protocol.code,
                    sequence=protocol.sequences[0],
                )
            }
        )
    body = _list_lines(data)
    known = set(
        session.scalars(
            select(RandomisationEntry.subject_id).where(RandomisationEntry.protocol_code == protocol.code)
        )
    )
    parsed, problems = _parse_lines(protocol, body, known)
    if problems:
        more = len(problems) - MAX_LISTED
        listed = problems[0]
        for problem in problems[1:MAX_LISTED]:
            listed = t("%(first)s; %(next)s", first=listed, next=problem)
        if more > 0:
            listed = t("%(first)s; and %(count)s more", first=listed, count=more)
        raise Refused(
            {
                "file": t(
                    "Nothing imported — %(count)s problem(s): %(problems)s.",
                    count=len(problems),
                    problems=listed,
                )
            }
        )
    actor = current_actor(session)
    record = RandomisationImport(
        protocol_code=protocol.code,
        filename=(filename or "list.csv")[:200],
        sha256=hashlib.sha256(data).hexdigest(),
        rows=len(parsed),
        imported_by_id=actor.id if actor else None,
    )
    session.add(record)
    session.flush()
    session.add_all(
        RandomisationEntry(import_id=record.id, protocol_code=protocol.code, subject_id=s, sequence=q)
        for s, q in parsed
    )
    session.flush()
    return record


def _list_lines(data: bytes) -> list[list[str]]:
    """The list's lines after its header, blank lines left out; Refused on 'file' when the file is too
    large, not UTF-8, without the header, empty or too long."""
    if len(data) > MAX_BYTES:
        raise Refused({"file": t("The file is larger than %(size)s kB.", size=MAX_BYTES // 1000)})
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Refused({"file": t("The file is not UTF-8 text (export the list as CSV).")}) from None
    rows = list(csv.reader(io.StringIO(content)))
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows or [c.strip().lower() for c in rows[0]] != ["subject_id", "sequence"]:
        raise Refused(
            {"file": t("The first line must be the header: %(header)s", header="subject_id,sequence")}
        )
    body = rows[1:]
    if not body:
        raise Refused({"file": t("The list has no subject.")})
    if len(body) > MAX_ROWS:
        raise Refused({"file": t("More than %(count)s lines.", count=MAX_ROWS)})
    return body


def _parse_lines(
    protocol: Protocol, body: list[list[str]], known: set[str]
) -> tuple[list[tuple[str, str]], list[Text]]:
    """(subject, sequence) of every line, and every line's problem (numbered as in the file)."""
    problems: list[Text] = []
    seen: set[str] = set()
    parsed: list[tuple[str, str]] = []
    for number, row in enumerate(body, start=2):
        if len(row) != 2:
            problems.append(t("line %(line)s: two values expected (subject id, sequence)", line=number))
            continue
        subject, sequence = normalise_subject_id(row[0]), row[1].strip().upper()
        if error := subject_id_error(protocol, subject):
            problems.append(t("line %(line)s: %(problem)s", line=number, problem=error))
        if sequence not in protocol.sequences:
            problems.append(
                t(
                    "line %(line)s: sequence “%(sequence)s” is not one of %(sequences)s",
                    line=number,
                    sequence=sequence,
                    sequences=", ".join(protocol.sequences),
                )
            )
        if subject in seen:
            problems.append(t("line %(line)s: %(subject)s appears twice", line=number, subject=subject))
        elif subject in known:
            problems.append(
                t(
                    "line %(line)s: %(subject)s already has a sequence (lists are never overwritten)",
                    line=number,
                    subject=subject,
                )
            )
        seen.add(subject)
        parsed.append((subject, sequence))
    return parsed, problems


def randomisation_max_bytes() -> int:
    return MAX_BYTES


def sequence_of(session: Session, patient: Patient) -> str | None:
    """The subject's randomised sequence; for an open-label protocol its single sequence."""
    protocol = patient.protocol_version.protocol()
    if len(protocol.sequences) == 1 and not protocol.blinded:
        return protocol.sequences[0]
    return session.scalar(
        select(RandomisationEntry.sequence).where(
            RandomisationEntry.protocol_code == protocol.code,
            RandomisationEntry.subject_id == patient.subject_id,
        )
    )


def is_randomised(session: Session, patient: Patient) -> bool:
    return sequence_of(session, patient) is not None


def imports_of(session: Session, protocol_code: str) -> list[RandomisationImport]:
    return rows_of(session, RandomisationImport, RandomisationImport.id.desc(), protocol_code=protocol_code)
