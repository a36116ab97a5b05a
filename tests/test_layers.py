"""Imports run one way. Each part of synth says in its package docstring what it may import
(a ``May import:`` paragraph naming modules or packages); every import in its modules, those
inside functions included, is held to that. The shared leaves (version, resources, escape) import
nothing of synth and may be imported by every part."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import synth

PACKAGE = Path(synth.__file__).parent
LEAVES = {"synth.version", "synth.resources", "synth.escape"}
PARTS = sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file())


def synth_imports(path: Path) -> set[str]:
    """The synth modules ``path`` imports, anywhere in it."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: a relative import"
            if node.module == "synth":  # from synth import x: the module synth.x, or a public name
                names |= {f"synth.{alias.name}" for alias in node.names}
            elif node.module:
                names.add(node.module)
    return {name for name in names if name == "synth" or name.startswith("synth.")}


def allowed(part: str) -> list[str] | None:
    """The prefixes a part's docstring allows, or None for every part of synth."""
    doc = ast.get_docstring(ast.parse((PACKAGE / part / "__init__.py").read_text(encoding="utf-8"))) or ""
    match = re.search(r"^May import:(.*?)(?:\n\n|\Z)", doc, re.S | re.M)
    assert match, f"synth/{part}/__init__.py: its docstring has no 'May import:' paragraph"
    text = match.group(1)
    if "every part of synth" in text:
        return None
    return re.findall(r"synth(?:\.\w+)+", text)


def within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def test_every_part_says_what_it_may_import():
    assert set(PARTS) == {"analysis", "cli", "elastic", "generate", "output", "render", "run"}
    for part in PARTS:
        for prefix in allowed(part) or []:
            assert prefix.split(".")[1] in PARTS, (part, prefix)


@pytest.mark.parametrize("part", PARTS)
def test_a_part_imports_only_what_its_docstring_allows(part):
    prefixes = allowed(part)
    if prefixes is None:
        return
    wrong = []
    for path in sorted((PACKAGE / part).rglob("*.py")):
        for name in sorted(synth_imports(path)):
            if within(name, f"synth.{part}") or name in LEAVES or any(within(name, p) for p in prefixes):
                continue
            wrong.append(f"{path.relative_to(PACKAGE.parent)} imports {name}")
    assert not wrong, "\n".join(wrong)


def test_the_leaves_import_nothing_of_synth():
    for leaf in LEAVES:
        path = PACKAGE / f"{leaf.split('.')[1]}.py"
        assert synth_imports(path) == set(), leaf


def test_the_parts_form_no_cycle():
    """What the docstrings allow is itself one way: no part may import, through others, itself."""
    edges = {part: {p.split(".")[1] for p in (allowed(part) or [])} for part in PARTS}
    edges["cli"] = set(PARTS) - {"cli"}

    def reaches(start: str, goal: str, seen: frozenset[str] = frozenset()) -> bool:
        return any(n == goal or (n not in seen and reaches(n, goal, seen | {n})) for n in edges[start])

    assert [part for part in PARTS if reaches(part, part)] == []
