"""Offline corpus tooling: expand the bundled candidates into a nightly-scale batch."""
