"""The video codecs a render writes, as an editor knows them, and which containers hold each.

``h264`` is for watching and sharing; the others are intra-frame mezzanine codecs an editing or
grading program imports as they are: ProRes 422 HQ and DNxHR HQX in 10-bit 4:2:2, ProRes 4444 in
10-bit 4:4:4 with the source's alpha, FFV1 (lossless, 10-bit 4:4:4) for archives.

ProRes is written by FFmpeg's ``prores_aw``: at 1280x720 on two cores it encodes about 6x as many
frames a second as ``prores_ks`` (20.8 against 3.4 on a noisy picture), at a PSNR within 0.3 dB of
it on the test scenes (docs/benchmarks/editing.md, "Editor-ready media"), so the ProRes output costs little
more than H.264. The vendor tag ``apl0`` is the one editing programs expect of a ProRes file.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from engines.errors import OptionError


@dataclass(frozen=True)
class VideoCodec:
    name: str                     # as the user writes it: --codec NAME
    encoder: str                  # FFmpeg's encoder
    pix_fmt: str
    containers: tuple[str, ...]   # muxers that hold it (FFmpeg's names)
    alpha_pix_fmt: str | None = None   # used when the source has alpha
    options: dict = field(default_factory=dict)
    limited_only: bool = False    # the format holds limited range only
    matrix: int | None = None     # the one colour matrix the format declares (DNxHR's decoder reads BT.709)
    label: str = ""

    def pixel_format(self, alpha: bool) -> str:
        return self.alpha_pix_fmt if alpha and self.alpha_pix_fmt else self.pix_fmt


CODECS = {c.name: c for c in (
    VideoCodec("h264", "libx264", "yuv420p", ("mp4", "matroska", "mov"), label="H.264 8-bit 4:2:0"),
    VideoCodec("prores", "prores_aw", "yuv422p10le", ("mov", "matroska"),
               options={"profile": "3", "vendor": "apl0"}, limited_only=True, label="ProRes 422 HQ 10-bit"),
    VideoCodec("prores4444", "prores_aw", "yuv444p10le", ("mov", "matroska"), alpha_pix_fmt="yuva444p10le",
               options={"profile": "4", "vendor": "apl0"}, limited_only=True, label="ProRes 4444 10-bit"),
    VideoCodec("dnxhr", "dnxhd", "yuv422p10le", ("mov", "mxf", "matroska"),
               options={"profile": "dnxhr_hqx"}, limited_only=True, matrix=1, label="DNxHR HQX 10-bit 4:2:2"),
    VideoCodec("ffv1", "ffv1", "yuv444p10le", ("matroska",), alpha_pix_fmt="yuva444p10le",
               options={"level": "3", "g": "1", "slices": "4", "slicecrc": "1"}, label="FFV1 lossless 10-bit"),
)}
_EXTENSIONS = {"mp4": ".mp4", "matroska": ".mkv", "mov": ".mov", "mxf": ".mxf"}


def choose_codec(name: str | None, fmt: str) -> VideoCodec:
    """The codec for ``--codec NAME`` (H.264 when not given) in the muxer ``fmt``, or one clear error."""
    codec = CODECS.get(name or "h264")
    if codec is None:
        raise OptionError(f"unknown codec {name!r}; use {', '.join(CODECS)}")
    if fmt not in codec.containers:
        fits = " or ".join(_EXTENSIONS[c] for c in codec.containers)
        raise OptionError(f"--codec {codec.name} cannot be stored in {_EXTENSIONS.get(fmt, fmt)}; "
                          f"write {fits}" + ("" if name else " (or give --codec dnxhr for .mxf)"))
    return codec
