"""The layering contracts of pyproject.toml ([tool.importlinter]) hold: nothing imports upward, only
storage/ knows SQL, and the modules of a package import each other without cycles.

import-linter runs as its own command, as a developer would run it: in this process its logging set-up
(``logging.config.dictConfig``) would disable every logger created before it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_import_contracts_are_kept():
    linter = Path(sys.executable).with_name("lint-imports")
    run = subprocess.run(
        [str(linter), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "3 kept, 0 broken" in run.stdout
