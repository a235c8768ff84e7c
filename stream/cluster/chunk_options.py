"""One chunk of a chunked render as a render of its own: the options a chunk is rendered with,
on a Ray worker (stream/cluster/chunk_worker.py) or here, one after another (``--cluster here``)."""
from __future__ import annotations

from dataclasses import fields, replace
from pathlib import Path

from stream.render.job import RenderOptions

from .chunk_plan import Chunk


def chunk_options(opts: RenderOptions, chunk: Chunk, path: Path) -> RenderOptions:
    """One machine's render of ``chunk`` into ``path``: its picture alone (the chunks are joined by
    stream copy), warmed up on the frames before it unless it starts at a cut."""
    opts = RenderOptions(**{f.name: getattr(opts, f.name) for f in fields(RenderOptions)})
    return replace(opts, output=path, overwrite=True, video_only=True, warm_up=not chunk.at_cut,
                   start=repr(chunk.start), end=None if chunk.end is None else repr(chunk.end))
