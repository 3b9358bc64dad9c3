"""Issue 17: a search box takes `%` and `_` as the characters they are, never as SQL wildcards."""

import pytest

# Lists searched by free text (DIN searches keep letters and digits only, so a wildcard never reaches them;
# protocols search their JSON definitions, where an underscore is a real character).
LISTS = ["/donors/", "/materials/", "/storage/", "/doses/patients", "/custody/"]


@pytest.mark.parametrize("wildcard", ["%", "_", "%%", "_%_"])
def test_a_wildcard_typed_in_a_search_matches_nothing(login_as, wildcard):
    qa = login_as("qa", "technician", "clinical", unblinded=True)
    for url in LISTS:
        resp = qa.get(url, query_string={"q": wildcard})
        assert resp.status_code == 200, url
        assert "0 record(s)" in resp.get_data(as_text=True), url
