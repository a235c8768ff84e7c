"""The TensorRT engine cache: an engine is trusted only when its metadata matches and its bytes check."""
from __future__ import annotations

import json

import pytest

from engines.runtimes.tensorrt_cache import EngineCache, EngineKey

pytestmark = pytest.mark.quick  # the quick tier (docs/testing.md): this file is each edit's check

KEY = EngineKey(gpu="NVIDIA H100 80GB HBM3", compute_capability="9.0", tensorrt="10.9.0", model_sha256="ab" * 32,
                precision="fp16", profile=((1, 3, 64, 64), (1, 3, 360, 640), (1, 3, 1088, 1920)))


@pytest.fixture
def cache(tmp_path):
    return EngineCache(tmp_path)


def test_round_trip(cache):
    cache.store(KEY, b"engine bytes")
    assert cache.load(KEY) == b"engine bytes"


@pytest.mark.parametrize("field, value", [
    ("gpu", "NVIDIA A100-SXM4-40GB"), ("compute_capability", "8.0"), ("tensorrt", "10.10.0"),
    ("model_sha256", "cd" * 32), ("precision", "int8"), ("profile", ((1, 3, 64, 64),) * 3),
])
def test_any_change_in_the_key_is_a_different_engine(cache, field, value):
    cache.store(KEY, b"engine bytes")
    other = EngineKey(**{**KEY.__dict__, field: value})
    assert other.digest() != KEY.digest()
    assert cache.load(other) is None


def test_foreign_metadata_is_not_trusted_and_is_removed(cache):
    engine, meta = cache.paths(KEY)
    cache.store(KEY, b"engine bytes")
    recorded = json.loads(meta.read_text())
    recorded["gpu"] = "someone else's GPU"  # an entry copied from another machine under this name
    meta.write_text(json.dumps(recorded))
    assert cache.load(KEY) is None
    assert not engine.exists() and not meta.exists()


def test_engine_bytes_changed_after_build_are_not_trusted(cache):
    engine, _ = cache.paths(KEY)
    cache.store(KEY, b"engine bytes")
    engine.write_bytes(b"engine bytez")
    assert cache.load(KEY) is None and not engine.exists()


@pytest.mark.parametrize("damage", ["no metadata", "not json", "a list", "no engine"])
def test_incomplete_or_damaged_entries_are_rebuilt(cache, damage):
    engine, meta = cache.paths(KEY)
    cache.store(KEY, b"engine bytes")
    if damage == "no metadata":
        meta.unlink()
    elif damage == "not json":
        meta.write_text("{not json")
    elif damage == "a list":
        meta.write_text("[]")
    else:
        engine.unlink()
    assert cache.load(KEY) is None
    assert not engine.exists() and not meta.exists()


def test_the_tensorrt_profile_is_tuned_for_the_jobs_own_frame_size():
    """TensorRT picks its kernels for the optimal shape: the job's frames, not a 1280x720 guess."""
    from engines.runtimes.tensorrt import MIN_SIDE, profile_for

    low, opt, high = profile_for(1920, (1920, 1080))
    assert low == (1, 3, MIN_SIDE, MIN_SIDE) and opt == (1, 3, 1080, 1920) and high == (1, 3, 1920, 1920)
    assert profile_for(1920, (642, 362))[1] == (1, 3, 364, 644)  # padded to multiples of 4, as the network runs
    assert profile_for(1920)[1] == (1, 3, 720, 1280)  # no size known: 16:9 at 1280
    assert profile_for(640, (1920, 1080))[1] == (1, 3, 640, 640)  # never past the largest shape
