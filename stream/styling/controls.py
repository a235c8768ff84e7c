"""The look a job applies, as one value: style, strength, keep_colors and stability.

Render, live, the live control endpoint and each WebRTC session hold a :class:`Controls` and
change it the same way: ``controls.updated(**fields)`` checks the new values and returns a new
object (it is frozen, so a frame never sees half of a change). ``parse_controls`` is the one
reader of the control messages that arrive as JSON (``POST /style``, the data channel).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields, replace
from functools import cached_property

from engines import DEFAULT_STYLE, Mix
from engines.errors import OptionError
from stream.temporal.stabilize import DEFAULT_STABILITY


def _unit(name: str, value) -> float:
    """A number from 0 to 1 (a bool is not a number here)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise OptionError(f"{name} must be a number between 0 and 1, got {value!r}")
    if not 0.0 <= float(value) <= 1.0:
        raise OptionError(f"{name} must be between 0 and 1, got {value:g}")
    return float(value)


@dataclass(frozen=True)
class Controls:
    """``style``: a style spec (name, index, blend, picture, model; resolved by whoever runs it);
    ``strength`` 0..1: how much of the style; ``keep_colors``: stylized brightness, original colours;
    ``stability`` 0..1: how strongly texture is held still between frames (0: off)."""

    style: str = DEFAULT_STYLE
    strength: float = 1.0
    keep_colors: bool = False
    stability: float = DEFAULT_STABILITY

    def __post_init__(self):
        if not isinstance(self.style, str) or not self.style.strip():
            raise OptionError(f"style must be a non-empty text, got {self.style!r}")
        if not isinstance(self.keep_colors, bool):
            raise OptionError(f"keep_colors must be true or false, got {self.keep_colors!r}")
        object.__setattr__(self, "strength", _unit("strength", self.strength))
        object.__setattr__(self, "stability", _unit("stability", self.stability))

    def updated(self, **fields) -> Controls:
        """A copy with ``fields`` changed (None leaves a field as it is), checked whole."""
        unknown = set(fields) - set(FIELDS)
        if unknown:
            raise OptionError(f"unknown control {sorted(unknown)[0]!r}; use {', '.join(FIELDS)}")
        return replace(self, **{k: v for k, v in fields.items() if v is not None})

    @cached_property
    def mix(self) -> Mix:
        """What the engine applies after the network: strength and keep_colors (made once: read every frame)."""
        return Mix(self.strength, self.keep_colors)

    def as_dict(self) -> dict:
        return asdict(self)


FIELDS = tuple(f.name for f in fields(Controls))  # the look's fields, the one list: style, strength, keep_colors, stability
VALUES = FIELDS[1:]  # what a look sets besides its style (mixed after the network, or the stabilizer's)


def values_in(look: dict) -> dict:
    """The look's values besides its style, from a look as a looks file or the page writes it."""
    return {k: look[k] for k in VALUES if k in look}


MOVE_FIELDS = ("span", "ease")  # a change that moves over ``span`` seconds, arriving by ``ease``
MAX_SPAN_S = 600.0


def move_span(span) -> float:
    """``span`` seconds checked (None: 0, a change at once)."""
    if span is None:
        return 0.0
    if isinstance(span, bool) or not isinstance(span, (int, float)) or not 0.0 <= float(span) <= MAX_SPAN_S:
        raise OptionError(f"span must be seconds from 0 to {MAX_SPAN_S:g}, got {span!r}")
    return float(span)


def parse_controls(message: bytes | str) -> dict:
    """A control message, JSON ``{"style", "strength", "keep_colors", "stability"}`` (any subset,
    with ``"span": seconds`` and ``"ease"`` to move there over time) -> the fields to pass to
    ``Stylist.control``; OptionError with the reason otherwise."""
    try:
        fields = json.loads(message or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise OptionError(f"the body is not JSON: {exc}") from None
    if not isinstance(fields, dict) or not set(fields) <= set(FIELDS + MOVE_FIELDS):
        raise OptionError(f"send a JSON object with any of {', '.join(FIELDS + MOVE_FIELDS)}")
    return fields
