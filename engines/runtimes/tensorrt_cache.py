"""The cache of built TensorRT engines: keys, and a metadata file checked before any engine is trusted.

An engine file is only valid for the GPU model and compute capability, the TensorRT version, the
exact ONNX graph, the precision and the optimization profile it was built for. Each engine
``<digest>.engine`` has a ``<digest>.json`` beside it with those fields and the engine's sha256.
``load`` reads the metadata first and returns the engine's bytes only when every field matches
and the bytes hash to what the metadata says: a stale, foreign or damaged engine is removed and
the caller rebuilds it. Nothing is deserialized before that check.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from engines.cache_dir import cache_dir

FORMAT = 1  # bump when the metadata's meaning changes: old entries are then rebuilt


@dataclass(frozen=True)
class EngineKey:
    gpu: str                       # torch.cuda.get_device_name()
    compute_capability: str        # "9.0"
    tensorrt: str                  # tensorrt.__version__
    model_sha256: str              # the ONNX graph the engine was built from (style folded in)
    precision: str                 # fp16 | fp32
    profile: tuple[tuple[int, ...], ...]  # min, opt, max input shapes

    def digest(self) -> str:
        text = json.dumps({"format": FORMAT, **asdict(self)}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def as_dict(self) -> dict:
        return {"format": FORMAT, **asdict(self), "profile": [list(s) for s in self.profile]}


class EngineCache:
    def __init__(self, root: Path | None = None):
        self.root = root or cache_dir("engines")
        self.root.mkdir(parents=True, exist_ok=True)

    def paths(self, key: EngineKey) -> tuple[Path, Path]:
        d = key.digest()
        return self.root / f"{d}.engine", self.root / f"{d}.json"

    def load(self, key: EngineKey) -> bytes | None:
        """The engine's bytes when its metadata matches ``key`` exactly and its hash checks; else None
        (and whatever was there is removed)."""
        engine, meta = self.paths(key)
        if not engine.exists() and not meta.exists():
            return None
        try:
            recorded = json.loads(meta.read_text())
            expected = key.as_dict()
            if not isinstance(recorded, dict) or {k: recorded.get(k) for k in expected} != expected:
                raise ValueError("metadata does not match")
            data = engine.read_bytes()
            if hashlib.sha256(data).hexdigest() != recorded.get("engine_sha256"):
                raise ValueError("engine bytes do not match their metadata")
            return data
        except (OSError, ValueError):
            self.remove(key)
            return None

    def store(self, key: EngineKey, data: bytes) -> Path:
        """Write the engine, then its metadata (each atomically): a half-written entry never loads."""
        engine, meta = self.paths(key)
        for path, payload in ((engine, data),
                              (meta, json.dumps({**key.as_dict(), "engine_sha256": hashlib.sha256(data).hexdigest()},
                                                indent=1).encode())):
            partial = path.with_name(path.name + f".partial-{os.getpid()}")
            partial.write_bytes(payload)
            os.replace(partial, path)
        return engine

    def remove(self, key: EngineKey) -> None:
        for path in self.paths(key):
            path.unlink(missing_ok=True)
