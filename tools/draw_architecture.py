"""Draw docs/images/architecture.png from the code: every module of stream/ and engines/, in its
layer, with an arrow for each import between them, and the data path of a render drawn bold.

    python tools/draw_architecture.py            # needs Graphviz's ``dot`` (Debian: graphviz)

The layers, top to bottom: the command (stream/cli.py), the jobs (render, live, serve, sheet,
build-engine), the parts the jobs are made of (stream/), and the engines (engines/). It also checks
what the picture shows: no module imports one of a layer above its own, and no imports go round
in a cycle; it prints any that do and exits 1.
"""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("command", "jobs", "parts", "engines")
JOBS = {"stream.render", "stream.cluster_render", "stream.chunk_worker", "stream.live", "stream.server",
        "stream.sheet", "engines.build_engine"}
EVERYWHERE = {"engines.errors", "stream.notes", "stream.frame"}  # used by most modules: not drawn, to keep it legible
DATA_PATH = ["stream.decode", "engines.engine", "stream.stabilize", "stream.encode", "stream.output_file"]
COLOURS = {"command": "#f6d5a8", "jobs": "#f3b3a6", "parts": "#bcd7ee", "engines": "#c7e3bf"}


def layer(module: str) -> str:
    if module == "stream.cli":
        return "command"
    if module in JOBS:
        return "jobs"
    return "parts" if module.startswith("stream.") else "engines"


def modules() -> dict[str, Path]:
    found = {}
    for package in ("stream", "engines"):
        for path in sorted((ROOT / package).glob("*.py")):
            if path.stem != "__init__":
                found[f"{package}.{path.stem}"] = path
    return found


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The project modules that ``name`` imports, at the top or inside functions."""
    package = name.split(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = f"{package}.{node.module}" if node.level else node.module or ""
            if node.level and not node.module:
                base = package
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
    """Imports that run back up a layer, and import cycles."""
    found = [f"{a} (layer {layer(a)}) imports {b} (layer {layer(b)})" for a, deps in graph.items() for b in deps
             if LAYERS.index(layer(b)) < LAYERS.index(layer(a))]
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


def dot(graph: dict[str, set[str]]) -> str:
    lines = ["digraph stylecast {", 'rankdir=TB; newrank=true; nodesep=0.12; ranksep=0.5; splines=true;',
             'node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11, height=0.3];',
             'edge [color="#00000040", arrowsize=0.5];']
    for name in LAYERS:
        members = sorted(m for m in graph if layer(m) == name)
        lines.append(f'subgraph cluster_{name} {{ label="{name}"; fontname="Helvetica-Bold"; fontsize=14; '
                     f'style="rounded,filled"; fillcolor="{COLOURS[name]}40"; color="#888888";')
        lines += [f'"{m}" [label="{m.replace(".", "/")}.py", fillcolor="{COLOURS[name]}"];' for m in members]
        lines.append("}")
    for name, below in zip(LAYERS, LAYERS[1:]):  # invisible rails: each layer drawn under the one above
        lines.append(f'"_{name}" [style=invis, label="", width=0, height=0]; "_{below}" [style=invis, label="", width=0, height=0];')
        lines.append(f'"_{name}" -> "_{below}" [style=invis];')
        lines += [f'"{m}" -> "_{below}" [style=invis];' for m in graph if layer(m) == name]
        lines += [f'"_{below}" -> "{m}" [style=invis];' for m in graph if layer(m) == below]
    for a, deps in sorted(graph.items()):
        lines += [f'"{a}" -> "{b}";' for b in sorted(deps)]
    for a, b in zip(DATA_PATH, DATA_PATH[1:]):  # the frames' own path, not an import
        lines.append(f'"{a}" -> "{b}" [color="#c0392b", penwidth=3, constraint=false, label=" frames", '
                     'fontcolor="#c0392b", fontsize=10];')
    lines.append("}")
    return "\n".join(lines)


def main() -> int:
    found = modules()
    graph = {name: imports(name, path, set(found)) - EVERYWHERE for name, path in found.items() if name not in EVERYWHERE}
    graph = {name: deps & set(graph) for name, deps in graph.items()}
    for line in (issues := problems(graph)):
        print(line)
    target = ROOT / "docs" / "images" / "architecture.png"
    subprocess.run(["dot", "-Tpng", "-Gdpi=80", "-o", str(target)], input=dot(graph).encode(), check=True)
    print(f"wrote {target.relative_to(ROOT)}: {len(graph)} modules, {sum(map(len, graph.values()))} imports; "
          f"{len(issues)} problems")
    return 1 if issues else 0


if __name__ == "__main__":
    sys.exit(main())
