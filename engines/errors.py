"""Typed errors. Each carries one sentence a user can act on; the CLI prints it and exits 2."""


class StylecastError(Exception):
    """Base class for every error stylecast reports to a user."""


class StyleError(StylecastError):
    """A style that cannot be found, parsed or loaded."""


class EngineUnavailable(StylecastError):
    """An engine asked for by name that cannot run on this machine."""


class InputError(StylecastError):
    """An input that is missing, unreadable, not a video, or damaged."""


class OutputError(StylecastError):
    """An output that cannot be written, or would overwrite something without --overwrite."""


class OptionError(StylecastError):
    """A number or option out of its range."""
