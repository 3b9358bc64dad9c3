"""The bare-Flask reference of the benchmark: one endpoint returning a constant, served the same way."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def constant():
    return "ok"
