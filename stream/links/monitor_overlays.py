"""What a set monitor draws over the picture (``--sink window``, stream/links/monitor_window.py), on
numpy RGB pictures, so it is the same with or without a screen:

- the before/after wipe: the source left of the line, the stylized feed right of it;
- frame lines: where a 2.39, 1.85 or 16:9 frame sits inside the picture (the part outside is dimmed);
- safe areas: action safe (93%) and title safe (90%) of the picture, as EBU R 95 draws them;
- the status corner: frames shown a second, dropped, flicker.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

FRAME_LINES = (None, 2.39, 1.85, 16 / 9)   # G cycles through these
SAFE_AREAS = (0.93, 0.90)                   # action safe, title safe
LINE = (255, 214, 10)                       # frame lines
SAFE = (230, 230, 230)
WIPE = (255, 255, 255)


@dataclass
class MonitorState:
    """What the operator has set with the keys."""

    wipe: float | None = None   # where the split is, 0..1 across (None: the stylized feed alone)
    lines: int = 0              # index into FRAME_LINES
    safe: bool = False
    status: bool = True

    def key(self, name: str, fine: bool = False) -> None:
        """One key press: arrows move the wipe (5%, or 1% with Shift; the first press shows it at
        the middle), B shows or hides it, G the next frame lines, S the safe areas, I the status."""
        step = 0.01 if fine else 0.05
        if name in ("left", "right"):
            self.wipe = 0.5 if self.wipe is None else min(1.0, max(0.0, self.wipe + (step if name == "right" else -step)))
        elif name == "b":
            self.wipe = None if self.wipe is not None else 0.5
        elif name == "g":
            self.lines = (self.lines + 1) % len(FRAME_LINES)
        elif name == "s":
            self.safe = not self.safe
        elif name == "i":
            self.status = not self.status


def compose(after: np.ndarray, before: np.ndarray | None, state: MonitorState, status: str = "") -> np.ndarray:
    """The picture the monitor shows (same size as ``after``), overlays drawn in."""
    out = after.copy()
    h, w = out.shape[:2]
    if state.wipe is not None and before is not None and before.shape == after.shape:
        x = round(state.wipe * w)
        out[:, :x] = before[:, :x]
        cv2.line(out, (min(x, w - 1), 0), (min(x, w - 1), h - 1), WIPE, max(2, w // 320))
        _label(out, "before", (8, h - 10), visible=x > 70)
        _label(out, "after", (w - 60, h - 10), visible=w - x > 70)
    ratio = FRAME_LINES[state.lines]
    if ratio is not None:
        _frame_lines(out, ratio)
    if state.safe:
        for share in SAFE_AREAS:
            mx, my = round(w * (1 - share) / 2), round(h * (1 - share) / 2)
            cv2.rectangle(out, (mx, my), (w - 1 - mx, h - 1 - my), SAFE, 1, cv2.LINE_AA)
    if state.status and status:
        _status(out, status)
    return out


def frame_box(width: int, height: int, ratio: float) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of a ``ratio`` frame centred in a width x height picture, as large as fits."""
    if width / height > ratio:  # narrower than the picture: lines left and right
        inner = round(height * ratio)
        x0 = (width - inner) // 2
        return x0, 0, x0 + inner, height
    inner = round(width / ratio)
    y0 = (height - inner) // 2
    return 0, y0, width, y0 + inner


def _frame_lines(out: np.ndarray, ratio: float) -> None:
    h, w = out.shape[:2]
    x0, y0, x1, y1 = frame_box(w, h, ratio)
    outside = np.ones((h, w), bool)
    outside[y0:y1, x0:x1] = False
    out[outside] = (out[outside] * 0.45).astype(np.uint8)  # what the frame leaves out, dimmed
    cv2.rectangle(out, (x0, y0), (x1 - 1, y1 - 1), LINE, 2)
    _label(out, f"{ratio:.2f}" if abs(ratio - 16 / 9) > 1e-3 else "16:9", (x0 + 6, y0 + 20))


def _status(out: np.ndarray, text: str) -> None:
    (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.45, 1)
    h, w = out.shape[:2]
    x0, y0 = max(0, w - tw - 14), 0
    out[y0:y0 + th + 12, x0:w] = (out[y0:y0 + th + 12, x0:w] * 0.3).astype(np.uint8)
    cv2.putText(out, text, (x0 + 7, y0 + th + 5), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1, cv2.LINE_AA)


def _label(out: np.ndarray, text: str, at: tuple[int, int], visible: bool = True) -> None:
    if visible:
        cv2.putText(out, text, at, cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 3, cv2.LINE_AA)
        cv2.putText(out, text, at, cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
