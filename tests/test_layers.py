"""The layout holds: no module imports one of a layer above its own (command > jobs > parts >
engines), no imports go round in a cycle, and docs/images/architecture.png's drawing script sees
every module."""
from __future__ import annotations

from draw_architecture import layer, modules, imports, problems


def graph() -> dict[str, set[str]]:
    found = modules()
    return {name: imports(name, path, set(found)) for name, path in found.items()}


def test_no_import_runs_back_up_a_layer_and_there_are_no_cycles():
    g = graph()
    assert len(g) > 50 and layer("stream.cli") == "command" and layer("engines.cpu") == "engines"
    assert problems(g) == []


def test_the_check_finds_an_import_up_a_layer_and_a_cycle():
    g = graph()
    g["engines.look"] = g["engines.look"] | {"stream.render"}       # an engine reaching up into a job
    g["stream.stats"] = g["stream.stats"] | {"stream.stylist"}      # stylist -> stats -> stylist
    found = problems(g)
    assert any("engines.look (layer engines) imports stream.render (layer jobs)" in p for p in found)
    assert any(p.startswith("cycle") and "stream.stylist" in p for p in found)
