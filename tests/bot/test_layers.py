"""The packages stack by import, nlp < storage < bot < handlers (README "Development").

Read from the source with `ast`, so an import inside a function counts as much as
one at the top, and a comment or string naming a package does not.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("nlp", "storage", "bot", "handlers")
# What each package must never import. storage sits above nlp in the stack but
# has no use for it: labels and masking are presentation, done in bot/.
FORBIDDEN = {
    "nlp": ("storage", "bot", "handlers"),
    "storage": ("nlp", "bot", "handlers"),
}


def imported_modules(source: str, module: str) -> set[str]:
    """Dotted names that `source` (the module named `module`) imports; `from a.b
    import c` counts as `a.b.c` (c may be a module or a name in a.b)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the importing module's package
                base = ".".join(module.split(".")[: -node.level])
                prefix = f"{base}.{node.module}" if node.module else base
            else:
                prefix = node.module or ""
            found.update(f"{prefix}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Call):
            # importlib.import_module("pkg.mod") and __import__("pkg.mod")
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in ("import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant):
                found.add(str(node.args[0].value))
    return found


def imported_packages(source: str, module: str) -> set[str]:
    """Top-level packages that `source` (the module named `module`) imports."""
    return {name.split(".")[0] for name in imported_modules(source, module)}


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


# Inside the packages: (modules under this prefix, except under these) must not
# import (anything under these prefixes).
INNER_RULES = [
    # bot/ is a core that features import and a runtime (bot.run) that imports the
    # features; only the runtime may know them, and the core never needs the runtime.
    ("bot", ("bot.run", "bot.__main__"), ("handlers", "bot.run")),  # __main__: `python -m bot` starts the CLI
    # The two feature families never import each other; the runtime wires them.
    ("handlers.cases", (), ("handlers.guard", "handlers.identity")),
    ("handlers.guard", (), ("handlers.cases", "handlers.identity")),
    ("handlers.identity", (), ("handlers.cases", "handlers.guard")),
    ("handlers", (), ("bot.run",)),
]


def modules(package: str) -> list[tuple[str, Path]]:
    out = []
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        out.append((".".join(parts), path))
    assert out, f"no modules found under {package}/"
    return out


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_lower_packages_do_not_import_higher_ones(package):
    wrong = []
    for module, path in modules(package):
        bad = imported_packages(path.read_text(encoding="utf-8"), module) & set(FORBIDDEN[package])
        wrong += [f"{path.relative_to(ROOT)} imports {name}" for name in sorted(bad)]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(
    "source",
    [
        "import nlp.detection",
        "from nlp.detection import CATEGORIES",
        "from nlp import detection",
        "def f():\n    from nlp.detection import SEVERITIES\n",
        "import importlib\nimportlib.import_module('nlp.detection')",
    ],
)
def test_the_check_sees_every_form_of_import(source):
    assert "nlp" in imported_packages(source, "storage.x")


def test_the_check_ignores_comments_strings_and_own_relative_imports():
    source = '"""Uses nlp for labels."""\n# import nlp\nfrom . import sql\nfrom .sql import in_clause\nx = "from nlp import detection"\n'
    assert imported_packages(source, "storage.ledger") == {"storage"}


@pytest.mark.parametrize("scope, exempt, forbidden", INNER_RULES)
def test_the_core_and_the_features_keep_their_boundaries(scope, exempt, forbidden):
    wrong = []
    for module, path in modules(scope.split(".")[0]):
        if not _under(module, scope) or any(_under(module, e) for e in exempt):
            continue
        for name in sorted(imported_modules(path.read_text(encoding="utf-8"), module)):
            if any(_under(name, f) for f in forbidden):
                wrong.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not wrong, "\n".join(wrong)


def test_the_boundary_check_resolves_relative_and_from_imports():
    assert "handlers.guard.calendar.calendar_warnings" in imported_modules("from handlers.guard.calendar import calendar_warnings", "bot.x")
    assert "handlers.guard.room" in imported_modules("from ..guard import room", "handlers.cases.x")
