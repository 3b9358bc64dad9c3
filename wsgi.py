"""WSGI entry point: `gunicorn wsgi:app` or `flask --app wsgi run`. The demo facility's command is added
here, outside the production app factory, so that `flask --app wsgi demo` works on a site's machine
while bank/ never imports the demo."""

from bank.app import create_app
from demo.cli import register as register_demo

app = create_app()
register_demo(app)
