"""What ``stylecast serve`` takes (``ServeOptions``): the look and engine every job takes, where it
listens, and its own: how many viewers, how they are batched, how long a silent one is kept. Light
to import: the command line reads its defaults from here before any server is started."""
from __future__ import annotations

from dataclasses import dataclass, field

from engines import resolve
from engines.errors import OptionError
from stream.edit.painted import TrainingOptions
from stream.styling.options import StyleOptions
from stream.web.site import SiteOptions

BATCH_CHOICES = ("auto", "on", "off")
WAIT_MS = 4.0       # the longest a viewer's frame waits for others to join its batch (stream/serve/batcher.py)
MAX_WAIT_MS = 100.0
IDLE_S = 9.0        # a viewer with no camera frame for this long is let go: gone within 10 s


@dataclass(kw_only=True)
class ServeOptions(StyleOptions, SiteOptions, TrainingOptions):
    max_side: int | None = 640
    max_sessions: int | None = None   # None: 80% of the viewers this machine holds, measured at start
    stun: list[str] = field(default_factory=list)
    ice_addresses: list[str] | None = None
    offers_per_window: int = 10       # per client address per offer_limiter.WINDOW_S; more get 429
    adapt: bool = True                # each viewer's network size follows what the machine keeps up with
    batch: str = "auto"               # viewers' frames in batches: on, off, auto (where the engine batches, on a GPU)
    batch_wait_ms: float = WAIT_MS    # the longest a viewer's frame waits for others to join its batch
    idle_s: float = IDLE_S            # a viewer whose camera sends nothing this long (seconds) is let go

    def check(self) -> None:
        StyleOptions.check(self)
        SiteOptions.check(self)
        self.budget()
        if self.offers_per_window < 1:
            raise OptionError(f"--offer-rate must be at least 1, got {self.offers_per_window}")
        if self.max_sessions is not None and self.max_sessions < 1:
            raise OptionError(f"--max-sessions must be at least 1, got {self.max_sessions}")
        for url in self.stun:
            if not url.startswith(("stun:", "turn:", "turns:")):
                raise OptionError(f"--stun takes a stun: or turn: URL, got {url!r}")
        if self.batch not in BATCH_CHOICES:
            raise OptionError(f"--batch takes {', '.join(BATCH_CHOICES)}, got {self.batch!r}")
        if not 0 <= self.batch_wait_ms <= MAX_WAIT_MS:
            raise OptionError(f"--batch-wait must be 0 to {MAX_WAIT_MS:g} ms, got {self.batch_wait_ms:g}")
        if not 1 <= self.idle_s <= 3600:
            raise OptionError(f"--idle-timeout must be 1 to 3600 seconds, got {self.idle_s:g}")
        if resolve(self.style).kind != "builtin":
            raise OptionError("serve's --style takes a built-in style or blend (viewers upload their own pictures)")
