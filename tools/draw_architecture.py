"""Draw docs/images/architecture.png from the code: every module of stream/ and engines/, in its
subpackage and layer, with an arrow for each import between them, and the data path of a render
drawn bold.

    python tools/draw_architecture.py            # needs Graphviz's ``dot`` (Debian: graphviz)

The layers, top to bottom: the command (stream/cli.py); the studio (stream/studio/); the cluster
render (stream/cluster/); the jobs (stream/render/, stream/live/, stream/serve/, side by side); the
edit: shots and their looks (stream/edit/); a look on an engine (stream/styling/); the frame path,
on the host or a device (stream/framepath/); the motion, the temporal stabilizer and flicker readout
(stream/temporal/); files in and out (stream/media/); what all share
(stream/core/); the engines (engines/: registry > training/ > runtimes/ > networks/ > the rest of
its top). A module imports from its own subpackage or from a layer below its own, never from one
above nor from a job beside it, and no imports go round in a cycle. It also checks that and prints
what breaks it, exiting 1.
"""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = {  # top to bottom: the subpackages in each
    "command": ("stream.cli",),
    "studio": ("stream.studio",),
    "cluster": ("stream.cluster",),
    "jobs": ("stream.render", "stream.live", "stream.serve"),
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
EVERYWHERE = {"engines.errors", "stream.core.notes", "stream.core.frame"}  # used by most modules: not drawn, to keep it legible
DATA_PATH = ["stream.media.decode", "engines.engine", "stream.temporal.stabilize", "stream.media.encode",
             "stream.media.output_file"]
COLOURS = {"command": "#f6d5a8", "studio": "#d4e8c4", "cluster": "#e8c4e0", "jobs": "#f3b3a6", "edit": "#f5e6a3",
           "styling": "#f7dca0", "framepath": "#f4c6a5", "temporal": "#efd9b0", "media": "#bcd7ee", "core": "#d9d9d9", "engines": "#c7e3bf"}


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


def dot(graph: dict[str, set[str]]) -> str:
    lines = ["digraph stylecast {", 'rankdir=TB; newrank=true; nodesep=0.12; ranksep=0.5; splines=true;',
             'node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11, height=0.3];',
             'edge [color="#00000040", arrowsize=0.5];']
    for name, members in LAYERS.items():
        title = name if len(members) > 1 else f"{name}: {members[0].replace('.', '/')}" + ("/" if members[0] != "stream.cli" else ".py")
        lines.append(f'subgraph cluster_{name} {{ label="{title}"; fontname="Helvetica-Bold"; fontsize=14; '
                     f'style="rounded,filled"; fillcolor="{COLOURS[name]}40"; color="#888888";')
        for home in members:
            inside = sorted(m for m in graph if package(m) == home)
            if len(members) > 1:
                lines.append(f'subgraph "cluster_{home}" {{ label="{home.replace(".", "/")}/"; fontname="Helvetica"; '
                             f'fontsize=12; style="rounded"; color="#aaaaaa";')
            lines += [f'"{m}" [label="{m.rsplit(".", 1)[-1]}.py", fillcolor="{COLOURS[name]}"];' for m in inside]
            if len(members) > 1:
                lines.append("}")
        lines.append("}")
    for name, below in zip(ORDER, ORDER[1:]):  # invisible rails: each layer drawn under the one above
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
