"""Issue 23: every requirement is proved by at least one test, every marker names a known requirement,
every rule id of the code is claimed by a requirement (validation/requirements.toml)."""

import pytest

from bank.requirements import Requirement, Requirements, check_trace, load, markers_in_tests, rule_ids_in_code

pytestmark = pytest.mark.requirement("VAL-TRACE")


def test_every_requirement_has_a_test_and_every_rule_a_requirement():
    trace = check_trace(load(), markers_in_tests(), rule_ids_in_code())
    assert trace.ok, "\n".join(trace.lines())


def test_the_rules_of_the_code_are_found():
    ids = rule_ids_in_code()
    # a release rule (Problem in release/rules), a donor criterion (reference data), a workflow rule
    assert {"release.four_eyes", "DON-SER-HIV", "workflow.signature_meaning"} <= ids


def _tests_folder(tmp_path, body: str):
    folder = tmp_path / "tests"
    folder.mkdir()
    (folder / "test_one.py").write_text(body)
    return folder


def test_removing_the_only_marker_of_a_requirement_fails_the_check(tmp_path):
    reqs = Requirements((Requirement("R-1", "one", "anchor"), Requirement("R-2", "two", "anchor")))
    marked = _tests_folder(
        tmp_path,
        "import pytest\npytestmark = pytest.mark.requirement('R-1')\n\n"
        "@pytest.mark.requirement('R-2')\ndef test_x():\n    pass\n",
    )
    assert check_trace(reqs, markers_in_tests(marked), set()).ok
    (marked / "test_one.py").write_text("import pytest\npytestmark = pytest.mark.requirement('R-1')\n")
    trace = check_trace(reqs, markers_in_tests(marked), set())
    assert trace.untested == ["R-2"]


def test_a_marker_naming_an_unknown_requirement_fails_the_check(tmp_path):
    reqs = Requirements((Requirement("R-1", "one", "anchor"),))
    folder = _tests_folder(
        tmp_path, "import pytest\n\n@pytest.mark.requirement('R-1', 'R-9')\ndef test_x():\n    pass\n"
    )
    assert check_trace(reqs, markers_in_tests(folder), set()).unknown_markers == ["R-9"]


def test_a_rule_no_requirement_claims_and_a_dead_pattern_fail_the_check(tmp_path):
    reqs = Requirements((Requirement("R-1", "one", "anchor", ("lots.*", "gone.*")),))
    trace = check_trace(reqs, {"R-1": {"t"}}, {"lots.harvest.x", "doses.y"})
    assert trace.unmapped_rules == ["doses.y"]
    assert trace.dead_patterns == ["R-1: gone.*"]
