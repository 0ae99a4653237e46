"""Chamelaion Desktop: lip-sync a video to a new audio track through the Chamelaion API."""

__version__ = "0.1.0"
