"""Which of live's ways in and out beyond PyAV this machine can use, for ``stylecast doctor``: a
PipeWire camera node, v4l2loopback devices, NDI and a monitor window."""
from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from .pipewire_camera import pipewire_problem


def live_rows() -> list[dict]:
    """doctor's rows for ``--sink pipewire``, ``--sink vcam``'s v4l2loopback devices, ``ndi://``
    and ``--sink window``."""
    from .ndi import ndi_problem

    problem = pipewire_problem()
    loopbacks = sorted(f"/dev/{p.parent.name}" for p in Path("/sys/devices/virtual/video4linux").glob("video*/name"))
    ndi = ndi_problem()
    window = ("the window sink needs pygame-ce: pip install 'stylecast[window]'"
              if importlib.util.find_spec("pygame") is None else
              "no screen here (DISPLAY is not set)" if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
              else None)
    return [
        {"name": "pipewire", "kind": "camera", "available": problem is None,
         "reason": "a PipeWire camera node can be made (--sink pipewire, or vcam without v4l2loopback)"
                   if problem is None else problem},
        {"name": "v4l2loop", "kind": "camera", "available": bool(loopbacks),
         "reason": f"v4l2loopback devices: {', '.join(loopbacks)}" if loopbacks
                   else "no v4l2loopback device (sudo modprobe v4l2loopback exclusive_caps=1 card_label=stylecast)"},
        {"name": "ndi", "kind": "live", "available": ndi is None,
         "reason": "NDI in and out (ndi://NAME, or ndi://HOST:PORT where discovery's multicast is blocked)"
                   if ndi is None else ndi},
        {"name": "window", "kind": "live", "available": window is None,
         "reason": f"a monitor window on {os.environ.get('DISPLAY') or os.environ.get('WAYLAND_DISPLAY')}"
                   if window is None else window},
    ]
