"""A labelled contact sheet: the user's picture in every built-in style, to choose one by eye."""
from __future__ import annotations

import cv2
import numpy as np

from .catalog import BUILTIN_NAMES
from .engine import Engine

COLUMNS = 6
LABEL_PX = 22


def style_tiles(engine: Engine, picture: np.ndarray, tile: int = 256) -> list[tuple[str, np.ndarray]]:
    """``picture`` scaled to ``tile`` px wide, first as it is (``original``), then in each built-in style."""
    h, w = picture.shape[:2]
    th = max(8, round(h * tile / w / 4) * 4)
    small = cv2.resize(picture, (tile, th), interpolation=cv2.INTER_AREA)
    return [("original", small)] + [(name, engine.stylize_one(small, engine.network(name)))
                                    for name in BUILTIN_NAMES]


def contact_sheet(engine: Engine, picture: np.ndarray, tile: int = 256) -> np.ndarray:
    """uint8 RGB sheet: the original, then each built-in style as ``index name``, ``tile`` px wide."""
    from PIL import Image, ImageDraw

    tiles = [(name if n == 0 else f"{n - 1} {name}", image)
             for n, (name, image) in enumerate(style_tiles(engine, picture, tile))]
    th = tiles[0][1].shape[0]
    rows = -(-len(tiles) // COLUMNS)
    pad = 6
    sheet = Image.new("RGB", (COLUMNS * (tile + pad) + pad, rows * (th + LABEL_PX + pad) + pad), "white")
    draw = ImageDraw.Draw(sheet)
    for n, (label, image) in enumerate(tiles):
        r, c = divmod(n, COLUMNS)
        x, y = pad + c * (tile + pad), pad + r * (th + LABEL_PX + pad)
        sheet.paste(Image.fromarray(image), (x, y + LABEL_PX))
        draw.text((x + 2, y + 4), label, fill="black")
    return np.asarray(sheet)
