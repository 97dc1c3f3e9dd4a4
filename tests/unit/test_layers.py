"""Where things live: the use cases import no SQLAlchemy (every statement is in store/)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import passkeys

SRC = Path(passkeys.__file__).parent


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_use_cases_and_auth_import_no_sqlalchemy() -> None:
    offenders = {
        str(path.relative_to(SRC)): sorted(m for m in _imports(path) if m.split(".")[0] == "sqlalchemy")
        for folder in ("commands", "auth")
        for path in sorted((SRC / folder).glob("*.py"))
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_use_cases_reach_the_database_only_through_the_unit_of_work() -> None:
    # No model, no session: commands see repositories and the rows they return.
    for path in sorted((SRC / "commands").glob("*.py")):
        imports = _imports(path)
        assert "passkeys.store.models" not in imports, path.name
        # uow.session (the ORM session); not store.session_events, a repository
        assert re.search(r"\.session\b", path.read_text()) is None, path.name


def test_the_check_sees_an_import() -> None:
    # The check above must be able to fail: it finds the import in a module that has one.
    assert "sqlalchemy" in _imports(SRC / "store" / "events.py")
