"""WSGI entry point: ``gunicorn example_shop.wsgi:app``.

A configuration error stops the process with one line naming the bad setting (for the
``flask`` CLI and gunicorn alike) instead of a traceback.
"""

import sys

from example_shop import create_app
from storefront_sdk import ConfigurationError

try:
    app = create_app()
except ConfigurationError as exc:
    sys.exit(f"Error: {exc.message}")
