"""Which virtual cameras this machine can show, for ``stylecast doctor``: a PipeWire camera node
and v4l2loopback devices."""
from __future__ import annotations

from pathlib import Path

from .pipewire_camera import pipewire_problem


def camera_rows() -> list[dict]:
    """doctor's rows for ``--sink pipewire`` and ``--sink vcam``'s v4l2loopback devices."""
    problem = pipewire_problem()
    loopbacks = sorted(f"/dev/{p.parent.name}" for p in Path("/sys/devices/virtual/video4linux").glob("video*/name"))
    return [
        {"name": "pipewire", "kind": "camera", "available": problem is None,
         "reason": "a PipeWire camera node can be made (--sink pipewire, or vcam without v4l2loopback)"
                   if problem is None else problem},
        {"name": "v4l2loop", "kind": "camera", "available": bool(loopbacks),
         "reason": f"v4l2loopback devices: {', '.join(loopbacks)}" if loopbacks
                   else "no v4l2loopback device (sudo modprobe v4l2loopback exclusive_caps=1 card_label=stylecast)"},
    ]

