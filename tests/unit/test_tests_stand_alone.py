"""No test module imports another: shared helpers live in tests/support, so a test module can be
run, moved or deleted on its own."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def _is_test_module(dotted: str) -> bool:
    return dotted.rsplit(".", 1)[-1].startswith("test_")


def imported_test_modules(source: str) -> list[str]:
    """The test modules (a last part starting with test_) an import in `source` names."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if _is_test_module(a.name)]
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            if node.module and _is_test_module(node.module):
                found.append(base)
            else:  # from tests.service import test_auth
                found += [f"{base}.{a.name}" for a in node.names if a.name.startswith("test_")]
    return found


def test_the_check_sees_every_form_of_import() -> None:
    source = (
        "import tests.service.test_auth\n"
        "from tests.service.test_metrics import scrape\n"
        "from tests.service import test_logs\n"
        "from .test_crash import x\n"
        "def f():\n    from tests.unit.test_json_length import y\n"
        "from tests.support.registration import Pending\n"
        "from tests.conftest import ORIGIN\n"
    )
    assert imported_test_modules(source) == [
        "tests.service.test_auth",
        "tests.service.test_metrics",
        "tests.service.test_logs",
        ".test_crash",
        "tests.unit.test_json_length",
    ]


def test_no_test_module_imports_another() -> None:
    modules = sorted(TESTS.rglob("test_*.py"))
    assert len(modules) > 50  # the walk found the suite
    offenders = {str(m.relative_to(TESTS)): names for m in modules if (names := imported_test_modules(m.read_text()))}
    assert offenders == {}
