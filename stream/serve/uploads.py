"""Pictures viewers upload to use as their style, and the styles a viewer may pick.

Uploads live in a private temporary folder under a name made from their content's hash; the
oldest are removed past ``MAX_UPLOADS``. A viewer picks built-in styles, blends and this server's
uploads only, never a path on the server (checked on the text, before anything looks at the disk).
"""
from __future__ import annotations

import hashlib
import io
import re
from collections import OrderedDict
from pathlib import Path
from tempfile import TemporaryDirectory

from engines import Style, resolve
from engines.errors import InputError, StyleError

MAX_UPLOADS = 32
MAX_IMAGE_PIXELS = 40_000_000
PREFIX = "upload:"
_PART = r"\s*[A-Za-z0-9-]+\s*(:\s*[0-9.eE+-]*\s*)?"
BLEND = re.compile(rf"{_PART}(,{_PART})*")  # names or indices with optional weights: never a path


class UploadStore:
    def __init__(self):
        self._dir = TemporaryDirectory(prefix="stylecast-uploads-")
        self._files: OrderedDict[str, Path] = OrderedDict()

    def add(self, body: bytes) -> str:
        """Keep a picture (any format PIL reads); returns the style spec that picks it, ``upload:ID``."""
        from PIL import Image

        try:
            with Image.open(io.BytesIO(body)) as img:
                if img.width * img.height > MAX_IMAGE_PIXELS:
                    raise ValueError("picture too large")
                picture = img.convert("RGB")
        except Exception as exc:  # PIL raises many kinds on a bad file
            raise InputError(f"not a picture stylecast can read ({exc})") from None
        upload_id = hashlib.sha256(body).hexdigest()[:16]
        if upload_id not in self._files:
            path = Path(self._dir.name) / f"{upload_id}.png"
            picture.save(path)
            self._files[upload_id] = path
            while len(self._files) > MAX_UPLOADS:
                _, old = self._files.popitem(last=False)
                old.unlink(missing_ok=True)
        self._files.move_to_end(upload_id)
        return PREFIX + upload_id

    def viewer_style(self, spec: str) -> Style:
        """A style a viewer may pick: a built-in style, a blend or one of this server's uploads."""
        if spec.startswith(PREFIX):
            path = self._files.get(spec[len(PREFIX):])
            if path is None:
                raise StyleError("that uploaded picture is no longer on the server; upload it again")
            return resolve(path)
        if not BLEND.fullmatch(spec.strip()):
            raise StyleError("pick a built-in style or blend, or upload a picture")
        return resolve(spec)

    def picture(self, spec: str) -> Path:
        """The file of an upload (``upload:ID``): a painted frame and its painting (``paint``)."""
        path = self._files.get(spec[len(PREFIX):]) if isinstance(spec, str) and spec.startswith(PREFIX) else None
        if path is None:
            raise StyleError("upload the frame and its painting first (they are no longer on the server)")
        return path

    def close(self) -> None:
        self._dir.cleanup()
