"""Numbers on screen are written the way the lab writes them."""

import pytest


@pytest.mark.parametrize(
    "value,text",
    [(2.4e7, "2.4 × 10⁷"), (1e6, "1 × 10⁶"), (6.4e8, "6.4 × 10⁸"), (1234, "1234"), (0, "0"), (None, "")],
)
def test_cell_counts_use_powers_of_ten(app, value, text):
    assert app.jinja_env.filters["cells"](value) == text


def test_cell_counts_take_the_decimal_comma_in_french(app):
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        assert app.jinja_env.filters["cells"](2.4e7) == "2,4 × 10⁷"
        assert app.jinja_env.filters["cells"](12.5) == "12,5"
        assert app.jinja_env.filters["cells"](1e6) == "1 × 10⁶"
