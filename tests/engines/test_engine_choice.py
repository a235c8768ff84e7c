"""Engine choice: auto takes the fastest engine that runs the style and says so; a named engine that
cannot run is an error, never a silent CPU run. Availability is set per case (this machine has no GPU)."""
from __future__ import annotations

import pytest

from engines import registry
from engines.catalog import resolve
from engines.errors import EngineUnavailable
from engines.registry import EngineStatus, choose_engine

pytestmark = pytest.mark.quick  # the quick tier (docs/testing.md): this file is each edit's check


def machine(monkeypatch, *available: str) -> None:
    monkeypatch.setattr(registry, "engine_status",
                        lambda name: EngineStatus(name, name in available, "here" if name in available else "absent"))


def test_auto_takes_the_fastest_available(monkeypatch):
    machine(monkeypatch, "tensorrt", "cuda", "cpu")
    assert choose_engine("auto", resolve("mosaic")) == ("tensorrt", None)
    machine(monkeypatch, "cuda", "cpu")
    assert choose_engine("auto", resolve("3:0.5,mosaic:0.5")) == ("cuda", None)
    machine(monkeypatch, "cpu")
    assert choose_engine("auto", resolve("mosaic")) == ("cpu", None)


def test_pictures_go_to_the_gpu_and_user_models_say_why_they_do_not(monkeypatch, tmp_path):
    from PIL import Image

    Image.new("RGB", (32, 32), "red").save(tmp_path / "red.png")
    (tmp_path / "mine.onnx").write_bytes(b"not read while choosing")
    machine(monkeypatch, "cuda", "cpu")
    assert choose_engine("auto", resolve(str(tmp_path / "red.png"))) == ("cuda", None)
    name, note = choose_engine("auto", resolve(str(tmp_path / "mine.onnx")))
    assert name == "cpu" and "cuda runs built-in and picture styles only" in note


def test_a_named_engine_that_cannot_run_is_an_error(monkeypatch):
    machine(monkeypatch, "cpu")
    with pytest.raises(EngineUnavailable, match="engine 'cuda' is not available here: absent"):
        choose_engine("cuda", resolve("mosaic"))


def test_this_machine_reports_real_reasons():
    status = {n: registry.engine_status(n) for n in registry.ENGINE_NAMES}
    assert status["cpu"].available
    for name in ("cuda", "tensorrt"):
        if not status[name].available:
            assert status[name].reason and "not part of this version" not in status[name].reason


def test_a_gpu_engine_that_fails_to_start_falls_back_under_auto_only(monkeypatch):
    """Fault injection: the CUDA engine raises as torch does when the GPU is out of memory."""
    import engines.runtimes.cuda

    class OutOfMemory(RuntimeError):
        pass

    def broken(*args, **kwargs):
        raise OutOfMemory("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(engines.runtimes.cuda, "CudaEngine", broken)
    machine(monkeypatch, "cuda", "cpu")
    notes = []
    engine = registry.open_engine("auto", "mosaic", notes=notes.append)
    assert engine.name == "cpu"
    assert notes == ["engine cuda could not start (OutOfMemory: CUDA out of memory. Tried to allocate 2.00 GiB); "
                     "using cpu"]
    with pytest.raises(EngineUnavailable, match="engine 'cuda' could not start: OutOfMemory"):
        registry.open_engine("cuda", "mosaic")
