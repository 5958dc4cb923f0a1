"""Clientbook: an open-source customer platform for one-to-one marketing."""

__version__ = "0.1.0"
