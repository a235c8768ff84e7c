"""The built-in test scene: a textured background that pans, a textured disc that moves over it,
and a tone. It is the default source of ``stylecast live`` and the demo clip of ``stylecast render``,
and the tests write their media from it."""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from .colour import BT709, FULL, LIMITED, Colour


class TestScene:
    """Deterministic frames of a moving, textured scene at ``width`` x ``height`` (uint8 RGB)."""

    __test__ = False  # a scene for tests, not a test class

    def __init__(self, width: int = 640, height: int = 360, seed: int = 0, pan_px_per_s: float = 40.0):
        rng = np.random.default_rng(seed)
        self.width, self.height, self.pan = width, height, pan_px_per_s
        bw, bh = width * 2 + 64, height + 64
        # a colourful texture at several scales: big soft shapes plus fine grain
        layers = [cv2.resize(rng.random((bh // s + 1, bw // s + 1, 3), np.float32), (bw, bh),
                             interpolation=cv2.INTER_CUBIC) * w for s, w in ((64, 0.5), (16, 0.3), (4, 0.2))]
        base = np.clip(sum(layers), 0, 1)
        yy, xx = np.mgrid[0:bh, 0:bw]
        stripes = 0.5 + 0.5 * np.sin(xx / 9.0 + yy / 17.0)
        self.background = (np.clip(base * 0.8 + stripes[..., None] * 0.25, 0, 1) * 255).astype(np.uint8)
        r = max(8, min(width, height) // 6)
        self.radius = r
        dy, dx = np.mgrid[-r:r, -r:r]
        self.disc_mask = (dx * dx + dy * dy) < r * r
        checker = ((dx // 6 + dy // 6) % 2).astype(np.uint8)
        self.disc = np.stack([200 + 55 * checker, 40 + 160 * checker, 60 * np.ones_like(checker)], -1).astype(np.uint8)

    def frame(self, t: float) -> np.ndarray:
        """The scene at ``t`` seconds."""
        ox = int(self.pan * t) % (self.background.shape[1] - self.width)
        img = self.background[16:16 + self.height, ox:ox + self.width].copy()
        r = self.radius
        cx = int((0.5 + 0.4 * np.sin(t * 1.3)) * (self.width - 2 * r)) + r
        cy = int((0.5 + 0.4 * np.cos(t * 0.9)) * (self.height - 2 * r)) + r
        patch = img[cy - r:cy + r, cx - r:cx + r]
        patch[self.disc_mask] = self.disc[self.disc_mask]
        return img


def tone(start_sample: int, count: int, rate: int = 48000, hz: float = 440.0) -> np.ndarray:
    """A sine tone as float32 [1, count] (planar mono), continuous across calls."""
    n = np.arange(start_sample, start_sample + count)
    return (0.3 * np.sin(2 * np.pi * hz * n / rate)).astype(np.float32)[None]


def write_test_clip(path: Path, seconds: float = 5.0, width: int = 640, height: int = 360, fps: int = 25,
                    audio: bool = True, frame_times: list[float] | None = None, rotation: float | None = None,
                    subtitles: bool = False, fmt: str | None = None, seed: int = 0, bt709: bool = False,
                    full_range: bool = False, timecode: str | None = None, pan_px_per_s: float = 40.0,
                    cuts: tuple[float, ...] = (), scene=None) -> list[float]:
    """Write the test scene as H.264 (+ AAC tone, + optional subtitle) and return the frame times (s).
    WebM gets VP8 and Opus, the codecs that container takes.

    ``frame_times`` gives a variable-frame-rate clip; ``rotation`` sets the display matrix (degrees).
    Timestamps are in 1/1000 s for VFR clips so they survive every container exactly. ``bt709`` and
    ``full_range`` convert and tag the pictures so (untagged BT.601 limited otherwise); ``timecode``
    is the start timecode (a tmcd track in MOV); ``pan_px_per_s`` 0 holds the background still;
    at each of ``cuts`` (seconds) a different scene begins (a hard cut). ``scene``: another scene to
    write (anything with ``frame(t)``, at ``width`` x ``height``) before the first cut.
    """
    scenes = [TestScene(width, height, seed=seed + 101 * k, pan_px_per_s=pan_px_per_s) for k in range(len(cuts) + 1)]
    if scene is not None:
        scenes[0] = scene
    times = frame_times if frame_times is not None else [i / fps for i in range(int(round(seconds * fps)))]
    time_base = Fraction(1, 1000) if frame_times is not None else Fraction(1, fps)
    webm = (fmt or Path(path).suffix.lstrip(".")) == "webm"
    with av.open(str(path), "w", format=fmt) as out:
        video = out.add_stream("libvpx" if webm else "libx264", rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.time_base = video.codec_context.time_base = time_base
        video.options = {"deadline": "realtime", "cpu-used": "8"} if webm else \
            {"crf": "23", "preset": "ultrafast", "bf": "2"}
        if rotation:
            video.set_display_rotation(rotation)
        colour = None
        if bt709 or full_range:
            colour = Colour(BT709 if bt709 else 6, FULL if full_range else LIMITED,
                            BT709 if bt709 else 6, BT709 if bt709 else 6)
            colour.tag(video.codec_context)
        if timecode:
            video.metadata["timecode"] = timecode
        sound = out.add_stream("libopus" if webm else "aac", rate=48000) if audio else None
        if sound is not None:
            sound.layout = "mono"
        text_codec = "mov_text" if (fmt or Path(path).suffix.lstrip(".")) in ("mp4", "mov") else "subrip"
        text = out.add_mux_stream(text_codec, time_base=Fraction(1, 1000)) if subtitles else None
        for t in times:
            picture = scenes[sum(t >= cut - 1e-9 for cut in cuts)].frame(t)
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24") if colour is None \
                else colour.from_rgb(picture, "yuv420p")
            frame.pts, frame.time_base = int(round(t / time_base)), time_base
            out.mux(video.encode(frame))
        out.mux(video.encode())
        if sound is not None:
            total, step = int((times[-1] + 1 / fps) * 48000), 1024
            for start in range(0, total, step):
                chunk = av.AudioFrame.from_ndarray(tone(start, min(step, total - start)), format="fltp", layout="mono")
                chunk.sample_rate, chunk.pts = 48000, start
                out.mux(sound.encode(chunk))
            out.mux(sound.encode())
        if text is not None:
            _mux_subtitle(out, text, text_codec, "stylecast test", 0.5, 1.5)
    return times


def _mux_subtitle(out, stream, codec: str, line: str, start: float, end: float) -> None:
    """One subtitle event as a ready packet (mov_text: 16-bit length + text; subrip: the text)."""
    payload = line.encode() if codec == "subrip" else len(line).to_bytes(2, "big") + line.encode()
    packet = av.Packet(payload)
    packet.stream = stream
    packet.time_base = Fraction(1, 1000)
    packet.pts = packet.dts = int(start * 1000)
    packet.duration = int((end - start) * 1000)
    out.mux(packet)


def write_test_sequence(folder: Path, numbers, name: str = "a_{:04d}.png", width: int = 192, height: int = 108,
                        fps: float = 24.0, alpha: bool = False, deep: bool = False, seed: int = 0) -> list[np.ndarray]:
    """Write the test scene as numbered pictures ``folder/name.format(number)`` (PNG, TIFF or JPEG by
    the name's extension) and return the RGB pictures written. ``alpha`` adds a moving alpha ramp
    (``scene_alpha``); ``deep`` writes 16 bits a channel (PNG, TIFF)."""
    from .sequence_output import encode_still

    scene = TestScene(width, height, seed=seed)
    folder.mkdir(parents=True, exist_ok=True)
    pictures = []
    for number in numbers:
        image = scene.frame(number / fps)
        suffix = Path(name).suffix
        if alpha:
            frame = av.VideoFrame.from_ndarray(np.dstack([image, scene_alpha(width, height, number)]), format="rgba")
        elif deep:
            frame = av.VideoFrame.from_ndarray(image.astype(np.uint16) * 257, format="rgb48le")
            frame = frame.reformat(format="rgb48be" if suffix == ".png" else "rgb48le")
        else:
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            if suffix in (".jpg", ".jpeg"):
                frame = frame.reformat(format="yuvj444p")
        (folder / name.format(number)).write_bytes(encode_still(frame, suffix))
        pictures.append(image)
    return pictures


def scene_alpha(width: int, height: int, number: int) -> np.ndarray:
    """The alpha plane of picture ``number`` of a test sequence: a ramp that moves with the number."""
    xx = np.arange(width)[None, :] + np.zeros((height, 1), int)
    return ((xx * 3 + number * 10) % 256).astype(np.uint8)

