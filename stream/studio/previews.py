"""A shot's preview: its first seconds rendered on the server in its look, stabilized, small, with
the first frame before and after and the flicker readout. It is rendered as the cut will be (from
a looks file holding that shot's look alone), so keyframes and painted keyframes preview too."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from stream.media.decoder import open_decoder
from stream.media.picture_file import encode_picture
from stream.render.job import RenderOptions, render

from .project import Project, frames_at

PREVIEW_SIDE = 320      # pixels: previews are rendered small, to come back in seconds
PREVIEW_SECONDS = 3.0
MAX_SECONDS = 10.0
PREVIEW_STEPS = 500     # a painted shot's preview trains this long (about 45 s); the render trains in full


def render_preview(folder: Path, project: Project, shot, look: dict, seconds: float) -> dict:
    """Render the preview into ``folder`` (named by what it shows, so asking again is free) and
    say where its files are, as the page fetches them."""
    key = hashlib.sha256(json.dumps([project.media, shot.first_frame, shot.last_frame, look, seconds],
                                    sort_keys=True).encode()).hexdigest()[:16]
    out = folder / f"{key}.mp4"
    end = min(shot.end, shot.start + seconds)
    alone = Project(project.folder, {**project.row, "looks": {shot.shot: look}})  # only this shot's look trains
    looks, shots = alone.write_render_files(folder, f"preview-{key}")
    result = render(RenderOptions(input=project.path, output=out, start=repr(shot.start), end=repr(end), overwrite=True,
                                  looks=looks, shots=shots, max_side=PREVIEW_SIDE, keyframe_steps=PREVIEW_STEPS))
    with open_decoder(out) as written:
        after = written.frames_at({0})[0]
    before = frames_at(project.path, {shot.first_frame}, max(after.shape[:2]))[shot.first_frame]
    (folder / f"{key}-before.jpg").write_bytes(encode_picture(before, ".jpg"))
    (folder / f"{key}-after.jpg").write_bytes(encode_picture(after, ".jpg"))
    style = "painted keyframes" if "keyframe" in look else look.get("style", result.style)
    return {"video": f"/api/previews/{key}.mp4", "before": f"/api/previews/{key}-before.jpg",
            "after": f"/api/previews/{key}-after.jpg", "frames": result.frames, "style": style,
            "flicker": result.flicker, "source_flicker": result.source_flicker}
