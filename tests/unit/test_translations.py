"""Issue 19, point 4: every message of the code and templates has its French translation, no template
shows English outside the catalogue, and the compiled catalogue is the one the .po file says."""

import pytest

from bank import catalogues
from bank.i18n import Text, localize, t

pytestmark = pytest.mark.requirement("ER-LANGUAGE")


def test_every_message_has_its_french_translation():
    missing = catalogues.untranslated("fr")
    assert not missing, f"{len(missing)} messages without French (bin/i18n missing):\n" + "\n".join(
        missing[:40]
    )


def test_no_english_outside_the_catalogue():
    found = catalogues.english_outside()
    assert not found, f"{len(found)} texts outside the catalogue (bin/i18n missing):\n" + "\n".join(
        found[:40]
    )


def test_the_compiled_catalogue_is_the_po_file():
    catalog = catalogues.load("fr")
    compiled = catalogues.po_path("fr").with_suffix(".mo").read_bytes()
    assert compiled == catalogues.mo_bytes(catalog), "run bin/i18n compile"


def test_the_check_finds_english_in_a_template_and_in_code():
    assert catalogues.english_in_template("<p>Store the container</p>") == ["Store the container"]
    assert catalogues.english_in_template('<input placeholder="Search lots">') == [
        'placeholder="Search lots"'
    ]
    assert catalogues.english_in_template("<p>{{ _('Store the container') }} · DIN · 5 mL</p>") == []
    assert catalogues.english_in_python('flash("Saved.")')
    assert catalogues.english_in_python('StringField("User name")')
    assert catalogues.english_in_python('Problem("rule.id", f"Weight {kg} is out of range")')
    assert not catalogues.english_in_python('flash(_("Saved."))')
    assert not catalogues.english_in_python('StringField(t("User name"))')


def test_a_message_keeps_its_english_and_its_values():
    message = t("Weight %(kg)s kg is out of range.", kg=81.5)
    assert isinstance(message, Text)
    assert message == "Weight 81.5 kg is out of range."
    assert message.msgid == "Weight %(kg)s kg is out of range."
    assert localize(message) == "Weight 81.5 kg is out of range."  # no application: English
    nested = t("Refused: %(why)s", why=t("too heavy"))
    assert nested == "Refused: too heavy"
