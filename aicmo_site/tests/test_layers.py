"""The import-linter contract (pyproject.toml) only binds the site's modules it names: a new module of
aicmo_site must be placed in the wiring or in the base, or it could import any app unnoticed."""

import pkgutil
import tomllib
from pathlib import Path

import aicmo_site
import aicmo_site.api

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def _layered_modules() -> set[str]:
    contracts = tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]["contracts"]
    return {name.strip() for contract in contracts if contract["type"] == "layers"
            for layer in contract["layers"] for name in layer.replace("|", ":").split(":")}


def _site_modules() -> set[str]:
    return {f"{package.__name__}.{module.name}" for package in (aicmo_site, aicmo_site.api)
            for module in pkgutil.iter_modules(package.__path__)} - {"aicmo_site.api"}


def test_every_module_of_the_site_has_a_place_in_the_layers():
    assert _site_modules() - _layered_modules() == set()


def test_every_folder_with_tests_is_collected_by_the_suite():
    """pytest collects only its testpaths: an app left out of them has tests that CI never runs."""
    root = PYPROJECT.parent
    collected = set(tomllib.loads(PYPROJECT.read_text())["tool"]["pytest"]["ini_options"]["testpaths"])
    with_tests = {path.parent.parent.name for path in root.glob("*/tests/__init__.py")}
    with_tests |= {path.parent.name for path in root.glob("*/test_*.py")} - {".venv"}
    assert with_tests - collected == set()
