"""Console tests: uploads go to the test's own folder, through the documented storage swap."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from storefront_sdk.storage import LocalFolderStorage


@pytest.fixture
def upload_folder(tmp_path: Path) -> Path:
    """Where this test's uploaded logos are written."""
    return tmp_path / "uploads"


@pytest.fixture
def app(app: Flask, upload_folder: Path) -> Flask:
    """The suite's app, with logos stored in :func:`upload_folder`."""
    app.extensions["storefront"].storage = LocalFolderStorage(upload_folder)
    return app
