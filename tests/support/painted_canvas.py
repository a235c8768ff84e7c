"""A painted keyframe with a known answer on every frame: a textured canvas panning under a painting.

The canvas (the built-in scene's textured background, stretched) pans ``step`` pixels a frame to
the left; the painting is a built-in style applied once to the whole canvas, so the right answer
for every frame is the same crop of the painted canvas, and undoing the motion is a shift of
``step`` pixels. The tests and bench/keyframe.py paint one frame with it and check the rest.
"""
from __future__ import annotations

import cv2
import numpy as np

from engines import open_engine
from stream.media.testsrc import TestScene

MARGIN = 16  # pixels of canvas around every crop (the painting's borders stay out of the answers)


class PaintedCanvas:
    """``frames`` frames of ``width`` x ``height`` at ``fps``; ``frame(t)`` the source at ``t``
    seconds (as the test scene's), ``answer(i)`` frame i as the painting has it."""

    def __init__(self, width: int, height: int, frames: int, fps: int = 25, step: int = 4,
                 style: str = "starry-night", seed: int = 3):
        self.width, self.height, self.frames, self.fps, self.step = width, height, frames, fps, step
        wide = width + step * frames + 2 * MARGIN
        # the test scene's background is (2w + 64) x (h + 64) pixels
        scene = TestScene(max(16, -(-(wide - 64) // 2)), max(16, height + 2 * MARGIN - 64), seed=seed)
        self.canvas = np.ascontiguousarray(scene.background[:height + 2 * MARGIN, :wide])
        self.painted = open_engine("cpu", style).stylize_one(self.canvas)

    def _crop(self, image: np.ndarray, i: int) -> np.ndarray:
        x = MARGIN + self.step * i
        return np.ascontiguousarray(image[MARGIN:MARGIN + self.height, x:x + self.width])

    def source(self, i: int) -> np.ndarray:
        return self._crop(self.canvas, i)

    def answer(self, i: int) -> np.ndarray:
        return self._crop(self.painted, i)

    def frame(self, t: float) -> np.ndarray:
        return self.source(min(self.frames - 1, int(round(t * self.fps))))

    def seen(self, i: int, key: int) -> np.ndarray:
        """Frame i's pixels that frame ``key`` showed too (the columns the pan has not brought in since)."""
        mask = np.zeros((self.height, self.width), bool)
        s = min(self.width, self.step * abs(i - key))
        mask[:, :self.width - s] = i >= key
        mask[:, s:] |= i < key
        return mask

    def temporal_error(self, frames: list[np.ndarray]) -> float:
        """Mean absolute change (0-255) between consecutive frames once the pan is undone."""
        s, w = self.step, self.width
        return float(np.mean([np.abs(b[:, :w - s].astype(np.int16) - a[:, s:]).mean() for a, b in zip(frames, frames[1:])]))


MOTIONS = ("pan", "zoom", "rotate", "object")


class MovingCanvas:
    """Painted shots with a known answer under other motions (issue #39's bench cases), with the
    interface of ``PaintedCanvas`` plus where each frame shows what the keyframe saw:

    - ``zoom``: the camera pushes in about the centre, 1.0x to 1.4x over the shot;
    - ``rotate``: the camera turns about the centre, 0 to 12 degrees;
    - ``object``: a still canvas with a textured disc (a piece of the canvas) crossing it, 3 px a frame.

    ``source(i)`` and ``answer(i)`` are the canvas and the painted canvas through the same motion;
    ``seen(i, key)`` is a boolean mask of frame i's pixels that frame ``key`` showed too, and
    ``temporal_error(frames)`` the mean change between consecutive frames with the motion undone."""

    def __init__(self, width: int, height: int, frames: int, motion: str, fps: int = 25,
                 style: str = "starry-night", seed: int = 3):
        if motion not in MOTIONS[1:]:
            raise ValueError(f"motion is one of {', '.join(MOTIONS[1:])}")
        self.width, self.height, self.frames, self.fps, self.motion = width, height, frames, fps, motion
        scene = TestScene(width, round(height * 1.5), seed=seed)  # background: (2w + 64) x (1.5h + 64)
        self.canvas = np.ascontiguousarray(scene.background)
        self.painted = open_engine("cpu", style).stylize_one(self.canvas)
        ch, cw = self.canvas.shape[:2]
        self.centre = np.array([cw / 2, ch / 2])
        self.radius, self.disc_from = height // 5, np.array([cw * 0.8, ch * 0.5])  # the disc's texture: elsewhere

    def _matrix(self, i: int) -> np.ndarray:
        """2x3: frame pixel -> canvas point."""
        t = i / max(1, self.frames - 1)
        scale = 1 / (1 + 0.4 * t) if self.motion == "zoom" else 1.0
        angle = np.radians(12 * t) if self.motion == "rotate" else 0.0
        rot = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        view_centre = np.array([self.width / 2, self.height / 2])
        return np.hstack([rot, (self.centre - rot @ view_centre)[:, None]])

    def _disc_x(self, i: int) -> float:
        return self.width * 0.15 + 3 * i

    def _disc(self, i: int) -> np.ndarray:
        yy, xx = np.mgrid[:self.height, :self.width]
        return (xx - self._disc_x(i)) ** 2 + (yy - self.height / 2) ** 2 < self.radius ** 2

    def _frame(self, image: np.ndarray, i: int) -> np.ndarray:
        if self.motion != "object":
            return cv2.warpAffine(image, self._matrix(i), (self.width, self.height),
                                  flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REFLECT)
        out = cv2.warpAffine(image, self._matrix(0), (self.width, self.height),
                             flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)
        shift = self.disc_from - np.array([self._disc_x(i), self.height / 2])
        texture = cv2.warpAffine(image, np.array([[1, 0, shift[0]], [0, 1, shift[1]]]), (self.width, self.height),
                                 flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)
        disc = self._disc(i)
        out[disc] = texture[disc]
        return out

    def source(self, i: int) -> np.ndarray:
        return self._frame(self.canvas, i)

    def answer(self, i: int) -> np.ndarray:
        return self._frame(self.painted, i)

    def frame(self, t: float) -> np.ndarray:
        return self.source(min(self.frames - 1, int(round(t * self.fps))))

    def _where_in(self, i: int, j: int) -> np.ndarray:
        """(h, w, 2) float32: where each pixel of frame i lies in frame j (camera motions)."""
        to_canvas, to_j = np.vstack([self._matrix(i), [0, 0, 1]]), np.vstack([self._matrix(j), [0, 0, 1]])
        m = (np.linalg.inv(to_j) @ to_canvas)[:2]
        yy, xx = np.mgrid[:self.height, :self.width].astype(np.float32)
        return np.dstack([m[0, 0] * xx + m[0, 1] * yy + m[0, 2], m[1, 0] * xx + m[1, 1] * yy + m[1, 2]]).astype(np.float32)

    def seen(self, i: int, key: int) -> np.ndarray:
        if self.motion == "object":  # the disc, and the canvas that neither frame's disc covers
            return self._disc(i) | ~(self._disc(i) | self._disc(key))
        where = self._where_in(i, key)
        return (where[..., 0] >= 0) & (where[..., 0] <= self.width - 1) & (where[..., 1] >= 0) & \
            (where[..., 1] <= self.height - 1)

    def object_mask(self, i: int) -> np.ndarray | None:
        """The moving object's pixels in frame i (``object`` only)."""
        return self._disc(i) if self.motion == "object" else None

    def temporal_error(self, frames: list[np.ndarray]) -> float:
        changes = []
        for i in range(1, len(frames)):
            if self.motion == "object":  # the still canvas away from the disc in both frames
                keep = ~(self._disc(i) | self._disc(i - 1))
                changes.append(np.abs(frames[i][keep].astype(np.int16) - frames[i - 1][keep]).mean())
                continue
            where = self._where_in(i, i - 1)
            back = cv2.remap(frames[i - 1], where, None, cv2.INTER_LINEAR)
            inside = self.seen(i, i - 1)
            changes.append(np.abs(frames[i][inside].astype(np.int16) - back[inside]).mean())
        return float(np.mean(changes))


CAMERA_MOVES = ("pan", "zoom", "rotate", "zoompan", "tilt")
PHOTO_MOTIONS = (*CAMERA_MOVES, "object")


class PhotoCanvas:
    """A painted shot over a real photograph (issue #47's cases), each frame's answer known: the
    photograph seen through a camera move, and its painting (a built-in style run once over the whole
    photograph at ``paint_scale`` times its size, then brought back: finer strokes than a frame's own)
    seen through the same move, resampled once with Lanczos (the true warp).

    Moves, over ``frames`` frames (``u`` from 0 to 1; ``s`` seconds):
    ``pan`` 4 px a frame; ``zoom`` in 1.0x to 1.4x; ``rotate`` 0 to 12 degrees; ``zoompan`` in 1.0x to
    1.25x over 3 s while panning 2 px a frame; ``tilt`` the camera tipping back (a keystone growing to
    8% of the width, and a slight push in); ``object`` a textured disc crossing the still photograph,
    3 px a frame. ``homography(i)`` maps frame i's pixels to the photograph's; ``where_in(i, j)``
    frame i's pixels to frame j's; ``seen(i, key)`` the pixels of frame i that frame ``key`` showed."""

    def __init__(self, photo: np.ndarray, width: int, height: int, frames: int, motion: str, fps: int = 25,
                 style: str = "mosaic", paint_scale: float = 2.0):
        if motion not in PHOTO_MOTIONS:
            raise ValueError(f"motion is one of {', '.join(PHOTO_MOTIONS)}")
        self.width, self.height, self.frames, self.fps, self.motion = width, height, frames, fps, motion
        cover = max(1.3 * width / photo.shape[1], 1.3 * height / photo.shape[0], 1.0)
        self.photo = cv2.resize(photo, (round(photo.shape[1] * cover), round(photo.shape[0] * cover)),
                                interpolation=cv2.INTER_CUBIC) if cover > 1 else np.ascontiguousarray(photo)
        ph, pw = self.photo.shape[:2]
        big = cv2.resize(self.photo, (round(pw * paint_scale), round(ph * paint_scale)), interpolation=cv2.INTER_CUBIC)
        self.painted = cv2.resize(open_engine("cpu", style).stylize_one(big), (pw, ph), interpolation=cv2.INTER_AREA)
        self.centre = np.array([pw / 2, ph / 2])
        self.radius = height // 5

    def homography(self, i: int) -> np.ndarray:
        """3x3: frame i's pixel -> the photograph's point."""
        u, s = i / max(1, self.frames - 1), i / self.fps
        scale, angle, shift, tip = 1.0, 0.0, np.zeros(2), 0.0
        if self.motion == "pan":
            shift = np.array([4.0 * i - 2.0 * self.frames, 0.0])
        elif self.motion == "zoom":
            scale = 1 / (1 + 0.4 * u)
        elif self.motion == "rotate":
            angle = np.radians(12 * u)
        elif self.motion == "zoompan":
            scale, shift = 1 / (1 + 0.25 * min(s / 3, 1)), np.array([2.0 * i - self.frames, 0.0])
        elif self.motion == "tilt":
            scale, tip = 1 / (1 + 0.1 * u), 0.08 * u / self.height
        rot = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        view = np.array([self.width / 2, self.height / 2])
        to_centre = np.array([[1, 0, -view[0]], [0, 1, -view[1]], [0, 0, 1]])
        keystone = np.array([[1, 0, 0], [0, 1, 0], [0, tip, 1]])  # the top of the frame comes nearer
        place = np.array([[rot[0, 0], rot[0, 1], self.centre[0] + shift[0]],
                          [rot[1, 0], rot[1, 1], self.centre[1] + shift[1]], [0, 0, 1]])
        return place @ keystone @ to_centre

    def where_in(self, i: int, j: int) -> np.ndarray:
        """(h, w, 2) float32: where each pixel of frame i lies in frame j (the camera's move)."""
        m = np.linalg.inv(self.homography(j)) @ self.homography(i)
        yy, xx = np.mgrid[:self.height, :self.width].astype(np.float32)
        points = np.dstack([xx, yy]).reshape(-1, 1, 2)
        return cv2.perspectiveTransform(points, m).reshape(self.height, self.width, 2).astype(np.float32)

    def _disc_x(self, i: int) -> float:
        return self.width * 0.15 + 3 * i

    def _disc(self, i: int) -> np.ndarray:
        yy, xx = np.mgrid[:self.height, :self.width]
        return (xx - self._disc_x(i)) ** 2 + (yy - self.height / 2) ** 2 < self.radius ** 2

    def _frame(self, image: np.ndarray, i: int, flags: int) -> np.ndarray:
        if self.motion != "object":
            return cv2.warpPerspective(image, self.homography(i), (self.width, self.height),
                                       flags=flags | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REFLECT)
        still = cv2.warpPerspective(image, self.homography(0), (self.width, self.height),
                                    flags=flags | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REFLECT)
        # the disc: a piece of the photograph from elsewhere (its lower right), moving over the still one
        offset = np.array([[1, 0, self.width * 0.6 - self._disc_x(i) + self.width * 0.15],
                           [0, 1, self.height * 0.3], [0, 0, 1]])
        texture = cv2.warpPerspective(image, self.homography(0) @ offset, (self.width, self.height),
                                      flags=flags | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REFLECT)
        disc = self._disc(i)
        still[disc] = texture[disc]
        return still

    def source(self, i: int) -> np.ndarray:
        return self._frame(self.photo, i, cv2.INTER_CUBIC)

    def answer(self, i: int) -> np.ndarray:
        return self._frame(self.painted, i, cv2.INTER_LANCZOS4)

    def frame(self, t: float) -> np.ndarray:
        return self.source(min(self.frames - 1, int(round(t * self.fps))))

    def seen(self, i: int, key: int) -> np.ndarray:
        if self.motion == "object":  # the disc, and the photograph that neither frame's disc covers
            return self._disc(i) | ~(self._disc(i) | self._disc(key))
        where = self.where_in(i, key)
        return (where[..., 0] >= 0) & (where[..., 0] <= self.width - 1) & (where[..., 1] >= 0) & \
            (where[..., 1] <= self.height - 1)

    def object_mask(self, i: int) -> np.ndarray | None:
        """The moving object's pixels in frame i (``object`` only)."""
        return self._disc(i) if self.motion == "object" else None
