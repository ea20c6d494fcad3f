"""chalicelib/core sits under every domain: it may import the standard library, pydantic,
the database driver, chalicelib.errors and chalicelib.infra, never a domain or the api."""

import ast
import sys
from pathlib import Path

import chalicelib.core

CORE = Path(chalicelib.core.__file__).parent
ALLOWED_THIRD_PARTY = {"pydantic", "psycopg"}
ALLOWED_OWN = ("chalicelib.core", "chalicelib.errors", "chalicelib.infra")


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_core_imports_no_domain_and_no_api():
    wrong = {
        f"{path.name}: {name}"
        for path in CORE.glob("*.py")
        for name in _imports(path)
        if not (
            name.split(".")[0] in sys.stdlib_module_names
            or name.split(".")[0] in ALLOWED_THIRD_PARTY
            or any(name == own or name.startswith(own + ".") for own in ALLOWED_OWN)
        )
    }

    assert CORE.joinpath("paging.py").exists() and not wrong, sorted(wrong)
