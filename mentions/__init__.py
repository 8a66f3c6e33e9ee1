"""mentions: a command-line brand-mention monitor."""

__version__ = "0.1.0"
