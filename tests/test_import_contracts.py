"""The layering contracts of pyproject.toml ([tool.importlinter]) hold: nothing imports upward, only
storage/ knows SQL, and the modules of a package import each other without cycles."""

from __future__ import annotations

from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[1]


def test_the_import_contracts_are_kept(monkeypatch):
    monkeypatch.chdir(ROOT)
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True) == 0
