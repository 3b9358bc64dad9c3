"""Trends of release results across lots (continued process verification): pick a product and one of
its numeric tests; the chart and the table of its numbers (release.trends)."""

from __future__ import annotations

from flask import render_template, request

from bank.web import db, requires
from release.blueprint import bp
from release.services import product_keys
from release.trends import LAST_LOTS, MIN_POINTS, numeric_tests, result_trend


@bp.route("/trends")
@requires("release.view")
def trends():
    products = product_keys(db())
    product = request.args.get("product", "")
    product = product if product in products else (products[0] if products else "")
    tests = numeric_tests(db(), product) if product else []
    chosen = next((x for x in tests if x.code == request.args.get("test")), tests[0] if tests else None)
    last = request.args.get("last", type=int) or LAST_LOTS
    last = min(max(last, MIN_POINTS), 500)
    trend = result_trend(db(), product, chosen, last) if chosen else None
    return render_template(
        "release/trends.html",
        products=products,
        product=product,
        tests=tests,
        chosen=chosen,
        trend=trend,
        min_points=MIN_POINTS,
        last=last,
    )
