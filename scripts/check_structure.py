#!/usr/bin/env python3
"""Structure checks CI runs on the request path's crates.

* No import circles between the files of `crates/ringway-proxy/src` and
  `crates/ringway/src`: every `crate::` / `super::` path in a file's
  non-test code is an edge to the file that defines it.
* No `too_many_arguments` allowance anywhere in `crates/`.
* One attempt loop: `request::attempt::run` is the only place that loops
  over attempts (no other file defines an `attempt` counter).

Exit 1 with the findings when a check fails. Standard library only.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CRATES = [REPO / "crates/ringway-proxy/src", REPO / "crates/ringway/src"]
PATH = re.compile(r"\b(crate|super)((?:::[A-Za-z_][A-Za-z0-9_]*)+)")
GROUP = re.compile(r"\b(crate|super)((?:::[A-Za-z_][A-Za-z0-9_]*)*)::\{([^}]*)\}", re.S)


def code_of(path: Path) -> str:
    """The file's text without its test module and comments."""
    text = path.read_text()
    cut = text.find("#[cfg(test)]")
    if cut >= 0:
        text = text[:cut]
    return re.sub(r"//[^\n]*", "", text)


def module_of(src: Path, path: Path) -> list[str]:
    parts = list(path.relative_to(src).with_suffix("").parts)
    if parts[-1] in ("mod", "lib", "main"):
        parts.pop()
    return parts


def resolve(src: Path, module: list[str]) -> Path | None:
    """The file that defines the longest prefix of `module`."""
    for n in range(len(module), 0, -1):
        base = src.joinpath(*module[:n])
        for candidate in (base.with_suffix(".rs"), base / "mod.rs"):
            if candidate.is_file():
                return candidate
    return None


def edges(src: Path) -> dict[Path, set[Path]]:
    files = [p for p in src.rglob("*.rs") if p.name != "tests.rs" and "tests" not in p.parts]
    graph: dict[Path, set[Path]] = {p: set() for p in files}
    for path in files:
        here = module_of(src, path)
        parent = here if path.name == "mod.rs" else here[:-1]
        code = code_of(path)
        paths = [(m.group(1), m.group(2)) for m in PATH.finditer(code)]
        for m in GROUP.finditer(code):
            for item in m.group(3).split(","):
                item = item.strip().split(" as ")[0].strip()
                if item and item != "self":
                    paths.append((m.group(1), f"{m.group(2)}::{item.split('::')[0]}"))
        for root, rest in paths:
            names = [n for n in rest.split("::") if n]
            base = [] if root == "crate" else parent[:-1] if path.name == "mod.rs" else parent
            if root == "super" and path.name == "mod.rs":
                base = here[:-1]
            target = resolve(src, base + names)
            if target is not None and target != path:
                graph[path].add(target)
    return graph


def cycles(graph: dict[Path, set[Path]]) -> list[list[Path]]:
    """Strongly connected components of more than one file (Tarjan)."""
    index: dict[Path, int] = {}
    low: dict[Path, int] = {}
    stack: list[Path] = []
    found: list[list[Path]] = []

    def visit(v: Path) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(component)

    sys.setrecursionlimit(10_000)
    for v in graph:
        if v not in index:
            visit(v)
    return found


def main() -> int:
    problems: list[str] = []
    for src in CRATES:
        for component in cycles(edges(src)):
            names = ", ".join(sorted(str(p.relative_to(REPO)) for p in component))
            problems.append(f"import circle: {names}")
    for path in sorted((REPO / "crates").rglob("*.rs")):
        if "target" in path.parts:
            continue
        if "too_many_arguments" in path.read_text():
            problems.append(f"too_many_arguments allowance: {path.relative_to(REPO)}")
    proxy = REPO / "crates/ringway-proxy/src"
    for path in sorted(proxy.rglob("*.rs")):
        if path.name == "attempt.rs" or "tests" in path.parts:
            continue
        if re.search(r"\blet mut attempt\b", code_of(path)):
            problems.append(f"an attempt loop outside request::attempt: {path.relative_to(REPO)}")
    for problem in problems:
        print(f"structure: {problem}")
    if problems:
        return 1
    print("structure: no import circles in ringway-proxy or ringway, no too_many_arguments, one attempt loop")
    return 0


if __name__ == "__main__":
    sys.exit(main())
