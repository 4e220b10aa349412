"""The library as a host installs it: the built wheel (not the repository's sources) in a
fresh virtual environment runs a host app with the host's CSRFProtect on."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
#: Modules whose folders hold the library's dependencies in the running environment.
DEPENDENCIES = ("flask", "flask_wtf", "flask_babel", "sqlmodel", "stripe", "psycopg", "limits")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project built as a wheel."""
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
        check=True,
        timeout=300,
    )
    return next(out.glob("storefront_sdk-*.whl"))


@pytest.mark.slow
def test_the_wheel_holds_the_library_and_its_license_only(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    metadata = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("/METADATA")))
    assert {name.split("/")[0] for name in names} == {
        "storefront_sdk",
        "storefront_sdk-0.1.0.dist-info",
    }
    assert "storefront_sdk-0.1.0.dist-info/licenses/LICENSE" in names
    assert "License-Expression: MIT" in metadata.decode().splitlines()
    assert not [name for name in names if "/tests/" in name or name.startswith("tests/")]


def _venv_with(wheel: Path, where: Path) -> Path:
    """A fresh virtual environment with ``wheel`` installed (not editable), that then sees
    the dependencies of the running one (no network needed) but none of its ``.pth`` files,
    so no editable install of ours; its Python."""
    venv.create(where, with_pip=False)
    python = where / "bin" / "python"
    install = ["install", "-q", "--no-deps", "--no-index", "--ignore-installed", str(wheel)]
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), *install],
        check=True,
        timeout=300,
        cwd=where,  # not the repository, whose build leaves metadata pip would take as installed
        env=_outside_the_repository(),
    )
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    folders = {str(Path(__import__(name).__file__).resolve().parents[1]) for name in DEPENDENCIES}
    (Path(site) / "host-dependencies.pth").write_text("\n".join(sorted(folders)) + "\n")
    return python


def _outside_the_repository() -> dict[str, str]:
    """This process's environment without what would put the repository on ``sys.path``."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}


@pytest.mark.slow
def test_a_host_app_runs_on_the_installed_wheel(wheel, tmp_path):
    # Given the wheel installed (not editable) into a fresh virtual environment
    python = _venv_with(wheel, tmp_path / "venv")
    # And a host app outside the repository, with CSRFProtect and a layout of its own
    host = tmp_path / "host"
    host.mkdir()
    shutil.copy(HERE / "host_app.py", host)
    shutil.copytree(HERE / "templates", host / "templates")
    env = _outside_the_repository()
    # When it serves a shop page, the supplier API and the Stripe hook
    run = subprocess.run(
        [str(python), "host_app.py", f"sqlite:///{tmp_path / 'shop.sqlite3'}"],
        cwd=host,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    answers = json.loads(run.stdout.strip().splitlines()[-1])
    # Then every one answers, from the library installed in that environment
    assert answers["library"].startswith(str(tmp_path / "venv"))
    assert answers["api"] == 200
    assert answers["hook"] == [200, "ignored\n"]
    assert answers["shop"] == [200, True]
