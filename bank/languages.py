"""French and English on every screen, PDF, e-mail and command (Flask-Babel, catalogues in translations/).

The reader's language is, in order: the language the user chose (their preferences), the one chosen on
the sign-in page before signing in, the facility's (FACILITY_LANGUAGE), the browser's, English. Stored
texts (signature meanings, rule ids, statuses, audit values) stay in one stable form and are translated
only where shown, so a signed digest never depends on the language it was read in.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal
from flask import Flask, current_app, g, has_app_context, has_request_context, request, session
from flask import flash as flask_flash
from flask_babel import Babel, force_locale, get_locale
from flask_babel import gettext as babel_gettext

from bank import i18n
from bank.clock import local_text, zone_of
from bank.i18n import localize, t

LANGUAGES = {"fr": "Français", "en": "English"}
TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"


def select_language() -> str:
    user = g.get("user") if has_request_context() else None
    if user is not None and getattr(user, "language", None) in LANGUAGES:
        return user.language
    if has_request_context() and session.get("language") in LANGUAGES:
        return session["language"]
    facility = current_app.config.get("FACILITY_LANGUAGE") if has_app_context() else ""
    if facility in LANGUAGES:
        return facility
    if has_request_context():
        return request.accept_languages.best_match(list(LANGUAGES)) or "en"
    return "en"


def language() -> str:
    """The reader's language now ("fr" or "en"); English outside an application."""
    if not has_app_context():
        return "en"
    return str(get_locale() or "en").split("_")[0]


def _translate(msgid: str) -> str:
    if not has_app_context() or not msgid:
        return msgid
    return babel_gettext(msgid)


def number_text(value, digits: int | None = None) -> str:
    """A number in the reader's notation: 81,5 in French, 81.5 in English; no thousands grouping (a lab
    value is read digit by digit)."""
    if value is None:
        return ""
    if isinstance(value, float) and digits is None:
        value = Decimal(repr(value)) if abs(value) < 1e15 else value
    elif isinstance(value, Decimal) and digits is None and value.is_finite():
        # A Decimal keeps the places it was given: a PD of 31.00 reads 31,00, not 31.
        digits = max(0, -value.as_tuple().exponent)
    fmt = None if digits is None else "0." + "0" * digits if digits else "0"
    # Never rounded: a figure shows every digit it was recorded with (0.0125 stays 0,0125).
    return format_decimal(
        value, format=fmt, locale=language(), group_separator=False, decimal_quantization=digits is not None
    )


_DECIMAL = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?")


def parse_number(text: str) -> Decimal:
    """A number as a person types it: "81.5" in any language, "81,5" where the reader's language writes
    the decimal comma (French). Raises ValueError with a sentence for people."""
    cleaned = text.strip().replace("\u202f", "").replace("\xa0", "")
    if "," in cleaned and language() != "fr":
        raise ValueError(
            t("Type the number with a decimal point, e.g. 81.5 (a comma is not a decimal mark in English).")
        )
    if not _DECIMAL.fullmatch(cleaned):
        raise ValueError(
            t("Not a number: type digits, e.g. %(example)s.", example=number_text(Decimal("81.5")))
        )
    try:
        return Decimal(cleaned.replace(",", "."))
    except InvalidOperation:
        raise ValueError(
            t("Not a number: type digits, e.g. %(example)s.", example=number_text(Decimal("81.5")))
        ) from None


def in_language(text, language_code: str) -> str:
    """A catalogued text in a given language, whoever reads (a label prints in its protocol's language)."""
    if not has_app_context() or language_code not in LANGUAGES:
        return str(text)
    with force_locale(language_code):
        return str(localize(text))


def flash(message, category: str = "message") -> None:
    """flask.flash in the reader's language (a flash outlives the request, so it is translated now)."""
    flask_flash(localize(message), category)


def facility_zone() -> ZoneInfo:
    """The zone people type and read times in (FACILITY_TIMEZONE); times are stored in UTC."""
    return zone_of(current_app.config.get("FACILITY_TIMEZONE") or "UTC")


def local_time(value, seconds: bool = False) -> str:
    """A stored time on the facility's wall clock in the reader's notation, with its zone (UTC outside an
    application)."""
    if not has_app_context():
        return local_text(value, "UTC", seconds)
    return local_text(value, facility_zone(), seconds, day_first=language() == "fr")


def day_text(value) -> str:
    """A calendar day in the reader's notation: 03/12/2026 in French, 2026-12-03 in English."""
    if value is None:
        return ""
    return f"{value:%d/%m/%Y}" if language() == "fr" else value.isoformat()


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    app.config["BABEL_DEFAULT_LOCALE"] = app.config.get("FACILITY_LANGUAGE") or "en"
    app.config["BABEL_DEFAULT_TIMEZONE"] = app.config.get("FACILITY_TIMEZONE") or "UTC"
    Babel(app, locale_selector=select_language)
    i18n.install(_translate, number_text, day_text, local_time)
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.filters["tr"] = localize
    app.jinja_env.filters["number"] = number_text
    app.jinja_env.filters["local"] = local_time
    app.jinja_env.filters["day"] = day_text

    @app.context_processor
    def language_globals():
        return {"current_language": language(), "languages": LANGUAGES}
