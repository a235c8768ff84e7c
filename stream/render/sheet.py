"""``stylecast sheet``: the user's picture in every built-in style, labelled, written atomically."""
from __future__ import annotations

from pathlib import Path

from engines import open_engine
from engines.errors import InputError, OptionError
from engines.networks.onnx_networks import read_style_image
from engines.sheet import contact_sheet
from stream.media.output_file import AtomicOutput
from stream.media.picture_file import SUFFIXES, encode_picture

TILE_PX = (64, 1024)  # the narrowest and widest tile


def write_sheet(image: Path, output: Path, tile: int = 256, overwrite: bool = False) -> tuple[int, int]:
    """Render ``image`` in every built-in style into ``output`` (.png or .jpg); returns its (width, height)."""
    if not TILE_PX[0] <= tile <= TILE_PX[1]:
        raise OptionError(f"--tile must be between {TILE_PX[0]} and {TILE_PX[1]} pixels, got {tile}")
    if output.suffix.lower() not in SUFFIXES:
        raise OptionError(f"the sheet is written as .png or .jpg, got {output.name!r}")
    if not image.is_file():
        raise InputError(f"image not found: {image}")
    sheet = contact_sheet(open_engine("auto", "0"), read_style_image(image), tile)
    data = encode_picture(sheet, output.suffix)
    with AtomicOutput(output, overwrite) as partial:
        partial.write_bytes(data)
    return sheet.shape[1], sheet.shape[0]
