"""Randomisation lists of blinded trials: a CSV (subject_id, sequence) imported all-or-nothing, every
bad line named; the sequence of a subject is read only by allocation and by unblinded users."""

from __future__ import annotations

import csv
import hashlib
import io

from sqlalchemy import select
from sqlalchemy.orm import Session

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
                "file": f"{protocol.code} is open-label: every subject follows "
                f"{protocol.sequences[0]}; there is no randomisation list."
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
        listed = "; ".join(problems[:MAX_LISTED]) + (f"; and {more} more" if more > 0 else "")
        raise Refused({"file": f"Nothing imported — {len(problems)} problem(s): {listed}."})
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
        raise Refused({"file": f"The file is larger than {MAX_BYTES // 1000} kB."})
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Refused({"file": "The file is not UTF-8 text (export the list as CSV)."}) from None
    rows = list(csv.reader(io.StringIO(content)))
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows or [c.strip().lower() for c in rows[0]] != ["subject_id", "sequence"]:
        raise Refused({"file": "The first line must be the header: subject_id,sequence"})
    body = rows[1:]
    if not body:
        raise Refused({"file": "The list has no subject."})
    if len(body) > MAX_ROWS:
        raise Refused({"file": f"More than {MAX_ROWS} lines."})
    return body


def _parse_lines(
    protocol: Protocol, body: list[list[str]], known: set[str]
) -> tuple[list[tuple[str, str]], list[str]]:
    """(subject, sequence) of every line, and every line's problem (numbered as in the file)."""
    problems: list[str] = []
    seen: set[str] = set()
    parsed: list[tuple[str, str]] = []
    for number, row in enumerate(body, start=2):
        if len(row) != 2:
            problems.append(f"line {number}: two values expected (subject_id,sequence)")
            continue
        subject, sequence = normalise_subject_id(row[0]), row[1].strip().upper()
        if error := subject_id_error(protocol, subject):
            problems.append(f"line {number}: {error}")
        if sequence not in protocol.sequences:
            problems.append(
                f"line {number}: sequence {sequence!r} is not one of {', '.join(protocol.sequences)}"
            )
        if subject in seen:
            problems.append(f"line {number}: {subject} appears twice")
        elif subject in known:
            problems.append(f"line {number}: {subject} already has a sequence (lists are never overwritten)")
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
    return list(
        session.scalars(
            select(RandomisationImport)
            .where(RandomisationImport.protocol_code == protocol_code)
            .order_by(RandomisationImport.id.desc())
        )
    )
