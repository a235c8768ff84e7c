"""The layer rule of stylecast's code, stated once: every module imports only from its own
subpackage or from a layer below its own (command > studio > cluster > the jobs render, live and
serve, side by side > the web kit > edit > styling > the frame path > temporal > media > core >
engines; inside engines, registry > training > runtimes > networks > the rest of its top), and no
imports go round in a cycle. tests/test_layers.py holds the code to it; docs/tools/draw_architecture.py
draws it."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAYERS = {  # top to bottom: the subpackages in each
    "command": ("stream.cli",),
    "studio": ("stream.studio",),
    "cluster": ("stream.cluster",),
    "jobs": ("stream.render", "stream.live", "stream.serve"),
    "links": ("stream.links",),
    "web": ("stream.web",),
    "edit": ("stream.edit",),
    "styling": ("stream.styling",),
    "framepath": ("stream.framepath",),
    "temporal": ("stream.temporal",),
    "media": ("stream.media",),
    "core": ("stream.core",),
    "engines": ("engines", "engines.training", "engines.runtimes", "engines.networks"),
}
ORDER = list(LAYERS)
# inside engines/, top to bottom: the registry (it chooses a runtime) and build_engine, training, runtimes, networks,
# and the rest of the top (the contract, catalog, errors, mix): a module imports its own part or one below
ENGINE_PARTS = ("engines front", "engines.training", "engines.runtimes", "engines.networks", "engines")
ENGINE_FRONT = {"engines.registry", "engines.build_engine"}  # at the top of engines/, above the rest


def package(module: str) -> str:
    """The subpackage a module belongs to: stream.live for stream.live.job, engines.runtimes for
    engines.runtimes.cpu, engines for engines.catalog."""
    return "stream.cli" if module == "stream.cli" else module.rsplit(".", 1)[0]


def engine_part(module: str) -> str:
    """Where a module of engines/ stands inside it (ENGINE_PARTS)."""
    return "engines front" if module in ENGINE_FRONT else package(module)


def layer(module: str) -> str:
    home = package(module)
    return next(name for name, members in LAYERS.items() if home in members)


def modules() -> dict[str, Path]:
    found = {"stream.cli": ROOT / "stream" / "cli.py"}
    for path in sorted((ROOT / "engines").glob("*.py")) + sorted((ROOT / "engines").glob("*/*.py")) \
            + sorted((ROOT / "stream").glob("*/*.py")):
        if path.stem != "__init__":
            found[".".join(path.relative_to(ROOT).with_suffix("").parts)] = path
    return found


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The project modules that ``name`` imports, at the top or inside functions."""
    here = package(name).split(".") if name != "stream.cli" else ["stream"]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = ".".join(here[:len(here) - node.level + 1])
                base = f"{parent}.{node.module}" if node.module else parent
            for alias in node.names:
                for candidate in (f"{base}.{alias.name}", base):
                    if candidate in known:
                        found.add(candidate)
                        break
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name in known}
    found.discard(name)
    return found


def problems(graph: dict[str, set[str]]) -> list[str]:
    """Imports that run back up a layer or across to a job beside their own, and import cycles."""
    def upward(a: str, b: str) -> bool:
        if layer(a) == layer(b) == "engines":
            return engine_part(a) != engine_part(b) and ENGINE_PARTS.index(engine_part(b)) <= ENGINE_PARTS.index(engine_part(a))
        return package(a) != package(b) and ORDER.index(layer(b)) <= ORDER.index(layer(a))

    found = [f"{a} ({package(a)}, layer {layer(a)}) imports {b} ({package(b)}, layer {layer(b)})"
             for a, deps in graph.items() for b in deps if upward(a, b)]
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                found.append("cycle: " + " -> ".join(trail[trail.index(dep):] + [node, dep]) if dep in trail
                             else f"cycle through {node} -> {dep}")
            elif dep not in state:
                visit(dep, trail + [node])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [])
    return found
