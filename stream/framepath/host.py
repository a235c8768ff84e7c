"""The frame path on the host: numpy pictures, OpenCV and the engine's own frame calls, a frame per
core. Frames come from the decoder as RGB and go to the writer as RGB, so ``upload`` and
``download`` only make what the later stages read (the flow's grey, the flicker readout).

``light`` (a live job, which must keep its rate on two cores): below the frame's size the
stabilizer works at the network's size, on the network's own picture, and the picture is grown
back to the frame's size and mixed after it, so a frame's whole cost follows the network's size.
A render stabilizes at the frame's size.
"""
from __future__ import annotations

import cv2
import numpy as np

from engines.engine import Engine
from engines.mix import Mix
from engines.style_scale import grow, shrink, stylize_scaled
from stream.core.frame import Frame
from stream.temporal.flicker import FlickerMeter
from stream.temporal.motion import Motion, flow_grey
from stream.temporal.stabilize import Stabilizer


class HostPath:
    where = "host"

    def __init__(self, engine: Engine, light: bool = False):
        self.engine, self.light = engine, light
        self.parallel_frames = engine.parallel_frames

    def greys(self, frame: Frame) -> None:
        if frame.small_grey is None:
            frame.small_grey = flow_grey(frame.image)

    def upload(self, frame: Frame) -> None:
        frame.original = frame.image
        self.greys(frame)

    def picture(self, image: np.ndarray) -> np.ndarray:
        return image

    def stylize(self, images: list, network, mix: Mix, scale: float = 1.0) -> list:
        """Each picture through the network at ``scale`` of its size and mixed; in ``light`` mode
        below the frame's size, the network's own picture at its size, plain (``stabilize`` grows it)."""
        if self.light and scale < 1.0:
            return [self.engine.stylize_one(shrink(image, scale), network, Mix()) for image in images]
        return [stylize_scaled(self.engine, image, network, mix, scale) for image in images]

    def mix(self, mix: Mix, stylized: np.ndarray, original: np.ndarray) -> np.ndarray:
        return mix.apply(stylized, original)

    def stabilizer(self, stability: float, thorough: bool = True) -> Stabilizer:
        return Stabilizer(stability, thorough)

    def stabilize(self, stabilizer: Stabilizer, original: np.ndarray, stylized: np.ndarray, mix: Mix,
                  grey: np.ndarray | None = None, motion: Motion | None = None) -> np.ndarray:
        """In frame order. A ``stylized`` smaller than ``original`` (``light``) is stabilized at its own
        size, then grown to the frame's size and mixed. The motion is the frame's, where the caller
        measured it (a live job: beside the network, at the frame's flow size, which the stabilizer
        scales to its picture); measuring it again here, at the smaller size, would put two optical
        flows a frame into this one-at-a-time stage."""
        if stylized.shape == original.shape:
            return stabilizer(original, stylized, grey, motion)
        small = cv2.resize(original, stylized.shape[1::-1], interpolation=cv2.INTER_AREA)  # as shrink() made it
        return grow(stabilizer(small, stylized, grey, motion), original, small, mix)

    def measure(self, flicker: FlickerMeter, original: np.ndarray, image: np.ndarray) -> None:
        flicker.update(original, image)

    def download(self, frame: Frame, flicker: FlickerMeter | None = None) -> None:
        if flicker is not None and frame.original is not None:
            flicker.update(frame.original, frame.image)
