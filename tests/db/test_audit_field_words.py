"""Every field the audit trail shows has a word for people (bank.audit_fields), in English and French:
a new column of an audited model fails here until it is given one."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest

from bank.audit_fields import FIELD_WORDS
from bank.audit_records import MARKERS
from bank.catalogues import load
from bank.integrity import audited_mappers

pytestmark = pytest.mark.requirement("ER-AUDIT-TRAIL")

ROOT = Path(__file__).resolve().parents[2]
DOMAINS = ("bank", "donors", "lots", "release", "doses", "biovigilance")


def _import_every_model() -> None:
    """Every models module of every domain, so that audited_mappers() sees every audited model."""
    for top in DOMAINS:
        for info in pkgutil.walk_packages([str(ROOT / top)], f"{top}."):
            if "migrations" not in info.name and (info.name.endswith(".models") or ".models." in info.name):
                importlib.import_module(info.name)


def _audited_fields() -> dict[str, str]:
    _import_every_model()
    return {attr.key: mapper.local_table.name for mapper in audited_mappers() for attr in mapper.column_attrs}


def test_every_column_of_every_audited_model_has_a_word():
    fields = _audited_fields()
    assert len(fields) > 250, "the audited models were not all imported"
    missing = sorted(f"{table}.{field}" for field, table in fields.items() if field not in FIELD_WORDS)
    assert not missing, f"give these audited columns a word in bank/audit_fields.py: {missing}"


def test_every_field_word_and_marker_reads_in_french():
    catalogue = load("fr")
    for word in [*FIELD_WORDS.values(), *MARKERS.values(), "yes", "no"]:
        known = catalogue.get(word)
        assert known is not None and known.string and "fuzzy" not in known.flags, word


def test_stored_words_read_as_their_tables_name_them():
    """A custody event reads as its kind's label; a status whose word two workflows name differently as
    its own table's workflow names it."""
    from bank.audit_records import value_words

    _import_every_model()
    assert value_words("custody_events", "event")["issued_from_storage"] == "Issued from storage"
    assert value_words("donors", "status")["pending"] == "pending determination"
    assert value_words("entry_corrections", "status")["pending"] == "pending"
    assert value_words("release_results", "value")["no growth"] == "no growth"
    assert value_words("adverse_events", "imputability")["likely"] == "likely (probable)"
    assert value_words("users", "status") is None


def test_every_audited_table_has_a_record_type_in_words():
    from bank.audit_records import RECORD_TYPES

    _import_every_model()
    tables = {mapper.local_table.name for mapper in audited_mappers()}
    assert not sorted(tables - set(RECORD_TYPES)), (
        "name these record types in bank.audit_records.RECORD_TYPES"
    )
