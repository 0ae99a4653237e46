"""The domain without Qt: credentials, media probing, settings and paths."""
