"""Per-style networks on ONNX Runtime sessions: each is a callable uint8 HWC RGB -> uint8 HWC RGB.

- BuiltinNetwork: the 26-style conditional-instance-norm network at any size (multiple of 4).
- ImageStyleNetwork: any picture as the style, at the frame's own size (the packaged transformer,
  rewritten to take any size in float: engines/networks/any_size_model.py).
- UserNetwork: a user's ONNX file with one image input and one image output.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from engines.errors import StyleError

from .tensors import from_tensor, to_tensor

STYLE_IMAGE_SIDE = 256  # the style predictor's fixed input


class BuiltinNetwork:
    def __init__(self, session, weights: np.ndarray):
        self.session = session
        self.weights = np.ascontiguousarray(weights, dtype=np.float32)

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        h, w = frame.shape[:2]
        y = self.session.run(None, {"image": to_tensor(frame, multiple=4), "style_weights": self.weights})[0]
        return from_tensor(y, h, w)


def read_style_image(path: Path) -> np.ndarray:
    """A style picture as uint8 HWC RGB, EXIF orientation applied."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            return np.asarray(ImageOps.exif_transpose(img).convert("RGB"))
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise StyleError(f"cannot read style image {path}: {exc}") from None


def style_vector(predict_session, picture: np.ndarray) -> np.ndarray:
    """The 100-number style vector of a picture (centre square, 256x256): computed once per style."""
    h, w = picture.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    square = cv2.resize(picture[top:top + side, left:left + side], (STYLE_IMAGE_SIDE,) * 2,
                        interpolation=cv2.INTER_AREA)
    name = predict_session.get_inputs()[0].name
    return predict_session.run(None, {name: to_tensor(square, layout="nhwc")})[0]


class ImageStyleNetwork:
    def __init__(self, transform_session, vector: np.ndarray):
        self.session = transform_session
        self.content_name, self.vector_name = (i.name for i in transform_session.get_inputs())
        self.vector = vector.astype(np.float32)

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        h, w = frame.shape[:2]
        y = self.session.run(None, {self.content_name: to_tensor(frame, layout="nhwc", multiple=4),
                                    self.vector_name: self.vector})[0]
        return from_tensor(y, h, w, layout="nhwc")


def _image_layout(shape) -> str:
    if len(shape) == 4 and shape[1] == 3:
        return "nchw"
    if len(shape) == 4 and shape[3] == 3:
        return "nhwc"
    raise StyleError(f"the model's image input must be [1,3,H,W] or [1,H,W,3], got {shape}")


class UserNetwork:
    """A user's ONNX network. Its pixel range (0..1 or 0..255) comes from the model's metadata key
    ``stylecast.pixel_range`` when present, else from one probe run on a grey frame."""

    def __init__(self, session, path: Path):
        inputs, outputs = session.get_inputs(), session.get_outputs()
        if len(inputs) != 1 or len(outputs) < 1:
            raise StyleError(f"{path.name}: a style model needs one image input and one image output, "
                             f"it has {len(inputs)} inputs and {len(outputs)} outputs")
        self.session, self.input_name = session, inputs[0].name
        shape = inputs[0].shape
        self.layout = _image_layout(shape)
        out_shape = outputs[0].shape
        self.out_layout = "nhwc" if len(out_shape) == 4 and out_shape[3] == 3 and out_shape[1] != 3 else self.layout
        hw = shape[2:4] if self.layout == "nchw" else shape[1:3]
        self.fixed = tuple(hw) if all(isinstance(d, int) and d > 0 for d in hw) else None
        meta = session.get_modelmeta().custom_metadata_map.get("stylecast.pixel_range")
        self.scale = 255.0 if meta == "255" else 1.0 if meta == "1" else self._probe_scale()

    def _raw(self, frame: np.ndarray, scale: float) -> np.ndarray:
        x = to_tensor(frame, layout=self.layout, scale=scale / 255.0, multiple=1 if self.fixed else 8)
        return self.session.run(None, {self.input_name: x})[0]

    def _probe_scale(self) -> float:
        h, w = self.fixed or (64, 64)
        y = self._raw(np.full((h, w, 3), 128, np.uint8), 1.0)
        return 255.0 if float(np.nanmax(y)) > 2.0 else 1.0

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        h, w = frame.shape[:2]
        if self.fixed:
            fh, fw = self.fixed
            small = cv2.resize(frame, (fw, fh), interpolation=cv2.INTER_AREA)
            out = from_tensor(self._raw(small, self.scale), fh, fw, layout=self.out_layout, scale=255.0 / self.scale)
            return cv2.resize(out, (w, h), interpolation=cv2.INTER_CUBIC)
        y = self._raw(frame, self.scale)
        return from_tensor(y, h, w, layout=self.out_layout, scale=255.0 / self.scale)
