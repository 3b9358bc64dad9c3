"""Core records: users, the append-only audit trail, status history, e-signatures, identifier counters."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bank.clock import utcnow
from bank.db import Base, Versioned, one_of
from bank.i18n import N_
from bank.permissions import ROLES


class Audited:
    """Marker: every insert, change or void of this record writes an audit row (bank.audit)."""

    __audit_exclude__: tuple[str, ...] = ()
    # field -> {stored word: its words for people (N_)}: how the audit trail shows a stored stable word
    # (a status whose word differs between workflows, a custody event). Statuses otherwise read as their
    # workflows' one label (bank.workflow.status_label); nothing stored changes.
    __audit_words__: dict[str, dict[str, str]] = {}


class User(Audited, Versioned, Base):
    __tablename__ = "users"
    __audit_exclude__ = ("password_hash",)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(120))
    roles: Mapped[str] = mapped_column(String(120), default="")
    unblinded: Mapped[bool] = mapped_column(Boolean, default=False)
    password_hash: Mapped[str] = mapped_column(String(255))
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_at: Mapped[datetime | None]
    locked_until: Mapped[datetime | None]  # a temporary lock after repeated wrong passwords (bank.users)
    last_login_at: Mapped[datetime | None]
    password_changed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    language: Mapped[str | None] = mapped_column(String(5))  # "fr", "en"; None: the facility's or browser's

    @property
    def role_list(self) -> list[str]:
        return [r for r in self.roles.split(",") if r]

    @role_list.setter
    def role_list(self, roles: list[str]) -> None:
        unknown = set(roles) - set(ROLES)
        if unknown:
            raise ValueError(f"unknown role(s): {', '.join(sorted(unknown))}")
        self.roles = ",".join(sorted(set(roles)))

    @property
    def is_locked(self) -> bool:
        """Held after repeated wrong passwords, until `locked_until` (or an administrator unlocks it)."""
        return self.locked_until is not None and self.locked_until > utcnow()


# What an audit row records, stored as these words and shown translated (the audit tables' `|tr`).
AUDIT_ACTIONS = (N_("insert"), N_("update"), N_("void"), N_("status"), N_("sign"), N_("view"))


class AuditEntry(Base):
    """One row per inserted, changed or voided audited record. Append-only: triggers refuse UPDATE and
    DELETE; each row carries the hash of the previous one (21 CFR 11.10(e), EU GMP Annex 11 §9)."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        CheckConstraint(f"action IN ({', '.join(repr(a) for a in AUDIT_ACTIONS)})", name="action"),
        Index("ix_audit_entries_entity", "entity", "entity_id"),
        Index("ix_audit_entries_actor_at", "actor_id", "at"),
        Index("ix_audit_entries_at", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(String(160))
    action: Mapped[str] = mapped_column(String(10))
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(64))
    changes: Mapped[str] = mapped_column(Text)  # canonical JSON {field: [old, new]}
    reason: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    row_hash: Mapped[str] = mapped_column(String(64))  # HMAC-SHA256 under the audit key (bank.auditkey)
    key_id: Mapped[str | None] = mapped_column(String(16))  # which key; None: unkeyed, before 0010


class AuditChainTip(Base):
    """The last row of the audit chain, kept by a database trigger on every insert into audit_entries.
        A transaction that appends locks this single row (SELECT … FOR UPDATE on PostgreSQL), which both
        queues the appenders and hands each the tip the one before it committed. `audit verify` checks that
        it names the chain's last row, so rows cut from the end of the chain do not go unnoticed. Triggers keep
    it consistent with the trail (no direct update, delete, or move backwards)."""

    __tablename__ = "audit_chain_tip"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    entry_id: Mapped[int | None]
    row_hash: Mapped[str] = mapped_column(String(64))
    chain_id: Mapped[str] = mapped_column(String(32))  # this database's chain, named in its checkpoints


class StatusChange(Base):
    """Append-only history of every workflow transition."""

    __tablename__ = "status_changes"
    __table_args__ = (Index("ix_status_changes_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(64))
    from_status: Mapped[str | None] = mapped_column(String(40))
    to_status: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(String(160))
    reason: Mapped[str | None] = mapped_column(Text)
    signature_id: Mapped[int | None] = mapped_column(ForeignKey("signatures.id"))


class Signature(Base):
    """An electronic signature bound to the digest of exactly what was signed (21 CFR 11.50, 11.70)."""

    __tablename__ = "signatures"
    __table_args__ = (Index("ix_signatures_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    printed_name: Mapped[str] = mapped_column(String(160))
    meaning: Mapped[str] = mapped_column(String(120))
    signed_at: Mapped[datetime]
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(64))
    content_digest: Mapped[str] = mapped_column(String(64))
    binding_digest: Mapped[str] = mapped_column(String(64))  # over signer, meaning, time, record, content


class IdentifierCounter(Base):
    """Monotonic counters (DIN sequence per year, donor codes): a number once issued is never reused."""

    __tablename__ = "identifier_counters"
    __table_args__ = (UniqueConstraint("name", "scope"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    scope: Mapped[str] = mapped_column(String(40))
    value: Mapped[int] = mapped_column(Integer, default=0)


class ApiToken(Audited, Base):
    """A personal API token: shown once at creation, stored only as its SHA-256, revocable."""

    __tablename__ = "api_tokens"
    __audit_exclude__ = ("token_hash",)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    prefix: Mapped[str] = mapped_column(String(12))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class UserSession(Base):
    """A signed-in browser session, kept in the database so that every worker shares it and signing out
    really ends it: the cookie holds only a random id, stored here as its SHA-256 (bank.signin)."""

    __tablename__ = "user_sessions"
    __table_args__ = (Index("ix_user_sessions_user_ended", "user_id", "ended_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]  # the absolute lifetime, whatever the activity
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(60))
    address: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(200), default="")


class PendingForm(Base):
    """A form sent after its sender's session had ended (idle time-out), kept for that same user to check
    and send again once signed in (bank.keptforms). Password fields are never kept."""

    __tablename__ = "pending_forms"
    __table_args__ = (Index("ix_pending_forms_user_restored", "user_id", "restored_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    page: Mapped[str] = mapped_column(String(500))  # where the form was filled in: it is shown again there
    action: Mapped[str] = mapped_column(String(500))  # where it was sent
    fields: Mapped[str] = mapped_column(Text)  # JSON list of [name, value]
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    restored_at: Mapped[datetime | None]


SIGN_IN_OUTCOMES = ("success", "unknown_user", "wrong_password", "locked", "deactivated", "throttled")


class SignInAttempt(Base):
    """Every sign-in attempt, unknown user names included: what throttling counts (per address and per
    name, shared by all workers) and what administrators review."""

    __tablename__ = "sign_in_attempts"
    __table_args__ = (
        CheckConstraint(one_of("outcome", SIGN_IN_OUTCOMES), name="outcome"),
        Index("ix_sign_in_attempts_address_at", "address", "at"),
        Index("ix_sign_in_attempts_username_at", "username", "at"),
        Index("ix_sign_in_attempts_at", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    username: Mapped[str] = mapped_column(String(64))  # as typed (trimmed, lower-case)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    address: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(20))


class PasswordHistory(Base):
    """The hashes of a user's passwords, newest last: the last few cannot be chosen again."""

    __tablename__ = "password_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    set_at: Mapped[datetime]
