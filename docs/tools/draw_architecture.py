"""Draw docs/images/architecture.png from the code: every module of stream/ and engines/, in its
subpackage and layer, with an arrow for each import between them, and the data path of a render
drawn bold.

    python -m docs.tools.draw_architecture       # needs Graphviz's ``dot`` (Debian: graphviz)

The layers, top to bottom: the command (stream/cli.py); the studio (stream/studio/); the cluster
render (stream/cluster/); the jobs (stream/render/, stream/live/, stream/serve/, side by side); live's
links to other programs and devices (stream/links/: PipeWire, SRT, NDI, WHIP, the monitor window); the
edit: shots and their looks (stream/edit/); a look on an engine (stream/styling/); the frame path,
on the host or a device (stream/framepath/); the motion, the temporal stabilizer and flicker readout
(stream/temporal/); files in and out (stream/media/); what all share
(stream/core/); the engines (engines/: registry > training/ > runtimes/ > networks/ > the rest of
its top). A module imports from its own subpackage or from a layer below its own, never from one
above nor from a job beside it, and no imports go round in a cycle. It also checks that and prints
what breaks it, exiting 1.
"""
from __future__ import annotations

import subprocess
import sys

from tests.support.layers import (
    LAYERS,
    ORDER,
    ROOT,
    imports,
    layer,
    modules,
    package,
    problems,
)

EVERYWHERE = {"engines.errors", "stream.core.notes", "stream.core.frame"}  # used by most modules: not drawn, to keep it legible
DATA_PATH = ["stream.media.decode", "engines.engine", "stream.temporal.stabilize", "stream.media.encode",
             "stream.media.output_file"]
COLOURS = {"command": "#f6d5a8", "studio": "#d4e8c4", "cluster": "#e8c4e0", "jobs": "#f3b3a6", "links": "#f0c4c4", "web": "#e2d4f0",
           "edit": "#f5e6a3",
           "styling": "#f7dca0", "framepath": "#f4c6a5", "temporal": "#efd9b0", "media": "#bcd7ee", "core": "#d9d9d9", "engines": "#c7e3bf"}


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
