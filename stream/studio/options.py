"""What ``stylecast studio`` takes (``StudioOptions``): the folder it works in, where it listens, and
how it renders. Light to import: the command line reads its defaults from here."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engines.errors import InputError, OptionError
from stream.cluster.chunk_plan import CHUNK_SECONDS
from stream.web.site import SiteOptions


@dataclass(kw_only=True)
class StudioOptions(SiteOptions):
    folder: Path
    port: int = 8090
    cluster: str | None = None   # a Ray address for the renders; None: chunks rendered here
    chunk_seconds: float = CHUNK_SECONDS
    max_upload_mb: int = 4096

    def check(self) -> None:
        if not self.folder.is_dir():
            raise InputError(f"studio folder not found: {self.folder}")
        super().check()
        if not 1 <= self.chunk_seconds <= 3600:
            raise OptionError(f"--chunk-seconds must be between 1 and 3600, got {self.chunk_seconds:g}")
        if self.max_upload_mb < 1:
            raise OptionError(f"--max-upload-mb must be at least 1, got {self.max_upload_mb}")
        if self.cluster is not None:
            from stream.cluster.address import parse_cluster

            parse_cluster(self.cluster)
