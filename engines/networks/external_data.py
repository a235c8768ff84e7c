"""ONNX external data, checked before anything is read: a model's weights may live in files beside
it, and every such reference must stay inside the model's own folder.

A model whose external data names an absolute path, climbs out with ``..``, or reaches outside
through a symlink is refused before ONNX Runtime opens any of it: a shared model file must not be a
way to read other files on the machine.
"""
from __future__ import annotations

from pathlib import Path, PurePosixPath, PureWindowsPath

from engines.errors import StyleError


def external_locations(path: Path) -> list[str]:
    """The external data file names a model refers to (its own bytes only; nothing else is read)."""
    import onnx
    from onnx.external_data_helper import _get_all_tensors

    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # onnx raises its own untyped errors for bad files
        raise StyleError(f"cannot load ONNX model {path.name}: {str(exc).splitlines()[0][:200]}") from None
    locations = []
    for tensor in _get_all_tensors(model):
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            entry = {e.key: e.value for e in tensor.external_data}
            locations.append(entry.get("location", ""))
    return locations


def check_external_data(path: Path) -> None:
    """Raise StyleError when ``path``'s external data would be read from outside its folder."""
    folder = path.resolve().parent
    for location in external_locations(path):
        pure = PurePosixPath(location.replace("\\", "/"))
        if not location or pure.is_absolute() or PureWindowsPath(location).is_absolute() or ".." in pure.parts:
            raise StyleError(f"{path.name} refers to weights outside its folder ({location!r}); refused")
        target = (folder / pure).resolve()
        if not target.is_relative_to(folder):
            raise StyleError(f"{path.name} refers to weights outside its folder ({location!r} leads to "
                             f"{target}); refused")
