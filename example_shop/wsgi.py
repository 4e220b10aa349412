"""WSGI entry point: ``gunicorn example_shop.wsgi:app``."""

from example_shop import create_app

app = create_app()
