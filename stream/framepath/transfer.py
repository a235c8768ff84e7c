"""The device path's two bus crossings, each once a frame and in the smallest form: a decoded frame's
4:2:0 planes up (never RGB; NVDEC's stay on the GPU and are only copied there), and the encoder's
4:2:0 down (or RGB for a writer that takes only that). Everything the host needs of a frame besides
is made on the host from what it already has: the greys the motion and the flicker readout are
measured on come from the decoded luma before the upload and from the encoder's luma after the
download (stream/temporal/motion.py's ``luma_grey``), so nothing else comes down.

On a GPU the copies run from and into page-locked (pinned) host memory, without the host waiting:
a ring of a few buffers a size, each with the event of its last copy, so a buffer is written again
only once its copy is through (``PinnedRing``). On the CPU a tensor is the array itself.
"""
from __future__ import annotations

import threading

import numpy as np

from engines.optional import torch
from engines.pictures import fit
from stream.core.frame import Frame, Yuv420
from stream.media.colour import Colour, DeviceColour
from stream.media.decode import output_size
from stream.temporal.flicker import flicker_size
from stream.temporal.motion import flow_size, luma_grey, picture_grey

RING = 3  # pinned buffers a size: one being copied, one being written, one spare


class PinnedRing:
    """Page-locked host buffers by (shape, dtype), reused in turn; ``take`` hands out the next one
    once its last copy (its event) is through. Safe from several threads."""

    def __init__(self, count: int = RING):
        self.count = count
        self._rings: dict[tuple, list] = {}
        self._turn: dict[tuple, int] = {}
        self._lock = threading.Lock()

    def take(self, shape: tuple, dtype) -> tuple[object, list]:
        """(a pinned tensor, its slot): write into the tensor, start its copy, then ``done(slot, event)``."""
        key = (tuple(shape), dtype)
        with self._lock:
            ring = self._rings.setdefault(key, [])
            if len(ring) < self.count:
                ring.append([torch.empty(shape, dtype=dtype).pin_memory(), None])
                slot = ring[-1]
            else:
                turn = self._turn.get(key, 0)
                self._turn[key] = (turn + 1) % self.count
                slot = ring[turn]
        if slot[1] is not None:
            slot[1].synchronize()  # this buffer's last copy is through (a wait on its event alone)
        return slot[0], slot

    @staticmethod
    def done(slot: list, event) -> None:
        slot[1] = event


