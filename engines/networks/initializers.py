"""An ONNX file's weights (its initializers) as arrays, for the torch networks built from them
(engines/networks/multistyle_net.py, picture_net.py).

Read through onnx once, and kept in the cache as an .npz keyed by the file's sha256: numpy arrays
only, read back with ``allow_pickle=False``, so nothing in it can run. A start that finds them there
never imports onnx, whose ml_dtypes costs 0.4 s of it (docs/benchmarks/cpu.md, "Start-up").
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from engines.cache_dir import cache_dir, cached_arrays, file_digest
from engines.optional import numpy_helper, onnx


def initializers(path: Path) -> dict[str, np.ndarray]:
    """``path``'s initializers by name (its external data not read: the packaged files have none)."""
    def read() -> dict[str, np.ndarray]:
        model = onnx.load(str(path), load_external_data=False)
        return {i.name: numpy_helper.to_array(i).copy() for i in model.graph.initializer}

    return cached_arrays(cache_dir("models") / f"{path.stem}-weights-{file_digest(path)[:16]}.npz", read)
