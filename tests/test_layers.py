"""The layout holds: every module imports only from its own subpackage or from a layer below its
own (command > cluster > the jobs render, live and serve, side by side > look > media > core >
engines), no imports go round in a cycle, and docs/images/architecture.png's drawing script sees
every module."""
from __future__ import annotations

from pathlib import Path

from draw_architecture import LAYERS, imports, layer, modules, package, problems

STREAM = Path(__file__).resolve().parents[1] / "stream"


def graph() -> dict[str, set[str]]:
    found = modules()
    return {name: imports(name, path, set(found)) for name, path in found.items()}


def test_no_import_runs_up_a_layer_or_across_to_another_job_and_there_are_no_cycles():
    g = graph()
    assert len(g) > 80 and layer("stream.cli") == "command" and layer("engines.cpu") == "engines"
    assert layer("stream.live.job") == "jobs" and package("stream.live.job") == "stream.live"
    assert "stream.look.stylist" in g["stream.live.job"]  # a relative import inside a subpackage is seen
    assert problems(g) == []


def test_every_module_of_stream_lives_in_a_subpackage_the_layers_name_and_says_what_it_is():
    loose = sorted(p.name for p in STREAM.glob("*.py"))
    assert loose == ["__init__.py", "cli.py"]
    homes = {home for members in LAYERS.values() for home in members}
    for folder in sorted(p for p in STREAM.iterdir() if (p / "__init__.py").exists()):
        assert f"stream.{folder.name}" in homes, folder
        doc = (folder / "__init__.py").read_text()
        assert doc.startswith('"""') and "May import:" in doc, folder
    assert set(modules()) >= {f"stream.{p.parent.name}.{p.stem}" for p in STREAM.glob("*/*.py") if p.stem != "__init__"}


def test_the_check_finds_an_import_up_a_layer_across_the_jobs_and_a_cycle():
    g = graph()
    g["engines.look"] = g["engines.look"] | {"stream.render.job"}            # an engine reaching up into a job
    g["stream.serve.session"] = g["stream.serve.session"] | {"stream.live.sinks"}  # a job reaching across to another
    g["stream.look.stats"] = g["stream.look.stats"] | {"stream.look.stylist"}    # stylist -> stats -> stylist
    found = problems(g)
    assert any("engines.look (engines, layer engines) imports stream.render.job (stream.render, layer jobs)" in p
               for p in found)
    assert any("stream.serve.session (stream.serve, layer jobs) imports stream.live.sinks" in p for p in found)
    assert any(p.startswith("cycle") and "stream.look.stylist" in p for p in found)
