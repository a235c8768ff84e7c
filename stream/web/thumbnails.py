"""The page's style thumbnails: the built-in test scene in every built-in style, as JPEG bytes."""
from __future__ import annotations

from engines import BUILTIN_NAMES, Engine
from engines.sheet import style_tiles
from stream.media.picture_file import encode_picture
from stream.media.testsrc import TestScene

THUMB_WIDTH = 160


def style_thumbnails(engine: Engine) -> dict[str, bytes]:
    """Style name -> a ``THUMB_WIDTH`` px wide JPEG of the test scene in that style."""
    picture = TestScene(640, 360).frame(1.0)
    tiles = style_tiles(engine, picture, THUMB_WIDTH)[1:]
    return {name: encode_picture(image, ".jpg") for name, (_, image) in zip(BUILTIN_NAMES, tiles)}
