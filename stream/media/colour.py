"""A picture's colour description, and the conversions into and out of the RGB the networks see.

Video stores Y'CbCr: a matrix (BT.601 or BT.709, ...) turns it into R'G'B', a range says whether
black and white sit at codes 16 and 235 (limited, "MPEG") or 0 and 255 (full, "JPEG"), and the
primaries and transfer say what those R'G'B' values mean. stylecast reads all four from the source,
converts into RGB with the source's own matrix and range, converts back into the output's pixel
format with the same matrix (and the same range, unless the codec only holds limited range), and
writes the same four tags on the output, so that a render at strength 0 is the source picture again.

A source that says nothing about its matrix is converted as FFmpeg converts it (BT.601) both ways
and left untagged, as it came. Pictures that are RGB already (PNG, TIFF, ...) are written to video
as BT.709, limited range, and tagged so.
"""
from __future__ import annotations

from dataclasses import dataclass

import av
import numpy as np
from av.video.reformatter import ColorRange, Interpolation

from stream.core.frame import Frame

UNSPECIFIED = 2       # AVCOL_SPC / PRI / TRC_UNSPECIFIED
BT709 = 1             # the same code for the matrix, primaries and transfer
RGB_MATRIX = 0        # AVCOL_SPC_RGB
LIMITED, FULL = int(ColorRange.MPEG), int(ColorRange.JPEG)
# AVColorSpace (what files say) -> SWS_CS_* (what the converter takes); anything else converts as BT.601
_CONVERTER_MATRIX = {1: 1, 4: 4, 5: 5, 6: 5, 7: 7, 9: 9, 10: 9}
# rounding to the nearest code and full chroma resolution: without them swscale truncates, and the
# round trip at strength 0 darkens by about half a code value
_PRECISE = Interpolation.BICUBIC | Interpolation.ACCURATE_RND | Interpolation.FULL_CHR_H_INT


@dataclass(frozen=True)
class Colour:
    """The source's matrix, range, primaries and transfer (FFmpeg's AVCOL_* codes)."""

    matrix: int = UNSPECIFIED
    range: int = LIMITED
    primaries: int = UNSPECIFIED
    trc: int = UNSPECIFIED

    @classmethod
    def of_stream(cls, codec_context) -> Colour:
        """What a video stream says about its pictures. RGB pictures become BT.709 limited video."""
        pix_fmt = codec_context.pix_fmt or "yuv420p"
        fmt = av.VideoFormat(pix_fmt)
        if fmt.is_rgb or fmt.has_palette or fmt.is_bayer or len(fmt.components) <= 2:  # RGB or grey
            return cls(BT709, LIMITED, BT709, BT709)
        full = codec_context.color_range == FULL or pix_fmt.startswith("yuvj")
        return cls(int(codec_context.colorspace), FULL if full else LIMITED,
                   int(codec_context.color_primaries), int(codec_context.color_trc))

    def for_codec(self, limited_only: bool, matrix: int | None = None) -> Colour:
        """The colour an output holds: the same, brought to limited range where the codec needs it, and
        converted to the one matrix a codec declares (DNxHR: BT.709) where it has one."""
        return Colour(matrix or self.matrix, LIMITED if limited_only else self.range, self.primaries, self.trc)

    def from_rgb(self, image: np.ndarray, pix_fmt: str, alpha: np.ndarray | None = None) -> av.VideoFrame:
        """An RGB (uint8 H x W x 3) picture, and its alpha if any, as a frame of ``pix_fmt`` in this colour."""
        if alpha is None:
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
        elif alpha.dtype == np.uint16:
            rgba = np.dstack([image.astype(np.uint16) * 257, alpha])
            frame = av.VideoFrame.from_ndarray(rgba, format="rgba64le")
        else:
            frame = av.VideoFrame.from_ndarray(np.dstack([image, alpha]), format="rgba")
        out = frame.reformat(format=pix_fmt, dst_colorspace=_CONVERTER_MATRIX.get(self.matrix, 5),
                             dst_color_range=self.range, interpolation=_PRECISE)
        self.tag(out)
        return out

    def video_frame(self, frame: Frame, pix_fmt: str) -> av.VideoFrame:
        """A Frame's picture as an encoder's frame of ``pix_fmt`` in this colour: from its RGB (and
        alpha), or its 4:2:0 as it is (the device path converted it there, in this colour)."""
        if frame.yuv is not None and pix_fmt == frame.yuv.layout:
            out = av.VideoFrame.from_ndarray(frame.yuv.data, format=frame.yuv.layout)
            self.tag(out)
            return out
        return self.from_rgb(frame.image, pix_fmt, frame.alpha)

    def tag(self, target) -> None:
        """Write the four tags on a frame or a codec context."""
        target.colorspace, target.color_range = self.matrix, self.range
        target.color_primaries, target.color_trc = self.primaries, self.trc


def has_alpha(frame: av.VideoFrame) -> bool:
    return any(c.is_alpha for c in frame.format.components)


def to_rgb(frame: av.VideoFrame, width: int, height: int, keep_alpha: bool = False
           ) -> tuple[np.ndarray, np.ndarray | None]:
    """(uint8 RGB H x W x 3, alpha or None): converted with the frame's own matrix and range.

    Pictures of more than 8 bits (16-bit PNG, 10-bit ProRes) go through 16 bits and are rounded to
    the nearest code here: swscale's own step to 8 bits truncates (half a code darker on average).
    The alpha plane, when asked for and present, comes out as it is stored: uint8 for 8-bit
    pictures, uint16 (0..65535) for deeper ones."""
    interpolation = "AREA" if (width, height) != (frame.width, frame.height) else _PRECISE
    alpha = keep_alpha and has_alpha(frame)
    deep = max(c.bits for c in frame.format.components) > 8
    if not deep:
        rgba = frame.to_ndarray(width=width, height=height, format="rgba" if alpha else "rgb24",
                                interpolation=interpolation)
        return (np.ascontiguousarray(rgba[..., :3]), np.ascontiguousarray(rgba[..., 3])) if alpha else (rgba, None)
    wide = frame.to_ndarray(width=width, height=height, format="rgba64le" if alpha else "rgb48le",
                            interpolation=interpolation)
    rgb = ((wide[..., :3].astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
    return rgb, (np.ascontiguousarray(wide[..., 3]) if alpha else None)
