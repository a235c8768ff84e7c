"""A clip uploaded from the page into FOLDER: streamed to a private part file, kept only if FFmpeg
decodes a video frame of it, then moved into place under its name (never over another file)."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from aiohttp import web

from engines.errors import OptionError
from stream.media.decoder import check_video
from stream.web.errors import json_error

from .names import checked_name, taken_as
from .project import VIDEOS


async def receive_upload(request: web.Request, folder: Path, parts: Path, limit_mb: int, run) -> web.Response:
    """``POST /api/upload?name=clip.mp4`` with the clip as the body; ``run(fn, *args)`` runs the
    check off the event loop. 201, or a 4xx saying why; nothing is left behind."""
    name = checked_name(request.query.get("name", ""), "clip")
    if Path(name).suffix.lower() not in VIDEOS:
        raise OptionError(f"upload a video clip ({', '.join(sorted(VIDEOS))}), not {name}")
    target = folder / name
    holder = taken_as(folder, name)
    if holder is not None:
        return json_error(409, f"{name} is already in the folder" + (f" (as {holder}: names that differ only by case "
                               "are one name on macOS and Windows)" if holder != name else ""))
    limit, size = limit_mb * 1024 * 1024, 0
    part = parts / f"{secrets.token_hex(8)}{Path(name).suffix}"
    try:
        with part.open("wb") as out:
            async for block in request.content.iter_chunked(1 << 20):
                size += len(block)
                if size > limit:
                    return json_error(413, f"the upload is over {limit_mb} MB (--max-upload-mb)")
                out.write(block)
        if size == 0:
            raise OptionError("the upload is empty")
        await run(check_video, part, name)
        if taken_as(folder, name) is not None:  # came while this one was on its way: never over it
            return json_error(409, f"{name} is already in the folder")
        try:
            os.link(part, target)  # fails, rather than replaces, where a file of that name appeared meanwhile
        except FileExistsError:
            return json_error(409, f"{name} is already in the folder")
        except OSError:  # a file system without hard links (FAT, some network shares)
            part.replace(target)
    finally:
        part.unlink(missing_ok=True)
    return web.json_response({"media": name, "bytes": size}, status=201)