class Uploader:
    """Decoded frames to RGB on ``device``: ``colour`` is the source's, ``max_side`` the job's. The
    flow's grey of each frame is made on the host from its luma first (``frame.small_grey``), and the
    flicker readout's (``frame.flicker_grey``)."""

    def __init__(self, colour: Colour, device, max_side: int | None, streams):
        self.device, self.max_side, self.streams = torch.device(device), max_side, streams
        self.colour = DeviceColour(colour, self.device)
        self.full_range = colour.range == 2
        self.cuda = self.device.type == "cuda"
        self._ring = PinnedRing() if self.cuda else None

    def to_device(self, array: np.ndarray):
        """A host array on the device (through a pinned buffer, without waiting, on a GPU)."""
        if not self.cuda:
            return torch.from_numpy(np.ascontiguousarray(array))
        buffer, slot = self._ring.take(array.shape, torch.from_numpy(array[:0]).dtype)
        buffer.numpy()[...] = array
        with self.streams.on("upload"):
            out = buffer.to(self.device, non_blocking=True)
            event = torch.cuda.Event()
            event.record()
        self._ring.done(slot, event)
        return out

    def size(self, frame: Frame) -> tuple[int, int]:
        """(width, height) of the frame once upright and fitted."""
        if frame.gpu_frame is not None:
            w, h = frame.gpu_frame.width, frame.gpu_frame.height
        else:
            w, h = (frame.yuv.width, frame.yuv.height) if frame.yuv is not None else frame.image.shape[1::-1]
        if frame.rotation % 2:
            w, h = h, w
        return output_size(w, h, self.max_side) if self.max_side else (w, h)

    def greys(self, frame: Frame) -> None:
        """The frame's greys at the flow's and the flicker readout's sizes, on the host, from what the
        decoder gave (its luma, or its RGB)."""
        width, height = self.size(frame)
        if frame.gpu_frame is not None:  # NVDEC's: the luma is on the GPU; its two small greys come down
            luma = torch.from_dlpack(frame.gpu_frame.planes[0])  # a view of the decoder's surface, pitch and all
            frame.small_grey, frame.flicker_grey = (self.grey_down(luma, frame.rotation, size) for size in
                                                    (flow_size(width, height), flicker_size(width, height)))
        elif frame.yuv is not None:
            frame.small_grey = luma_grey(frame.yuv, self.full_range, frame.rotation, flow_size(width, height))
            frame.flicker_grey = luma_grey(frame.yuv, self.full_range, frame.rotation, flicker_size(width, height))
        else:
            upright = np.rot90(frame.image, frame.rotation) if frame.rotation else frame.image
            frame.small_grey = picture_grey(upright, flow_size(width, height))
            frame.flicker_grey = picture_grey(upright, flicker_size(width, height))

    def __call__(self, frame: Frame) -> None:
        """``frame.image`` becomes the picture on the device (from ``frame.yuv`` where the decoder gave
        the 4:2:0 planes), upright and fitted, and ``frame.original`` the same picture."""
        width, height = self.size(frame)
        if frame.small_grey is None:
            self.greys(frame)
        if frame.gpu_frame is not None:
            gpu = frame.gpu_frame
            image = self.colour.to_rgb(self.nv12(gpu), gpu.width, gpu.height, "nv12")
            frame.gpu_frame = None  # the decoder's surface goes back to it now
        elif frame.yuv is not None:
            yuv = self.to_device(frame.yuv.data)
            image = self.colour.to_rgb(yuv, frame.yuv.width, frame.yuv.height, frame.yuv.layout)
            frame.yuv = None
        else:
            image = self.to_device(frame.image)
        if frame.rotation:
            image = torch.rot90(image, frame.rotation, dims=(0, 1)).contiguous()
        frame.image = frame.original = fit(image, width, height)


    def nv12(self, gpu_frame):
        """NVDEC's picture as one NV12 tensor [H*3/2, W] of this device's own, copied out of the
        decoder's surface (its planes read through dlpack, each row's pitch left behind)."""
        y, uv = (torch.from_dlpack(plane).to(self.device) for plane in gpu_frame.planes[:2])
        return torch.cat([y.reshape(-1), uv.reshape(-1)]).reshape(-1, gpu_frame.width)

    def grey_down(self, luma, rotation: int, size: tuple[int, int]) -> np.ndarray:
        """A luma plane on the device as a small grey on the host (NVDEC's pictures alone need it)."""
        y = torch.rot90(luma, rotation, dims=(0, 1)) if rotation else luma
        small = fit(y[..., None].expand(*y.shape, 3), *size)[..., 0]
        out = small.float().sub_(16).mul_(255 / 219) if not self.full_range else small.float()
        return out.round_().clamp_(0, 255).to(torch.uint8).cpu().numpy()


class Downloader:
    """Device pictures back to the host for a writer: its 4:2:0 where it takes that (``colour``, the
    writer's), else RGB; one copy a frame (the only one)."""

    def __init__(self, colour: Colour | None, device, streams):
        self.colour = None if colour is None else DeviceColour(colour, device)
        self.cuda, self.streams = torch.device(device).type == "cuda", streams
        self._ring = PinnedRing(2) if self.cuda else None

    def to_host(self, tensor) -> np.ndarray:
        """The device tensor's values on the host (a copy the caller owns)."""
        if not self.cuda:
            return tensor.numpy()
        buffer, slot = self._ring.take(tuple(tensor.shape), tensor.dtype)
        with self.streams.on("download"):
            buffer.copy_(tensor, non_blocking=True)
            event = torch.cuda.Event()
            event.record()
        event.synchronize()  # this frame's copy alone: its writer needs it now
        self._ring.done(slot, None)
        return buffer.numpy().copy()

    def __call__(self, frame: Frame) -> None:
        h, w = frame.image.shape[:2]
        if self.colour is not None and h % 2 == 0 and w % 2 == 0:
            frame.yuv = Yuv420(self.to_host(self.colour.to_yuv420(frame.image)), w, h)
            frame.image = None
        else:
            frame.image = self.to_host(frame.image)
        frame.original = None
