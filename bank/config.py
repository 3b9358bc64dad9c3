"""Configuration from the environment, with safe defaults for the embedded (SQLite) setup."""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

from bank.auditkey import load_audit_key

FIN_PATTERN = re.compile(r"^[A-NP-Z1-9][A-NP-Z0-9]{2}[0-9]{2}$")


def _secret_key(instance: Path) -> str:
    """SECRET_KEY from the environment, else one generated once and kept in instance/ (owner-only)."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = instance / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text().strip()


# ---- sessions and sign-in (issue 17) -------------------------------------------------------------
MIN_SECRET_KEY_LENGTH = 32
PLACEHOLDER_SECRET_KEYS = {
    "changeme",
    "change-me",
    "change_me",
    "secret",
    "secret-key",
    "dev",
    "development",
    "test",
    "testing",
    "please-change-me",
    "…",
    "...",
}
RELAXED_ENVIRONMENTS = ("development", "testing")


def _sign_in_settings(env) -> dict:
    """Server-side sessions, sign-in throttling, host checks and HTTPS (README: Configuration)."""
    return {
        "BANK_ENV": env.get("BANK_ENV", "production"),
        "SESSION_ABSOLUTE_HOURS": int(env.get("SESSION_ABSOLUTE_HOURS", "12")),
        "LOGIN_LIMIT_PER_ADDRESS": int(env.get("LOGIN_LIMIT_PER_ADDRESS", "10")),
        "LOGIN_LIMIT_PER_NAME": int(env.get("LOGIN_LIMIT_PER_NAME", "5")),
        "ALLOWED_HOSTS": [
            h.strip() for h in env.get("ALLOWED_HOSTS", "localhost,127.0.0.1").split(",") if h.strip()
        ],
        "PUBLIC_URL": env.get("PUBLIC_URL", "").rstrip("/"),
        "PROXY_COUNT": int(env.get("PROXY_COUNT", "0")),
        # The idle warning shows this long before the idle sign-out; a form sent after it is kept this long.
        "SESSION_WARNING_SECONDS": int(env.get("SESSION_WARNING_SECONDS", "120")),
        "KEPT_FORM_HOURS": int(env.get("KEPT_FORM_HOURS", "8")),
    }


def check_sign_in_settings(config: dict) -> None:
    """Refuse to start with settings that would weaken sign-in: a guessable SECRET_KEY (it signs the
    session cookie and CSRF tokens) outside development or testing, and lifetimes that make no sense."""
    if config["BANK_ENV"] not in (*RELAXED_ENVIRONMENTS, "production"):
        raise ValueError("BANK_ENV must be production, development or testing")
    key = str(config["SECRET_KEY"])
    if (
        config["BANK_ENV"] == "production"
        and not config.get("TESTING")
        and (len(key) < MIN_SECRET_KEY_LENGTH or key.strip().lower() in PLACEHOLDER_SECRET_KEYS)
    ):
        raise ValueError(
            f"SECRET_KEY is too short or a placeholder: give at least {MIN_SECRET_KEY_LENGTH} random "
            "characters (e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`), or unset "
            "it to have one generated into instance/secret_key"
        )
    if config["SESSION_ABSOLUTE_HOURS"] < 1:
        raise ValueError("SESSION_ABSOLUTE_HOURS must be at least 1")
    if not config["ALLOWED_HOSTS"]:
        raise ValueError("ALLOWED_HOSTS must name at least one host (e.g. bank.example.org)")


def _notification_settings(env) -> dict:
    """E-mail of notifications and the horizons of the work queues (README: Configuration, SMTP). Without
    SMTP_HOST no e-mail is sent: notifications are shown in the application only."""
    return {
        "SMTP_HOST": env.get("SMTP_HOST", "").strip(),
        "SMTP_PORT": int(env.get("SMTP_PORT", "25")),
        "SMTP_FROM": env.get("SMTP_FROM", "msc-bank@localhost").strip(),
        "SMTP_USER": env.get("SMTP_USER", "").strip(),
        "SMTP_PASSWORD": env.get("SMTP_PASSWORD", ""),
        "SMTP_STARTTLS": env.get("SMTP_STARTTLS", "0") == "1",
        # Work queues: materials expiring within this many days; doses due within this many days.
        "QUEUE_MATERIAL_EXPIRY_DAYS": int(env.get("QUEUE_MATERIAL_EXPIRY_DAYS", "30")),
        "QUEUE_DOSE_DAYS": int(env.get("QUEUE_DOSE_DAYS", "7")),
    }


def load_config(instance: Path, overrides: dict | None = None) -> dict:
    """Build the Flask config dict; `overrides` (tests) win over the environment."""
    instance.mkdir(mode=0o700, parents=True, exist_ok=True)
    env = os.environ
    config = {
        "DATABASE_URL": env.get("DATABASE_URL") or f"sqlite:///{instance / 'bank.sqlite3'}",
        "SECRET_KEY": None,
        "SESSION_IDLE_MINUTES": int(env.get("SESSION_IDLE_MINUTES", "15")),
        "MAX_FAILED_LOGINS": int(env.get("MAX_FAILED_LOGINS", "5")),
        "FACILITY_FIN": env.get("FACILITY_FIN", "G1234"),
        "FACILITY_NAME": env.get("FACILITY_NAME", "Cell Therapy Unit"),
        "FACILITY_TIMEZONE": env.get("FACILITY_TIMEZONE", "Europe/Paris"),
        # The language of people who chose none (empty: their browser's); see bank.languages.
        "FACILITY_LANGUAGE": env.get("FACILITY_LANGUAGE", "").strip().lower(),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env.get("SESSION_COOKIE_SECURE", "0") == "1",
        "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
        "WTF_CSRF_TIME_LIMIT": None,
        "PAGE_SIZE": 25,
        **_sign_in_settings(env),
        **_notification_settings(env),
        # The role that owns the schema and runs migrations (PostgreSQL); DATABASE_URL is the application's.
        "MIGRATION_DATABASE_URL": env.get("MIGRATION_DATABASE_URL") or None,
        "AUDIT_KEY": None,
        "AUDIT_ANCHOR_DIR": env.get("AUDIT_ANCHOR_DIR") or str(instance / "anchors"),
        "AUDIT_ANCHOR_URL": env.get("AUDIT_ANCHOR_URL") or None,
        "AUDIT_ANCHOR_EVERY": int(env.get("AUDIT_ANCHOR_EVERY", "1000")),
    }
    config.update(overrides or {})
    if not config["SECRET_KEY"]:
        config["SECRET_KEY"] = _secret_key(instance)
    if not config["AUDIT_KEY"]:
        config["AUDIT_KEY"] = load_audit_key(instance, config["SECRET_KEY"])
    elif config["AUDIT_KEY"].strip() == config["SECRET_KEY"].strip():
        raise ValueError("AUDIT_KEY must differ from SECRET_KEY")
    if not FIN_PATTERN.match(config["FACILITY_FIN"]):
        raise ValueError(
            f"FACILITY_FIN {config['FACILITY_FIN']!r} is not an ISBT 128 facility identification number "
            "(5 characters: [A-NP-Z1-9][A-NP-Z0-9]{2}[0-9]{2})"
        )
    if config["FACILITY_LANGUAGE"] not in ("", "fr", "en"):
        raise ValueError("FACILITY_LANGUAGE must be fr, en or empty (the browser's language)")
    if config["SESSION_IDLE_MINUTES"] < 1:
        raise ValueError("SESSION_IDLE_MINUTES must be at least 1")
    check_sign_in_settings(config)
    return config
