"""lmforecast/ARCHITECTURE.md stays true: the modules it names exist, every public module is named,
and every dotted name and file path it cites resolves."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "lmforecast"
TEXT = (PACKAGE / "ARCHITECTURE.md").read_text(encoding="utf-8")


def tree_modules() -> set[str]:
    """Paths (relative to the repo) of the modules and folders in the map's tree block."""
    (tree,) = re.findall(r"```\n(lmforecast/\n.*?)```", TEXT, flags=re.S)
    stack: list[tuple[int, str]] = []
    named = set()
    for line in tree.splitlines():
        indent = len(line) - len(line.lstrip(" "))
        names = []
        for token in line.split():
            if not token.rstrip(",").endswith((".py", "/")):
                break
            names.append(token.rstrip(","))
        if not names:
            continue  # a description continued on the next line
        while stack and stack[-1][0] >= indent:
            stack.pop()
        parent = stack[-1][1] if stack else ""
        for name in names:
            named.add(parent + name)
        if names[-1].endswith("/"):
            stack.append((indent, parent + names[-1]))
    return named


def test_every_module_in_the_map_exists():
    missing = sorted(p for p in tree_modules() if not (REPO / p).exists())
    assert not missing, f"ARCHITECTURE.md names modules that do not exist: {missing}"


def test_every_public_module_is_in_the_map():
    named = tree_modules()
    modules = {p.relative_to(REPO).as_posix() for p in PACKAGE.rglob("*.py")
               if not p.name.startswith("_") and "data" not in p.relative_to(PACKAGE).parts}
    unnamed = sorted(modules - named)
    assert not unnamed, f"modules missing from lmforecast/ARCHITECTURE.md: {unnamed}"


@pytest.mark.parametrize("dotted", sorted(set(re.findall(r"`(lmforecast(?:\.\w+)+)", TEXT))))
def test_dotted_names_resolve(dotted):
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return
    raise AssertionError(f"{dotted} does not resolve")


@pytest.mark.parametrize("path", sorted(set(re.findall(r"`((?:lmforecast|experiments|conf|tests|data)/[\w./<>-]+)`",
                                                           TEXT)) - {"lmforecast/"}))
def test_cited_paths_exist(path):
    if "<" in path or "*" in path:
        pytest.skip(f"{path} is a pattern")
    assert (REPO / path).exists(), f"ARCHITECTURE.md cites {path}, which does not exist"
