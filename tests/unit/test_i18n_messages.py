"""Messages made of messages (bank.i18n.joined, LowerCase): the English is what a plain join or a lower()
gave, and each part is shown in the reader's language."""

import pytest

from bank import i18n
from bank.i18n import LowerCase, Text, joined, t

FRENCH = {
    "at least %(count)s characters": "au moins %(count)s caractères",
    "mix letters with digits or symbols": "mêlez lettres et chiffres ou symboles",
    "Passage": "Passage",
    "Test result": "Résultat d'analyse",
    "You may not verify a %(kind)s (%(entry)s).": "Vous ne pouvez pas vérifier : %(kind)s (%(entry)s).",
}


@pytest.fixture
def french(monkeypatch):
    monkeypatch.setattr(i18n, "_translate", lambda msgid: FRENCH.get(msgid, msgid))


def test_joined_messages_keep_the_english_join_and_read_each_part_in_french(french):
    problems = [t("at least %(count)s characters", count=12), t("mix letters with digits or symbols")]
    message = joined(problems)
    assert isinstance(message, Text)
    assert message == "at least 12 characters; mix letters with digits or symbols"
    assert message.localized() == "au moins 12 caractères; mêlez lettres et chiffres ou symboles"
    assert joined(["a", "b"], ", ") == "a, b" and joined([]) == ""


def test_a_label_inside_a_sentence_is_lower_case_in_both_languages(french):
    message = t("You may not verify a %(kind)s (%(entry)s).", kind=LowerCase("Test result"), entry="result:7")
    assert message == "You may not verify a test result (result:7)."
    assert message.localized() == "Vous ne pouvez pas vérifier : résultat d'analyse (result:7)."
