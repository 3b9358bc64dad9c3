"""Numbers on screen are written the way the lab writes them."""

import pytest


@pytest.mark.parametrize(
    "value,text",
    [(2.4e7, "2.4 × 10⁷"), (1e6, "1 × 10⁶"), (6.4e8, "6.4 × 10⁸"), (1234, "1234"), (0, "0"), (None, "")],
)
def test_cell_counts_use_powers_of_ten(app, value, text):
    assert app.jinja_env.filters["cells"](value) == text
