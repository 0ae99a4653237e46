"""Widgets, table models and dialogs; never imports httpx or keyring."""
