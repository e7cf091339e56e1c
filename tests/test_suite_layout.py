"""The suite's own layout: test modules live in the folder of the app they test, and no
test module imports another (or conftest); what tests share lives in tests/support/."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
APPS = {"portal", "statements", "credits", "tickets", "status", "outages", "contracts"}
APPS |= {"audit", "outbox", "slaportal"}


def _test_modules() -> list[Path]:
    return sorted(p for p in TESTS.rglob("test_*.py") if p.parent != TESTS)


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
    return names


def test_every_test_module_lives_in_the_folder_of_an_app():
    loose = [p.name for p in TESTS.glob("test_*.py") if p.name != Path(__file__).name]
    assert loose == []
    assert {p.parent.name for p in _test_modules()} <= APPS


def test_no_test_module_imports_another_test_module_or_conftest():
    offenders = {
        f"{path.relative_to(TESTS)} imports {name}"
        for path in [*_test_modules(), *(TESTS / "support").glob("*.py")]
        for name in _imported(path)
        if name == "tests.conftest"
        or (name.startswith("tests.") and name.split(".")[-1].startswith("test_"))
    }
    assert offenders == set()


def test_the_check_sees_an_import_of_another_test_module(tmp_path):
    module = tmp_path / "test_x.py"
    module.write_text("from tests.credits.test_credit_api import thing\n")
    assert "tests.credits.test_credit_api" in _imported(module)
