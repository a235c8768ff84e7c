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

Two backends side by side: on the host, swscale (through PyAV) converts; on a device (the device
frame path) :class:`DeviceColour` does the same in torch, to within one level: the same matrix and
range, and the same filters: chroma upsampled with swscale's bicubic (Keys' cubic, a = -0.6),
sited left of its pixel pair and between its two rows (MPEG-2's siting, FFmpeg's default for
4:2:0); on the way out, each pixel pair's chroma averaged, then the rows shrunk 2:1 by the same
cubic stretched over twice the taps. Measured on real footage (bikes.mp4, Big Buck Bunny): RGB
within 1 level of swscale's everywhere, 0.005 on average; 4:2:0 within 1 level, 0.003 on average
(tests/framepath/test_colour.py; bench/colour.py). The torch code runs on any device: the
tests run it on the CPU against swscale.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import av
import numpy as np
from av.video.reformatter import ColorRange, Interpolation

from engines.optional import F, torch
from engines.pictures import weighted
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


# -- on a device: the same conversions in torch ---------------------------------------------
CUBIC_A = -0.6   # swscale's bicubic: its default parameter C = 0.6 is Keys' a = -0.6
_KR_KB = {1: (0.2126, 0.0722), 9: (0.2627, 0.0593), 10: (0.2627, 0.0593)}  # BT.709, BT.2020; else BT.601
_601 = (0.299, 0.114)


def keys(x: float, a: float = CUBIC_A) -> float:
    """Keys' cubic convolution kernel at ``x`` (support 2)."""
    x = abs(x)
    if x < 1:
        return (a + 2) * x ** 3 - (a + 3) * x ** 2 + 1
    if x < 2:
        return a * x ** 3 - 5 * a * x ** 2 + 8 * a * x - 4 * a
    return 0.0


def _taps(offsets: list[float], pad: int, size: int) -> list[list[float]]:
    """[len(offsets)][size] weights of a cubic at each fractional offset, over a window that starts
    ``pad`` samples before the sample being interpolated from."""
    rows = []
    for off in offsets:
        row = [0.0] * size
        base = math.floor(off)
        for t in (-1, 0, 1, 2):
            row[pad + base + t] = keys(t - (off - base))
        rows.append(row)
    return rows


_UP_ROWS = _taps([-0.25, 0.25], 2, 5)   # output rows 2k and 2k+1, from source rows k-2 .. k+2
_UP_COLS = _taps([0.0, 0.5], 1, 4)      # output columns 2k and 2k+1, from source columns k-1 .. k+2
# the way out: output row k sits at source row 2k + 0.5; rows 2k-4 .. 2k+5, the cubic stretched 2x
_DOWN = [keys((t - 0.5) / 2) for t in range(-4, 6)]
_DOWN_ROWS = [w / sum(_DOWN) for w in _DOWN]


class DeviceColour:
    """One picture description (a :class:`Colour`: matrix and range) as torch arithmetic on ``device``."""

    def __init__(self, colour: Colour, device):
        kr, kb = _KR_KB.get(colour.matrix, _601)
        self.kr, self.kb, self.kg = kr, kb, 1 - kr - kb
        full = colour.range == FULL
        self.y_scale, self.c_scale, self.y_zero = (1.0, 1.0, 0.0) if full else (255 / 219, 255 / 224, 16.0)
        self.c_out_zero = 127.5 if full else 128.0  # swscale writes full-range chroma half a level lower (measured)
        self.device = torch.device(device)

    # -- in: 4:2:0 -> RGB ---------------------------------------------------------------------
    def to_rgb(self, yuv, width: int, height: int, layout: str = "yuv420p"):
        """uint8 [H*3/2, W] (I420, or NV12 as NVDEC gives it) on the device -> uint8 RGB [H, W, 3]."""
        y, chroma = split_420(yuv, width, height, layout)
        chroma = self._upsample(chroma.float())[:, :height, :width]
        luma = (y.float() - self.y_zero) * self.y_scale
        cb, cr = (chroma - 128) * self.c_scale
        r = luma + 2 * (1 - self.kr) * cr
        b = luma + 2 * (1 - self.kb) * cb
        g = luma - (2 * self.kb * (1 - self.kb) * cb + 2 * self.kr * (1 - self.kr) * cr) / self.kg
        return torch.stack([r, g, b], -1).round_().clamp_(0, 255).to(torch.uint8)

    def _upsample(self, c):
        """[2, h, w] chroma (Cb, Cr) -> [2, 2h, 2w]: each axis by its two output phases, interleaved."""
        n, h, w = c.shape
        x = F.pad(c[None], (0, 0, 2, 2), mode="replicate")[0]
        rows = torch.stack([weighted(x, taps, dim=-2) for taps in _UP_ROWS], 2)   # [2, h, 2, w]
        x = F.pad(rows.reshape(n, 2 * h, w)[None], (1, 2, 0, 0), mode="replicate")[0]
        cols = torch.stack([weighted(x, taps, dim=-1) for taps in _UP_COLS], 3)   # [2, 2h, w, 2]
        return cols.reshape(n, 2 * h, 2 * w)

    # -- out: RGB -> 4:2:0 --------------------------------------------------------------------
    def to_yuv420(self, rgb):
        """uint8 RGB [H, W, 3] (H and W even) -> uint8 I420 [H*3/2, W], ready for the encoder."""
        h, w = rgb.shape[:2]
        x = rgb.float()
        r, g, b = x[..., 0], x[..., 1], x[..., 2]
        luma = self.kr * r + self.kg * g + self.kb * b
        chroma = torch.stack([(b - luma) / (2 * (1 - self.kb)), (r - luma) / (2 * (1 - self.kr))])
        chroma = (chroma[..., 0::2] + chroma[..., 1::2]) / 2                     # each pixel pair, as swscale's RGB input
        x = F.pad(chroma[None], (0, 0, 4, 4), mode="replicate")[0]
        chroma = weighted(x, _DOWN_ROWS, dim=-2, stride=2)[:, :h // 2]
        y = (luma / self.y_scale + self.y_zero).round_().clamp_(0, 255)
        c = (chroma / self.c_scale + self.c_out_zero).round_().clamp_(0, 255)
        return torch.cat([y.reshape(-1), c.reshape(-1)]).to(torch.uint8).reshape(h * 3 // 2, w)


def split_420(yuv, width: int, height: int, layout: str = "yuv420p"):
    """The luma [H, W] and chroma [2, ceil(H/2), ceil(W/2)] of a packed 4:2:0 picture."""
    cw, ch = (width + 1) // 2, (height + 1) // 2
    flat = yuv.reshape(-1)
    y = flat[:width * height].reshape(height, width)
    rest = flat[width * height:width * height + 2 * cw * ch]
    if layout == "nv12":  # Cb and Cr interleaved in one plane
        return y, rest.reshape(ch, cw, 2).permute(2, 0, 1)
    return y, rest.reshape(2, ch, cw)
