"""The house's layout, read from the source with `ast`: modules a person can hold, plumbing that never imports a
feature, and feature rules that know nothing of the web request."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from lms import PROJECT_ROOT

LMS = PROJECT_ROOT / "lms"
MAX_LINES = 500
# Feature packages: the folders of lms/ that are Python packages (lms/static is not one).
FEATURES = sorted(path.parent.name for path in LMS.glob("*/__init__.py"))
# Plumbing: the modules at the top of lms/, except the app factory and the list of every model.
PLUMBING = sorted(path for path in LMS.glob("*.py") if path.name not in {"__init__.py", "models.py"})
# What a feature's domain operations must not reach for: the request, the signed-in user, the web layer.
WEB_ONLY = ("flask.request", "flask_login", "lms.web", "lms.accounts.access", "lms.page_cache")
# Not domain operations: the web layer of a feature (forms, views, fast paths, the access decorators views wear and
# the pages they keep per reader), its register(app) and commands, and the models (the User model is Flask-Login's
# UserMixin).
NOT_DOMAIN = {"forms.py", "fast.py", "__init__.py", "cli.py", "access.py", "kept_pages.py", "models.py"}


def relative(path: Path) -> str:
    return str(path.relative_to(PROJECT_ROOT))


def module_name(path: Path, root: Path = PROJECT_ROOT) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _run_at_import(statements: list[ast.stmt]) -> Iterator[ast.stmt]:
    """The statements that run when the module is imported: not function bodies, nor `if TYPE_CHECKING:` blocks
    (class bodies, other ifs, try and with blocks do run)."""
    for statement in statements:
        yield statement
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        if isinstance(statement, ast.If) and _is_type_checking(statement.test):
            yield from _run_at_import(statement.orelse)
            continue
        for name in ("body", "orelse", "finalbody"):
            yield from _run_at_import(getattr(statement, name, []))
        for handler in getattr(statement, "handlers", []):
            yield from _run_at_import(handler.body)
        for case in getattr(statement, "cases", []):
            yield from _run_at_import(case.body)


def module_level_imports(path: Path, root: Path = PROJECT_ROOT) -> dict[str, set[str]]:
    """Each import statement run at import time ("file:line statement") with the dotted names it imports:
    `from a.b import c` gives "a.b" and "a.b.c"."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: dict[str, set[str]] = {}
    for statement in _run_at_import(ast.parse(path.read_text(), filename=str(path)).body):
        names: set[str] = set()
        if isinstance(statement, ast.Import):
            names.update(alias.name for alias in statement.names)
        elif isinstance(statement, ast.ImportFrom):
            base = statement.module or ""
            if statement.level:  # relative: from the module's own package upwards
                anchor = package.split(".")[: len(package.split(".")) - statement.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in statement.names)
        if names:
            found[f"{path.relative_to(root)}:{statement.lineno} {ast.unparse(statement)}"] = names
    return found


def reaches(names: set[str], target: str) -> bool:
    return any(name == target or name.startswith(f"{target}.") for name in names)


def offending_imports(paths: list[Path], targets: list[str] | tuple[str, ...]) -> list[str]:
    """The module-level import statements of `paths` that reach any of `targets` (a module or what is in it)."""
    return [
        statement
        for path in paths
        for statement, names in module_level_imports(path).items()
        if any(reaches(names, target) for target in targets)
    ]


def test_every_module_is_a_size_a_person_can_hold():
    too_long = {
        relative(path): lines
        for path in sorted(LMS.rglob("*.py"))
        if (lines := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert too_long == {}, "modules over 500 lines: " + ", ".join(
        f"{m} ({n} lines)" for m, n in too_long.items()
    )


def test_plumbing_imports_no_feature():
    """Features use plumbing, never the reverse: a module at the top of lms/ imports no feature at import time."""
    assert FEATURES and PLUMBING
    back = offending_imports(PLUMBING, [f"lms.{feature}" for feature in FEATURES])
    assert back == [], "plumbing importing a feature at module level:\n" + "\n".join(back)


def domain_modules() -> list[Path]:
    """A feature's domain operations: every module of its folder but the web layer, forms, fast paths, the
    package's register(app) and its commands."""
    return sorted(
        path
        for feature in FEATURES
        for path in (LMS / feature).glob("*.py")
        if path.name not in NOT_DOMAIN
        and not path.name.startswith("views")
        and not path.stem.endswith("_views")
    )


def test_domain_operations_know_nothing_of_the_web_request():
    """The same rule answers the same way from a page, the API or the command line: no request, no signed-in user
    from Flask-Login, no web plumbing, no access decorators, no page caches in a feature's operations."""
    assert domain_modules()
    web = offending_imports(domain_modules(), WEB_ONLY)
    assert web == [], "domain modules importing the web layer at module level:\n" + "\n".join(web)


def test_the_import_reader_sees_what_runs_at_import(tmp_path):
    """The checks above read imports as Python runs them."""
    package = tmp_path / "lms" / "feature"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    source = package / "rules.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "import flask_login.utils\n"
        "from flask import request, Flask\n"
        "from . import web_part\n"
        "from ..other import operations\n"
        "if TYPE_CHECKING:\n"
        "    from lms.web import hidden\n"
        "else:\n"
        "    from lms.page_cache import shown\n"
        "try:\n"
        "    import lms.accounts.access as access\n"
        "except ImportError:\n"
        "    pass\n"
        "class Holder:\n"
        "    from lms.audit import record_event\n"
        "def later():\n"
        "    from lms.courses import operations\n"
    )
    statements = module_level_imports(source, root=tmp_path)
    names = set().union(*statements.values())
    assert {
        "flask_login.utils",
        "flask.request",
        "lms.feature.web_part",
        "lms.other.operations",
        "lms.page_cache.shown",
        "lms.accounts.access",
        "lms.audit.record_event",
    } <= names
    assert not reaches(names, "lms.web") and not reaches(names, "lms.courses")
    assert all(reaches(names, target) for target in WEB_ONLY if target != "lms.web")
    assert "lms/feature/rules.py:3 from flask import request, Flask" in statements
