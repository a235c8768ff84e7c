"""torch -> ONNX: a fast_neural_style .pth checkpoint becomes a cached ONNX file, once.

Checkpoints are read with ``torch.load(weights_only=True)``: a file that would run code when
unpickled is refused, never executed.
"""
from __future__ import annotations

import os
import re
import warnings
from pathlib import Path

from engines.cache_dir import cache_dir, file_digest
from engines.errors import StyleError

PIXEL_RANGE_KEY = "stylecast.pixel_range"


def _load_state_dict(path: Path):
    import pickle

    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "unsafe content"
        raise StyleError(f"{path.name} is not a plain weights file and was refused ({first[:120]})") from None
    except (RuntimeError, OSError, EOFError, ValueError) as exc:
        raise StyleError(f"cannot read checkpoint {path.name}: {str(exc).splitlines()[0][:160]}") from None
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise StyleError(f"{path.name} holds no state_dict of a fast_neural_style TransformerNet")
    # checkpoints saved by old PyTorch carry InstanceNorm running stats the network does not use
    return {k: v for k, v in state.items() if not re.search(r"in\d+\.running_(mean|var)$", k)}


def onnx_from_checkpoint(path: Path) -> Path:
    """The cached ONNX export of a TransformerNet .pth, made on first use (keyed by the file's sha256)."""
    target = cache_dir("models") / f"transformernet-{file_digest(path)[:24]}.onnx"
    if target.is_file():
        return target
    try:
        import torch
    except ImportError:
        raise StyleError("importing a .pth style needs PyTorch: pip install torch") from None
    from .transformer_net import TransformerNet

    net = TransformerNet()
    try:
        net.load_state_dict(_load_state_dict(path))
    except RuntimeError as exc:
        raise StyleError(f"{path.name} is not a fast_neural_style TransformerNet checkpoint: "
                         f"{str(exc).splitlines()[0][:160]}") from None
    net.eval()
    import onnx

    tmp = target.with_suffix(f".{os.getpid()}.tmp")
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(net, (torch.zeros(1, 3, 64, 64),), str(tmp), input_names=["image"],
                          output_names=["stylized"], opset_version=17, dynamo=False,
                          dynamic_axes={"image": {2: "height", 3: "width"}, "stylized": {2: "height", 3: "width"}})
    model = onnx.load(str(tmp))
    entry = model.metadata_props.add()
    entry.key, entry.value = PIXEL_RANGE_KEY, "255"
    onnx.save(model, str(tmp))
    os.replace(tmp, target)
    return target
