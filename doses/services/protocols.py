"""Protocols as versioned data: the seed trials (doses.reference) stored once as JSON, idempotently;
patients point at the exact version they are treated under."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bank.digest import canonical
from bank.i18n import t
from bank.refusals import FORM, Refused
from bank.status import change_status, initial_status
from doses.models import ProtocolVersion
from doses.reference import PROTOCOLS
from doses.rules.protocol import Protocol
from doses.states import PROTOCOL_VERSION_WORKFLOW


def ensure_seed_protocols(session: Session) -> list[ProtocolVersion]:
    """Store every seed protocol whose (code, version) is missing; return the rows added. Idempotent."""
    added = []
    for protocol in PROTOCOLS.values():
        exists = session.scalar(
            select(ProtocolVersion.id).where(
                ProtocolVersion.code == protocol.code, ProtocolVersion.version == protocol.version
            )
        )
        if exists is None:
            added.append(_store(session, protocol, seeded=True))
    session.flush()
    return added


def seeds_missing(session: Session) -> bool:
    stored = {(c, v) for c, v in session.execute(select(ProtocolVersion.code, ProtocolVersion.version))}
    return any((p.code, p.version) not in stored for p in PROTOCOLS.values())


def add_protocol_version(session: Session, protocol: Protocol) -> ProtocolVersion:
    """Store a new version of a protocol (validated by the Protocol dataclass itself) and retire the
    previous active one; patients already enrolled keep the version they were enrolled under."""
    if session.scalar(
        select(ProtocolVersion.id).where(
            ProtocolVersion.code == protocol.code, ProtocolVersion.version == protocol.version
        )
    ):
        raise Refused(
            {
                FORM: t(
                    "%(protocol)s version %(version)s already exists.",
                    protocol=protocol.code,
                    version=protocol.version,
                )
            }
        )
    for old in session.scalars(
        select(ProtocolVersion).where(
            ProtocolVersion.code == protocol.code, ProtocolVersion.status == "active"
        )
    ):
        change_status(
            session,
            old,
            PROTOCOL_VERSION_WORKFLOW,
            "retired",
            reason=f"superseded by version {protocol.version}",
        )
    row = _store(session, protocol, seeded=False)
    session.flush()
    return row


def _store(session: Session, protocol: Protocol, seeded: bool) -> ProtocolVersion:
    row = ProtocolVersion(
        code=protocol.code,
        version=protocol.version,
        definition=canonical(protocol.to_dict()),
        status=PROTOCOL_VERSION_WORKFLOW.initial,
        seeded=seeded,
    )
    session.add(row)
    initial_status(session, row, PROTOCOL_VERSION_WORKFLOW)
    return row


def active_protocols(session: Session) -> list[ProtocolVersion]:
    return list(
        session.scalars(
            select(ProtocolVersion).where(ProtocolVersion.status == "active").order_by(ProtocolVersion.code)
        )
    )


def protocol_versions(session: Session, code: str) -> list[ProtocolVersion]:
    return list(
        session.scalars(
            select(ProtocolVersion).where(ProtocolVersion.code == code).order_by(ProtocolVersion.id)
        )
    )
