"""Shared plumbing of the console: what every app builds on and nothing of a
feature. The lowest layer: it imports Django and the standard library, never an
app of this project (tests/test_layers.py holds that; ARCHITECTURE.md shows the
layers)."""
