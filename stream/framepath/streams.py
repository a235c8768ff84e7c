"""Each stage of the device path on a CUDA stream of its own, handing frames on with events: the
upload's copies, the stabilizer's work and the download's run beside the network's (which has a
stream of its own, engines/runtimes/gpu_network.py) instead of queueing behind it on the one
default stream every thread would otherwise share. A stage waits for the event the stage before
it recorded on its frame (the GPU waits, never the host), runs on its own stream, and records its
own; the tensors it takes from another stream are marked as used there (``record_stream``), so
the caching allocator does not give their memory out again while this stream may still read it.

On the CPU (the device path's torch code run there, as the tests run it) all of this is nothing.
"""
from __future__ import annotations

from contextlib import contextmanager, nullcontext

from engines.optional import torch


class StageStreams:
    """One CUDA stream per named stage of a job on ``device``."""

    def __init__(self, device):
        self.device = torch.device(device)
        self.cuda = self.device.type == "cuda"
        self._streams: dict[str, object] = {}

    def stream(self, name: str):
        if name not in self._streams:
            self._streams[name] = torch.cuda.Stream(device=self.device)
        return self._streams[name]

    @contextmanager
    def stage(self, name: str, frame):
        """Run a stage's work on ``frame`` on its stream: after what came before it, and marked ready
        for what comes after (``frame.ready``, an event)."""
        if not self.cuda:
            yield
            return
        stream = self.stream(name)
        ready = getattr(frame, "ready", None)
        if ready is not None:
            stream.wait_event(ready)
        for tensor in (frame.image, frame.original):
            if isinstance(tensor, torch.Tensor) and tensor.is_cuda:
                tensor.record_stream(stream)
        with torch.cuda.stream(stream):
            yield
            event = torch.cuda.Event()
            event.record(stream)
        frame.ready = event

    def on(self, name: str):
        """The stream of ``name`` as the current stream (nothing on the CPU)."""
        return torch.cuda.stream(self.stream(name)) if self.cuda else nullcontext()
