"""The layout holds (the rule: tests/support/layers.py): every module imports only from its own
subpackage or from a layer below its own (command > studio > cluster > the jobs render, live and
serve, side by side > live's links > the web kit > edit > styling > the frame path > temporal > media > core >
engines; inside engines, registry > training > runtimes > networks > the rest of its top), no
imports go round in a cycle, no folder holds more than 15 modules, and the drawing of it
(docs/tools/draw_architecture.py) sees every module."""
from __future__ import annotations

from pathlib import Path

import pytest
from support.layers import LAYERS, imports, layer, modules, package, problems

pytestmark = pytest.mark.quick  # the quick tier (docs/testing.md): this file is each edit's check

ROOT = Path(__file__).resolve().parents[1]
STREAM, ENGINES = ROOT / "stream", ROOT / "engines"
MAX_MODULES = 15  # a folder with more is read as a list, not as a design


def graph() -> dict[str, set[str]]:
    found = modules()
    return {name: imports(name, path, set(found)) for name, path in found.items()}


def test_no_import_runs_up_a_layer_or_across_to_another_job_and_there_are_no_cycles():
    g = graph()
    assert len(g) > 80 and layer("stream.cli") == "command" and layer("engines.runtimes.cpu") == "engines"
    assert layer("stream.live.job") == "jobs" and package("stream.live.job") == "stream.live"
    assert "stream.styling.stylist" in g["stream.live.job"]  # a relative import inside a subpackage is seen
    assert problems(g) == []


def test_every_module_lives_in_a_subpackage_the_layers_name_that_says_what_it_is_and_holds_few():
    loose = sorted(p.name for p in STREAM.glob("*.py"))
    assert loose == ["__init__.py", "cli.py"]
    homes = {home for members in LAYERS.values() for home in members}
    folders = [p for p in [*STREAM.iterdir(), ENGINES, *ENGINES.iterdir()] if (p / "__init__.py").exists()]
    assert len(folders) >= 13
    for folder in sorted(folders):
        assert ".".join(folder.relative_to(ROOT).parts) in homes, folder
        doc = (folder / "__init__.py").read_text()
        assert doc.startswith('"""') and ("May import:" in doc or folder == ENGINES), folder
        assert len([p for p in folder.glob("*.py") if p.stem != "__init__"]) <= MAX_MODULES, folder
    every = {".".join(p.relative_to(ROOT).with_suffix("").parts) for p in [*STREAM.glob("*/*.py"), *ENGINES.rglob("*.py")]
             if p.stem != "__init__"}
    assert set(modules()) >= every


def test_the_check_finds_an_import_up_a_layer_across_the_jobs_and_a_cycle():
    g = graph()
    g["engines.mix"] = g["engines.mix"] | {"stream.render.job"}            # an engine reaching up into a job
    g["stream.serve.session"] = g["stream.serve.session"] | {"stream.live.sinks"}  # a job reaching across to another
    g["stream.styling.stats"] = g["stream.styling.stats"] | {"stream.styling.stylist"}    # stylist -> stats -> stylist
    g["engines.networks.folded_net"] = g["engines.networks.folded_net"] | {"engines.runtimes.cuda"}  # a network
    found = problems(g)                                                          # reaching up into a runtime
    assert any("engines.mix (engines, layer engines) imports stream.render.job (stream.render, layer jobs)" in p
               for p in found)
    assert any(p.startswith("engines.networks.folded_net (engines.networks") and "engines.runtimes.cuda" in p for p in found)
    assert any("stream.serve.session (stream.serve, layer jobs) imports stream.live.sinks" in p for p in found)
    assert any(p.startswith("cycle") and "stream.styling.stylist" in p for p in found)
