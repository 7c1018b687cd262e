"""Errors the media relay raises; aiortc's are translated where they enter."""

from __future__ import annotations

__all__ = ("AiortcInternalsChanged", "MediaError", "NegotiationFailed", "UnknownViewer")


class MediaError(Exception):
    """Root of the media relay's errors."""


class NegotiationFailed(MediaError):
    """An SDP offer or answer could not be used (malformed, or no VP8/Opus to forward)."""


class UnknownViewer(MediaError):
    """An answer arrived for a viewer session that does not exist (any more)."""


class AiortcInternalsChanged(MediaError):
    """The private aiortc parts the relay relies on are not what this version expects."""
